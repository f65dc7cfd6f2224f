/* The guard's cookie model: which request cookies are copies of a configured
 * one, and which byte strings a value stands for (bcl_cookie_canon.h). */
#include <stdint.h>
#include <string.h>
#include <apr_strings.h>
#include "bcl_cookie_canon.h"

/* A name longer than this (after trimming) is not normalised: it is taken
 * for a suspicious copy, since padding may hide a guarded name. */
#define NAME_KEY_MAX 1024

static int is_ows(unsigned char c)
{
    return c == ' ' || c == '\t';
}

/* ASCII whitespace as Python's re (\s) and C's isspace() see it. */
static int is_ascii_ws(unsigned char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

/* Whitespace that some backend trims around a name or value, as single
 * bytes (Latin-1 readings: Python str.strip(), JavaScript trim()) or UTF-8
 * sequences (Werkzeug and Django decode the header as UTF-8 first). */
static int is_ws_byte(unsigned char c)
{
    return is_ascii_ws(c) || (c >= 0x1c && c <= 0x1f) || c == 0x85 || c == 0xa0;
}

static apr_size_t utf8_ws_len(const unsigned char *p, apr_size_t n)
{
    if (n >= 2 && p[0] == 0xc2 && (p[1] == 0x85 || p[1] == 0xa0))
        return 2;
    if (n >= 3 && p[0] == 0xe1 && ((p[1] == 0x9a && p[2] == 0x80) || (p[1] == 0xa0 && p[2] == 0x8e)))
        return 3;
    if (n >= 3 && p[0] == 0xe2 && p[1] == 0x80
        && (p[2] <= 0x8a || p[2] == 0xa8 || p[2] == 0xa9 || p[2] == 0xaf) && p[2] >= 0x80)
        return 3;
    if (n >= 3 && p[0] == 0xe2 && p[1] == 0x81 && p[2] == 0x9f)
        return 3;
    if (n >= 3 && p[0] == 0xe3 && p[1] == 0x80 && p[2] == 0x80)
        return 3;
    if (n >= 3 && p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf)
        return 3;
    return 0;
}

/* Trims every kind of whitespace above from both ends of [*s, *s + *n). */
static void ext_trim(const char **s, apr_size_t *n)
{
    const unsigned char *a = (const unsigned char *)*s, *b = a + *n;
    for (;;) {
        apr_size_t k = utf8_ws_len(a, (apr_size_t)(b - a));
        if (k == 0 && a < b && is_ws_byte(*a))
            k = 1;
        if (k == 0)
            break;
        a += k;
    }
    while (b > a) {
        apr_size_t k = 0;
        if (b - a >= 3 && utf8_ws_len(b - 3, 3) == 3)
            k = 3;
        else if (b - a >= 2 && utf8_ws_len(b - 2, 2) == 2)
            k = 2;
        else if (is_ws_byte(b[-1]))
            k = 1;
        if (k == 0)
            break;
        b -= k;
    }
    *s = (const char *)a;
    *n = (apr_size_t)(b - a);
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decodes [s, s + n) into out (room for n bytes): every valid %XX,
 * invalid ones kept (PHP, ASP.NET); '+' becomes a space when `plus` (PHP's
 * urldecode, Rack). Returns the length. */
static apr_size_t pct_decode(const char *s, apr_size_t n, int plus, char *out)
{
    apr_size_t o = 0;
    for (apr_size_t i = 0; i < n; i++) {
        int h, l;
        if (s[i] == '%' && i + 2 < n && (h = hexval((unsigned char)s[i + 1])) >= 0
            && (l = hexval((unsigned char)s[i + 2])) >= 0) {
            out[o++] = (char)(h * 16 + l);
            i += 2;
        } else if (plus && s[i] == '+') {
            out[o++] = ' ';
        } else {
            out[o++] = s[i];
        }
    }
    return o;
}

/* ASCII case folding, and the two non-ASCII letters whose invariant upper
 * case is ASCII (.NET's OrdinalIgnoreCase): U+017F -> s, U+0131 -> i; and
 * the Kelvin sign U+212A -> k. Folds in place; returns the new length. */
static apr_size_t fold_case(char *s, apr_size_t n)
{
    apr_size_t o = 0;
    for (apr_size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == 0xc5 && i + 1 < n && (unsigned char)s[i + 1] == 0xbf) {
            s[o++] = 's';
            i++;
        } else if (c == 0xc4 && i + 1 < n && (unsigned char)s[i + 1] == 0xb1) {
            s[o++] = 'i';
            i++;
        } else if (c == 0xe2 && i + 2 < n && (unsigned char)s[i + 1] == 0x84 && (unsigned char)s[i + 2] == 0xaa) {
            s[o++] = 'k';
            i += 2;
        } else {
            s[o++] = (char)((c >= 'A' && c <= 'Z') ? c + 32 : c);
        }
    }
    return o;
}

/* PHP's php_register_variable_ex: leading spaces dropped; ' ' and '.'
 * become '_' up to the first '['; "NAME[...]" (a ']' follows) is the array
 * NAME; an unclosed '[' becomes '_' and the rest is kept. In place. */
static apr_size_t php_mangle(char *s, apr_size_t n)
{
    apr_size_t skip = 0, i;
    while (skip < n && s[skip] == ' ')
        skip++;
    memmove(s, s + skip, n - skip);
    n -= skip;
    for (i = 0; i < n; i++) {
        if (s[i] == ' ' || s[i] == '.') {
            s[i] = '_';
        } else if (s[i] == '[') {
            if (memchr(s + i + 1, ']', n - i - 1) != NULL)
                return i;
            s[i] = '_';
            break;
        }
    }
    return n;
}

/* The comparison key of a name: trimmed, optionally percent-decoded (and
 * trimmed again), PHP-mangled, case-folded. `out` has room for NAME_KEY_MAX. */
static apr_size_t name_key(const char *s, apr_size_t n, int decode, char *out)
{
    char tmp[NAME_KEY_MAX];
    ext_trim(&s, &n);
    if (decode) {
        apr_size_t m = pct_decode(s, n, 1, tmp);
        const char *t = tmp;
        ext_trim(&t, &m);
        memmove(out, t, m);
        n = m;
    } else {
        memcpy(out, s, n);
    }
    n = php_mangle(out, n);
    return fold_case(out, n);
}

/* A name whose key (name_key) has its own length: no '%', '+', '[' and no
 * byte >= 0x80 (after trimming). */
static int keeps_length(const char *s, apr_size_t n)
{
    for (apr_size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '%' || c == '+' || c == '[' || c >= 0x80)
            return 0;
    }
    return 1;
}

