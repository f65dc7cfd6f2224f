#include <string.h>
#include <strings.h>
#include <apr_date.h>
#include <apr_strings.h>
#include "bcl_cookie.h"

static int is_ows(char c)
{
    return c == ' ' || c == '\t';
}

/* Walks "name=value; ..." pairs. Calls `fn` for each; stops when it returns non-zero. */
typedef int cookie_fn(void *baton, const char *name, apr_size_t nlen, const char *value,
                      apr_size_t vlen, const char *pair, apr_size_t plen);

static int cookie_walk(const char *h, cookie_fn *fn, void *baton)
{
    while (h != NULL && *h) {
        while (is_ows(*h) || *h == ';' || *h == ',')
            h++;
        if (!*h)
            break;
        /* ',' separates too: httpd joins several Cookie header lines with ", " */
        const char *pair = h, *end = h + strcspn(h, ";,");
        const char *eq = memchr(h, '=', (apr_size_t)(end - h));
        const char *name_end = eq ? eq : end;
        while (name_end > pair && is_ows(name_end[-1]))
            name_end--;
        const char *v = eq ? eq + 1 : end, *v_end = end;
        while (v < v_end && is_ows(*v))
            v++;
        while (v_end > v && is_ows(v_end[-1]))
            v_end--;
        if (fn(baton, pair, (apr_size_t)(name_end - pair), v, (apr_size_t)(v_end - v), pair,
               (apr_size_t)(end - pair)))
            return 1;
        h = end;
    }
    return 0;
}

typedef struct {
    const char *name;
    const char **values;
    apr_size_t *lens;
    int max, count;
} find_ctx_t;

static int find_each(void *baton, const char *name, apr_size_t nlen, const char *value,
                     apr_size_t vlen, const char *pair, apr_size_t plen)
{
    find_ctx_t *f = baton;
    (void)pair; (void)plen;
    if (nlen != strlen(f->name) || memcmp(name, f->name, nlen) != 0)
        return 0;
    /* a quoted cookie value (RFC 6265) is the same session as unquoted */
    if (vlen >= 2 && value[0] == '"' && value[vlen - 1] == '"') {
        value++;
        vlen -= 2;
    }
    f->values[f->count] = value;
    f->lens[f->count] = vlen;
    f->count++;
    return f->count == f->max;
}

int bcl_cookie_find_all(const char *header, const char *name, const char **values,
                        apr_size_t *lens, int max)
{
    find_ctx_t f = { name, values, lens, max, 0 };
    if (max > 0)
        cookie_walk(header, find_each, &f);
    return f.count;
}

int bcl_set_cookie_parse(apr_pool_t *p, const char *set_cookie, const char *name, long long now,
                         const char **value, int *expired)
{
    const char *semi = strchr(set_cookie, ';');
    const char *first_end = semi ? semi : set_cookie + strlen(set_cookie);
    const char *eq = memchr(set_cookie, '=', (apr_size_t)(first_end - set_cookie));
    const char *n = set_cookie, *n_end, *v, *v_end;

    if (eq == NULL)
        return 0;
    while (is_ows(*n))
        n++;
    n_end = eq;
    while (n_end > n && is_ows(n_end[-1]))
        n_end--;
    if ((apr_size_t)(n_end - n) != strlen(name) || memcmp(n, name, (apr_size_t)(n_end - n)) != 0)
        return 0;
    v = eq + 1;
    v_end = first_end;
    while (v < v_end && is_ows(*v))
        v++;
    while (v_end > v && is_ows(v_end[-1]))
        v_end--;
    /* the value as the browser stores it and sends it back (quotes and
     * all): the caller takes its forms (bcl_cookie_value_forms) */
    *value = apr_pstrmemdup(p, v, (apr_size_t)(v_end - v));
    *expired = v_end == v || (v_end - v == 2 && v[0] == '"' && v[1] == '"');

    /* attributes: Max-Age wins over Expires (RFC 6265, 5.3) */
    int have_max_age = 0;
    const char *a = semi;
    while (a != NULL && *a) {
        a++;
        while (is_ows(*a))
            a++;
        const char *a_end = strchr(a, ';');
        apr_size_t alen = a_end ? (apr_size_t)(a_end - a) : strlen(a);
        if (alen > 8 && strncasecmp(a, "max-age=", 8) == 0) {
            have_max_age = 1;
            char *num = apr_pstrmemdup(p, a + 8, alen - 8);
            if (apr_atoi64(num) <= 0)
                *expired = 1;
        } else if (!have_max_age && alen > 8 && strncasecmp(a, "expires=", 8) == 0) {
            char *date = apr_pstrmemdup(p, a + 8, alen - 8);
            apr_time_t t = apr_date_parse_rfc(date);
            /* APR_DATE_BAD is 0, which is also the epoch that apps use most
             * to expire a cookie; an unparsable date is ignored (RFC 6265) */
            if ((t != APR_DATE_BAD && apr_time_sec(t) <= now)
                || (t == APR_DATE_BAD && strstr(date, "1970") != NULL))
                *expired = 1;
        }
        a = a_end;
    }
    return 1;
}

