/* One cookie model for the guard, at least as generous as every mainstream
 * backend's parser (docs/guard.md, "How backends read cookies").
 *
 * Names: a cookie in the request is a copy of a configured name when some
 * backend would read it under that name: Unicode and Latin-1 whitespace
 * trimmed (Werkzeug, Django, Node), percent-decoded (PHP before 8.0.24, Rack
 * before 2.1.4), PHP's mangling ('.' and ' ' become '_', an unclosed '['
 * becomes '_', "NAME[x]" is an array named NAME), or compared without case
 * (ASP.NET Core).
 *
 * Values: a value stands for every byte string some backend resolves it to:
 * as carried, quotes stripped (strictly, or Node cookie 0.x's "first byte is
 * a quote" rule), backslash and octal escapes inside quotes decoded (Python
 * http.cookies, Werkzeug, Django), percent-decoded with or without '+' as a
 * space (PHP, Node cookie, Rack, ASP.NET), cut at whitespace (Python
 * http.cookies). The guard looks every form up, and binds the app's
 * Set-Cookie value under every form, so two spellings that one backend
 * resolves to one session always share a key.
 *
 * The same value rules serve the request's Cookie header and the app's
 * Set-Cookie (bcl_set_cookie_parse returns the value as the browser stores
 * it; the caller takes its forms). */
#ifndef BCL_COOKIE_CANON_H
#define BCL_COOKIE_CANON_H

#include <apr_pools.h>
#include <apr_tables.h>

/* Why a copy is unlike anything a browser sends back for a cookie it was
 * given by the app (flags). */
#define BCL_COOKIE_ODD_NAME  0x01  /* the name is not byte for byte the configured one */
#define BCL_COOKIE_ODD_VALUE 0x02  /* escapes, quotes that are no pair, odd %XX, bytes outside RFC 6265 cookie-octet */
#define BCL_COOKIE_ODD_SPLIT 0x04  /* seen only by a parser that splits at whitespace or reads quoted strings over ';' and ',' */
#define BCL_COOKIE_ODD_MULTI 0x08  /* several copies of one name with different values */

/* Most forms one value has (bcl_cookie_value_forms). */
#define BCL_COOKIE_MAX_FORMS 12

/* 1 when a cookie named `name` (nlen bytes, as in the header) is read by
 * some mainstream backend as the cookie `guarded`. */
int bcl_cookie_name_is_copy(const char *name, apr_size_t nlen, const char *guarded);

/* The distinct byte strings that some backend resolves `v` to (the value as
 * carried, space and tab trimmed), the value itself first. Pool strings
 * (NUL-terminated; lens[i] is the length). Returns how many, at most `max`
 * (BCL_COOKIE_MAX_FORMS is always enough). */
int bcl_cookie_value_forms(apr_pool_t *p, const char *v, apr_size_t vlen, const char **forms,
                           apr_size_t *lens, int max);

/* BCL_COOKIE_ODD_VALUE when a value holds anything no app's encoder or
 * browser produces: bytes outside RFC 6265 cookie-octet (a surrounding pair
 * of quotes excepted), '%' without two hex digits, lower-case %xx, or %XX
 * encoding a letter, a digit, '-', '.' or '_'. 0 otherwise. */
int bcl_cookie_value_odd(const char *v, apr_size_t vlen);

/* One copy of a configured cookie in a Cookie header. */
typedef struct {
    const char *name;          /* the configured name it is a copy of */
    const char *raw_name;      /* the name as carried (points into the header) */
    apr_size_t raw_nlen;
    const char *value;         /* the value as carried, space and tab trimmed (into the header) */
    apr_size_t vlen;
    /* The value as a parser that splits pairs at ';' only reads it (PHP,
     * Werkzeug, Node, Python): the pair's value runs over ',' up to the next
     * ';' ("APP=abc,def": PHP's session id is "abc,def"). NULL (vlen_semi 0)
     * when no ',' cuts the value. Looked up like `value`; not counted as
     * another copy. */
    const char *value_semi;
    apr_size_t vlen_semi;
    int odd;                   /* BCL_COOKIE_ODD_* */
} bcl_cookie_copy_t;

/* Every copy of every name in `names` (of const char*) in a Cookie header,
 * by the generous rules above: pairs split at ';' and ',' (httpd joins
 * header lines with ", "; a value cut at ',' is also read up to the next
 * ';', value_semi), pairs that start after whitespace (Python http.cookies,
 * where a value holds ',' too: "X=1,y APP=2"), and quoted values that run
 * over ';' or ',' (Werkzeug, Python). Fills at most `max` entries of `out`; returns how
 * many copies there are in all (may exceed `max`). Several copies of one
 * name with different non-empty values get BCL_COOKIE_ODD_MULTI. */
int bcl_cookie_copies(const char *header, const apr_array_header_t *names, bcl_cookie_copy_t *out,
                      int max);

/* The Cookie header without any ';'/','-separated pair that holds a copy
 * (as bcl_cookie_copies finds them) of the names in `names`; NULL when
 * nothing is left. */
const char *bcl_cookie_remove(apr_pool_t *p, const char *header, const apr_array_header_t *names);

/* 1 when `name` can be written as a cookie name in a Set-Cookie header (an
 * RFC 9110 token), so that the guard may expire it. */
int bcl_cookie_name_is_token(const char *name, apr_size_t nlen);

#endif