int bcl_cookie_name_is_copy(const char *name, apr_size_t nlen, const char *guarded)
{
    char want[NAME_KEY_MAX], got[NAME_KEY_MAX];
    apr_size_t glen = strlen(guarded), wlen, g;
    const char *t = name;
    apr_size_t tn = nlen;

    if (nlen == glen && memcmp(name, guarded, glen) == 0)
        return 1;
    if (glen >= NAME_KEY_MAX)
        return 0;
    ext_trim(&t, &tn);
    if (tn == 0)
        return 0;
    /* too long to normalise here: padding may hide the name */
    if (tn >= NAME_KEY_MAX)
        return 1;
    /* the usual case, another cookie: keys of different lengths */
    if (tn != glen && keeps_length(t, tn) && keeps_length(guarded, glen))
        return 0;
    wlen = name_key(guarded, glen, 0, want);
    g = name_key(name, nlen, 0, got);
    if (g == wlen && memcmp(got, want, g) == 0)
        return 1;
    if (memchr(t, '%', tn) != NULL || memchr(t, '+', tn) != NULL) {
        g = name_key(name, nlen, 1, got);
        if (g == wlen && memcmp(got, want, g) == 0)
            return 1;
    }
    return 0;
}

int bcl_cookie_name_is_token(const char *name, apr_size_t nlen)
{
    static const char sep[] = "()<>@,;:\\\"/[]?={} \t";
    if (nlen == 0)
        return 0;
    for (apr_size_t i = 0; i < nlen; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c <= 0x20 || c >= 0x7f || strchr(sep, c) != NULL)
            return 0;
    }
    return 1;
}