const char *bcl_cookie_expiring(apr_pool_t *p, const char *name, const char *path,
                                const char *domain, int secure)
{
    return apr_pstrcat(p, name, "=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=",
                       path ? path : "/", domain ? "; Domain=" : "", domain ? domain : "",
                       secure ? "; Secure" : "", NULL);
}

/* Reads an RFC 9110 quoted-string or token starting at *s. */
static const char *read_value(apr_pool_t *p, const char **s)
{
    const char *c = *s;
    char *out, *o;

    if (*c != '"') {
        const char *start = c;
        while (*c && *c != ',' && !is_ows(*c) && *c != '"' && *c != '\\')
            c++;
        if (c == start)
            return NULL;
        *s = c;
        return apr_pstrmemdup(p, start, (apr_size_t)(c - start));
    }
    c++;
    out = o = apr_palloc(p, strlen(c) + 1);
    while (*c && *c != '"') {
        if (*c == '\\') {
            c++;
            if (!*c)
                return NULL;
        }
        if ((unsigned char)*c < 0x20 && *c != '\t')
            return NULL;
        *o++ = *c++;
    }
    if (*c != '"')
        return NULL;
    *o = '\0';
    *s = c + 1;
    return out;
}

int bcl_binding_header_parse(apr_pool_t *p, const char *value, const char **iss,
                             const char **sid, const char **sub, const char **err)
{
    const char *s = value;
    *iss = *sid = *sub = NULL;

    for (;;) {
        while (is_ows(*s))
            s++;
        if (!*s)
            break;
        const char *name = s;
        while ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_' || *s == '-')
            s++;
        apr_size_t nlen = (apr_size_t)(s - name);
        while (is_ows(*s))
            s++;
        if (nlen == 0 || *s != '=') {
            *err = "expected name=\"value\"";
            return -1;
        }
        s++;
        while (is_ows(*s))
            s++;
        const char *v = read_value(p, &s);
        if (v == NULL || *v == '\0') {
            *err = "a value is empty or not a valid quoted string";
            return -1;
        }
        const char **slot = NULL;
        if (nlen == 3 && strncasecmp(name, "iss", 3) == 0)
            slot = iss;
        else if (nlen == 3 && strncasecmp(name, "sid", 3) == 0)
            slot = sid;
        else if (nlen == 3 && strncasecmp(name, "sub", 3) == 0)
            slot = sub;
        if (slot != NULL) {
            if (*slot != NULL) {
                *err = "a name appears twice";
                return -1;
            }
            *slot = v;
        }
        while (is_ows(*s))
            s++;
        if (*s == ',') {
            s++;
            continue;
        }
        if (*s) {
            *err = "expected a comma between pairs";
            return -1;
        }
    }
    if (*iss == NULL) {
        *err = "iss is missing";
        return -1;
    }
    if (*sid == NULL && *sub == NULL) {
        *err = "sid or sub is required";
        return -1;
    }
    return 0;
}