/* Byte classes as bit sets over 0x00-0x7f (bit c of lo for c < 64, bit
 * c - 64 of hi): one test per byte on the guard's path. */
static int in_class(unsigned char c, uint64_t lo, uint64_t hi)
{
    return c < 64 ? (int)((lo >> c) & 1u) : c < 128 ? (int)((hi >> (c - 64)) & 1u) : 0;
}

/* RFC 6265 cookie-octet: %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E */
#define OCTET_LO 0xf7ffeffa00000000ULL
#define OCTET_HI 0x7fffffffefffffffULL
/* cookie-octet-like bytes no value rule changes: %x21-7E but '"' '%' '+' '\\' */
#define PLAIN_LO 0xfffff7da00000000ULL
#define PLAIN_HI 0x7fffffffefffffffULL

static int is_cookie_octet(unsigned char c)
{
    return in_class(c, OCTET_LO, OCTET_HI);
}

int bcl_cookie_value_odd(const char *v, apr_size_t n)
{
    if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
        v++;
        n -= 2;
    }
    for (apr_size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v[i];
        if (!is_cookie_octet(c))
            return BCL_COOKIE_ODD_VALUE;
        if (c == '%') {
            int h, l;
            if (i + 2 >= n || (h = hexval((unsigned char)v[i + 1])) < 0 || (l = hexval((unsigned char)v[i + 2])) < 0)
                return BCL_COOKIE_ODD_VALUE;
            if ((v[i + 1] >= 'a' && v[i + 1] <= 'f') || (v[i + 2] >= 'a' && v[i + 2] <= 'f'))
                return BCL_COOKIE_ODD_VALUE;
            unsigned char d = (unsigned char)(h * 16 + l);
            if ((d >= 'a' && d <= 'z') || (d >= 'A' && d <= 'Z') || (d >= '0' && d <= '9') || d == '-' || d == '.'
                || d == '_')
                return BCL_COOKIE_ODD_VALUE;
            i += 2;
        }
    }
    return 0;
}

typedef struct {
    apr_pool_t *p;
    const char **forms;
    apr_size_t *lens;
    int max, count;
} forms_t;

static void add_form(forms_t *f, const char *s, apr_size_t n)
{
    for (int i = 0; i < f->count; i++) {
        if (f->lens[i] == n && memcmp(f->forms[i], s, n) == 0)
            return;
    }
    if (f->count < f->max) {
        f->forms[f->count] = apr_pstrmemdup(f->p, s, n);
        f->lens[f->count] = n;
        f->count++;
    }
}

static void add_decoded(forms_t *f, const char *s, apr_size_t n, int plus)
{
    if (memchr(s, '%', n) == NULL && (!plus || memchr(s, '+', n) == NULL)) {
        add_form(f, s, n);
        return;
    }
    char *buf = apr_palloc(f->p, n + 1);
    add_form(f, buf, pct_decode(s, n, plus, buf));
}

/* Backslash escapes inside a strict pair of quotes:
 *   UNESC_PYTHON  \ooo (first digit 0-3) is that byte, \c is c
 *                 (Python http.cookies._unquote, Werkzeug, Django)
 *   UNESC_PAIR    \c is c: an RFC 2616 quoted-pair (RFC 2109/2965 parsers)
 *   UNESC_DQUOTE  only \" is " (Tomcat's LegacyCookieProcessor) */
enum { UNESC_PYTHON, UNESC_PAIR, UNESC_DQUOTE };

static void add_unescaped(forms_t *f, const char *s, apr_size_t n, int mode)
{
    char *out = apr_palloc(f->p, n + 1);
    apr_size_t o = 0;
    for (apr_size_t i = 0; i < n; i++) {
        if (s[i] == '\\' && i + 1 < n && (mode != UNESC_DQUOTE || s[i + 1] == '"')) {
            if (mode == UNESC_PYTHON && i + 3 < n && s[i + 1] >= '0' && s[i + 1] <= '3' && s[i + 2] >= '0'
                && s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
                out[o++] = (char)((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
                i += 3;
            } else {
                out[o++] = s[++i];
            }
        } else {
            out[o++] = s[i];
        }
    }
    add_form(f, out, o);
}

/* A value every rule below leaves as it is: printable ASCII without
 * quotes, '%', '+', '\\' or whitespace (no trimming, unquoting, decoding,
 * unescaping or splitting applies). Session ids are such values. */
static int plain_value(const char *v, apr_size_t n)
{
    for (apr_size_t i = 0; i < n; i++) {
        if (!in_class((unsigned char)v[i], PLAIN_LO, PLAIN_HI))
            return 0;
    }
    return 1;
}

int bcl_cookie_value_forms(apr_pool_t *p, const char *v, apr_size_t vlen, const char **forms,
                           apr_size_t *lens, int max)
{
    forms_t f = { p, forms, lens, max, 0 };
    const char *t = v;
    apr_size_t tn = vlen;

    /* the usual case, one form: what the walk below would find, cheaper */
    if (max > 0 && plain_value(v, vlen)) {
        forms[0] = apr_pstrmemdup(p, v, vlen);
        lens[0] = vlen;
        return 1;
    }

    add_form(&f, v, vlen);                      /* as carried: Tomcat keeps most, Go, PHP without % */
    ext_trim(&t, &tn);
    add_form(&f, t, tn);                        /* Werkzeug, Django, Node 0.x trim more */
    if (tn >= 2 && t[0] == '"' && t[tn - 1] == '"') {
        add_form(&f, t + 1, tn - 2);            /* RFC 6265 quotes: Go, Tomcat, Node, Werkzeug */
        add_unescaped(&f, t + 1, tn - 2, UNESC_PYTHON);  /* Python http.cookies, Werkzeug, Django */
        add_unescaped(&f, t + 1, tn - 2, UNESC_PAIR);    /* RFC 2109/2965 quoted-pair */
        add_unescaped(&f, t + 1, tn - 2, UNESC_DQUOTE);  /* Tomcat LegacyCookieProcessor */
        add_decoded(&f, t + 1, tn - 2, 0);      /* Node cookie, ASP.NET: unquote, then decode */
        add_decoded(&f, t + 1, tn - 2, 1);      /* ASP.NET Core 1.x: '+' is a space as well */
    }
    if (tn >= 1 && t[0] == '"') {
        apr_size_t inner = tn >= 2 ? tn - 2 : 0;
        add_form(&f, t + 1, inner);             /* Node cookie 0.x: slice(1, -1) when it starts with a quote */
        add_decoded(&f, t + 1, inner, 0);
    }
    add_decoded(&f, t, tn, 0);                  /* PHP (rawurldecode), Node cookie */
    add_decoded(&f, t, tn, 1);                  /* Rack, PHP before 8 ('+' is a space) */
    if (tn > 0 && t[0] != '"') {
        apr_size_t k = 0;
        while (k < tn && !is_ascii_ws((unsigned char)t[k]))
            k++;
        if (k < tn)
            add_form(&f, t, k);                 /* Python http.cookies: an unquoted value ends at whitespace */
    }
    return f.count;
}

/* ---- the generous Cookie header walk ------------------------------------ */

typedef struct {
    const apr_array_header_t *names;
    bcl_cookie_copy_t *out;
    int max, count;
} copies_t;

/* Is [name, name + nlen) a copy of one of the names? Returns it or NULL.
 * A name carried byte for byte is its own copy, even when it is also
 * another configured name's spelling ("a_b" and "a.b" both configured). */
static const char *copy_of(const apr_array_header_t *names, const char *name, apr_size_t nlen)
{
    for (int i = 0; i < names->nelts; i++) {
        const char *g = APR_ARRAY_IDX(names, i, const char *);
        if (strlen(g) == nlen && memcmp(g, name, nlen) == 0)
            return g;
    }
    for (int i = 0; i < names->nelts; i++) {
        const char *g = APR_ARRAY_IDX(names, i, const char *);
        if (bcl_cookie_name_is_copy(name, nlen, g))
            return g;
    }
    return NULL;
}

static void add_copy(copies_t *c, const char *guarded, const char *n, apr_size_t nlen, const char *v,
                     apr_size_t vlen, const char *v_semi, apr_size_t vlen_semi, int odd)
{
    if (c != NULL && c->count < c->max) {
        bcl_cookie_copy_t *cp = &c->out[c->count];
        cp->name = guarded;
        cp->raw_name = n;
        cp->raw_nlen = nlen;
        cp->value = v;
        cp->vlen = vlen;
        /* the policy (odd) follows the ','-cut value, as before: httpd's
         * ", " joins stay what they were; the longer reading is looked up */
        cp->value_semi = vlen_semi > vlen ? v_semi : NULL;
        cp->vlen_semi = vlen_semi > vlen ? vlen_semi : 0;
        cp->odd = odd | bcl_cookie_value_odd(v, vlen);
        if (nlen != strlen(guarded) || memcmp(n, guarded, nlen) != 0)
            cp->odd |= BCL_COOKIE_ODD_NAME;
    }
    if (c != NULL)
        c->count++;
}

static void trim_ows(const char **a, const char **b)
{
    while (*a < *b && is_ows((unsigned char)**a))
        (*a)++;
    while (*b > *a && is_ows((unsigned char)(*b)[-1]))
        (*b)--;
}

/* The end of the value that starts at `v` as a parser that splits pairs at
 * ';' only reads it: over any ',' up to the next ';' (or `hend`), trailing
 * space and tab trimmed. */
static const char *semi_end(const char *v, const char *hend)
{
    const char *e = v + strcspn(v, ";");
    if (e > hend)
        e = hend;
    while (e > v && is_ows((unsigned char)e[-1]))
        e--;
    return e;
}

/* The end of a quoted string that starts at `q` ('"'), with backslash
 * escapes, or NULL when it does not close before `end`. */
static const char *quoted_end(const char *q, const char *end)
{
    for (const char *s = q + 1; s < end; s++) {
        if (*s == '\\' && s + 1 < end)
            s++;
        else if (*s == '"')
            return s + 1;
    }
    return NULL;
}

/* Finds the copies in one segment [seg, seg_end) of the header (`hend` is
 * the header's end). Returns how many. */
static int scan_segment(const char *seg, const char *seg_end, const char *hend, const apr_array_header_t *names,
                        copies_t *c)
{
    const char *eq = memchr(seg, '=', (apr_size_t)(seg_end - seg));
    const char *n = seg, *n_end = eq ? eq : seg_end, *v = eq ? eq + 1 : seg_end, *v_end = seg_end;
    const char *g;
    int found = 0;

    trim_ows(&n, &n_end);
    trim_ows(&v, &v_end);
    if ((g = copy_of(names, n, (apr_size_t)(n_end - n))) != NULL) {
        const char *qe;
        const char *se = eq ? semi_end(v, hend) : v_end;
        add_copy(c, g, n, (apr_size_t)(n_end - n), v, (apr_size_t)(v_end - v), v, (apr_size_t)(se - v), 0);
        found++;
        /* a quoted value that a quote-aware parser reads over ';' or ',' */
        if (v < v_end && *v == '"' && quoted_end(v, v_end) == NULL && (qe = quoted_end(v, hend)) != NULL) {
            add_copy(c, g, n, (apr_size_t)(n_end - n), v, (apr_size_t)(qe - v), NULL, 0, BCL_COOKIE_ODD_SPLIT);
            found++;
        }
    }
    if (eq == NULL)
        return found;
    /* Python http.cookies starts a new cookie after whitespace that ends a
     * value: "X=1 APP=2" is two cookies there. Its values hold ',' too, so
     * in "X=1,y APP=2" the whitespace comes before this segment's '=': the
     * walk starts at the segment (its leading whitespace skipped). */
    const char *next_eq = NULL, *s = seg;
    while (s < seg_end && is_ascii_ws((unsigned char)*s))
        s++;
    /* most segments hold no whitespace: skip them in one pass (strcspn:
     * the header is NUL-terminated; stopped at the segment's end) */
    s += strcspn(s, " \t\n\v\f\r");
    if (s > seg_end)
        s = seg_end;
    for (; s + 1 < seg_end; s++) {
        if (!is_ascii_ws((unsigned char)*s) || is_ascii_ws((unsigned char)s[1]))
            continue;
        const char *start = s + 1;
        if (next_eq == NULL || next_eq < start)
            next_eq = memchr(start, '=', (apr_size_t)(seg_end - start));
        if (next_eq == NULL)
            break;
        const char *sn = start, *sn_end = next_eq, *sv = next_eq + 1, *sv_end = seg_end;
        trim_ows(&sn, &sn_end);
        trim_ows(&sv, &sv_end);
        if (sn < sn_end && (g = copy_of(names, sn, (apr_size_t)(sn_end - sn))) != NULL) {
            const char *se = semi_end(sv, hend);
            add_copy(c, g, sn, (apr_size_t)(sn_end - sn), sv, (apr_size_t)(sv_end - sv), sv, (apr_size_t)(se - sv),
                     BCL_COOKIE_ODD_SPLIT);
            found++;
        }
    }
    return found;
}

/* Walks the ';'/','-separated segments; calls `fn` with each and the
 * number of copies in it. */
typedef void segment_fn(void *baton, const char *seg, apr_size_t len, int copies);

static void walk(const char *h, const apr_array_header_t *names, copies_t *c, segment_fn *fn, void *baton)
{
    const char *hend = h + strlen(h);
    while (*h) {
        while (is_ows((unsigned char)*h) || *h == ';' || *h == ',')
            h++;
        if (!*h)
            break;
        const char *end = h + strcspn(h, ";,");
        int n = scan_segment(h, end, hend, names, c);
        if (fn != NULL)
            fn(baton, h, (apr_size_t)(end - h), n);
        h = end;
    }
}

int bcl_cookie_copies(const char *header, const apr_array_header_t *names, bcl_cookie_copy_t *out, int max)
{
    copies_t c = { names, out, max, 0 };
    int stored;

    if (header == NULL || names == NULL)
        return 0;
    walk(header, names, &c, NULL, NULL);
    stored = c.count < max ? c.count : max;
    /* several copies of one name that differ */
    for (int i = 0; i < stored; i++) {
        if (out[i].vlen == 0)
            continue;
        for (int j = i + 1; j < stored; j++) {
            /* the ';'-readings too, when both have one ("APP=a,x; APP=a,y") */
            int semi_differ = out[i].value_semi != NULL && out[j].value_semi != NULL
                              && (out[j].vlen_semi != out[i].vlen_semi
                                  || memcmp(out[j].value_semi, out[i].value_semi, out[i].vlen_semi) != 0);
            if (out[j].name == out[i].name && out[j].vlen != 0
                && (out[j].vlen != out[i].vlen || memcmp(out[j].value, out[i].value, out[i].vlen) != 0
                    || semi_differ)) {
                out[i].odd |= BCL_COOKIE_ODD_MULTI;
                out[j].odd |= BCL_COOKIE_ODD_MULTI;
            }
        }
    }
    return c.count;
}

typedef struct {
    char *out;
    apr_size_t used;
} keep_t;

static void keep_segment(void *baton, const char *seg, apr_size_t len, int copies)
{
    keep_t *k = baton;
    if (copies > 0)
        return;
    while (len > 0 && is_ows((unsigned char)seg[len - 1]))
        len--;
    if (k->used > 0) {
        memcpy(k->out + k->used, "; ", 2);
        k->used += 2;
    }
    memcpy(k->out + k->used, seg, len);
    k->used += len;
}

const char *bcl_cookie_remove(apr_pool_t *p, const char *header, const apr_array_header_t *names)
{
    keep_t k = { apr_palloc(p, strlen(header) * 2 + 1), 0 };
    copies_t c = { names, NULL, 0, 0 };
    walk(header, names, &c, keep_segment, &k);
    if (k.used == 0)
        return NULL;
    k.out[k.used] = '\0';
    return k.out;
}
