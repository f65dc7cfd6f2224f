/* Strict JSON into the pool: see bcl_json.h for what is accepted. */
#include <errno.h>
#include <locale.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>
#include "bcl_json.h"

#define MAX_DEPTH 2048      /* as jansson's parser */
#define SORT_ABOVE 16       /* objects with more members are checked for duplicates by sorting */

typedef struct {
    apr_pool_t *p;
    const unsigned char *s, *end;
    const unsigned char *start;
    const char *err;
} parser_t;

static int fail(parser_t *ps, const char *what)
{
    if (ps->err == NULL)
        ps->err = apr_psprintf(ps->p, "%s at byte %" APR_SIZE_T_FMT, what, (apr_size_t)(ps->s - ps->start));
    return -1;
}

static void skip_ws(parser_t *ps)
{
    while (ps->s < ps->end && (*ps->s == ' ' || *ps->s == '\t' || *ps->s == '\n' || *ps->s == '\r'))
        ps->s++;
}

static int hex4(const unsigned char *h, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned c = h[i], d;
        if (c >= '0' && c <= '9') d = c - '0';
        else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
        else return -1;
        v = v << 4 | d;
    }
    *out = v;
    return 0;
}

/* Length of the valid UTF-8 sequence starting at s (a byte >= 0x80), or 0:
 * no overlong forms, no surrogates, nothing above U+10FFFF. */
static int utf8_seq(const unsigned char *s, const unsigned char *end)
{
    unsigned c = s[0];
    int n;
    unsigned cp;

    if (c >= 0xc2 && c <= 0xdf) { n = 2; cp = c & 0x1f; }
    else if (c >= 0xe0 && c <= 0xef) { n = 3; cp = c & 0x0f; }
    else if (c >= 0xf0 && c <= 0xf4) { n = 4; cp = c & 0x07; }
    else return 0;
    if (end - s < n)
        return 0;
    for (int i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

static apr_size_t put_utf8(unsigned char *o, unsigned cp)
{
    if (cp < 0x80) { o[0] = (unsigned char)cp; return 1; }
    if (cp < 0x800) { o[0] = (unsigned char)(0xc0 | cp >> 6); o[1] = (unsigned char)(0x80 | (cp & 0x3f)); return 2; }
    if (cp < 0x10000) {
        o[0] = (unsigned char)(0xe0 | cp >> 12); o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
        o[2] = (unsigned char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (unsigned char)(0xf0 | cp >> 18); o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
    o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f)); o[3] = (unsigned char)(0x80 | (cp & 0x3f));
    return 4;
}

/* A string; ps->s is at the opening quote. */
static int parse_string(parser_t *ps, const char **out, apr_size_t *out_len)
{
    const unsigned char *q = ++ps->s;
    int plain = 1;

    /* first pass: validate and find the end */
    while (q < ps->end && *q != '"') {
        if (*q < 0x20) {
            ps->s = q;
            return fail(ps, "control character in a string");
        }
        if (*q == '\\') {
            plain = 0;
            if (q + 1 >= ps->end) {
                ps->s = q;
                return fail(ps, "unterminated string");
            }
            if (q[1] == 'u') {
                unsigned cp, lo;
                if (ps->end - q < 6 || hex4(q + 2, &cp) != 0) {
                    ps->s = q;
                    return fail(ps, "invalid \\u escape");
                }
                if (cp == 0) {
                    ps->s = q;
                    return fail(ps, "\\u0000 is not allowed");
                }
                if (cp >= 0xdc00 && cp <= 0xdfff) {
                    ps->s = q;
                    return fail(ps, "unpaired surrogate");
                }
                if (cp >= 0xd800 && cp <= 0xdbff) {
                    if (ps->end - q < 12 || q[6] != '\\' || q[7] != 'u' || hex4(q + 8, &lo) != 0
                        || lo < 0xdc00 || lo > 0xdfff) {
                        ps->s = q;
                        return fail(ps, "unpaired surrogate");
                    }
                    q += 12;
                } else {
                    q += 6;
                }
                continue;
            }
            if (!strchr("\"\\/bfnrt", q[1]) || q[1] == '\0') {
                ps->s = q;
                return fail(ps, "invalid escape");
            }
            q += 2;
            continue;
        }
        if (*q >= 0x80) {
            int n = utf8_seq(q, ps->end);
            if (n == 0) {
                ps->s = q;
                return fail(ps, "invalid UTF-8");
            }
            q += n;
            continue;
        }
        q++;
    }
    if (q >= ps->end)
        return fail(ps, "unterminated string");
    if (plain) {
        *out = apr_pstrmemdup(ps->p, (const char *)ps->s, (apr_size_t)(q - ps->s));
        *out_len = (apr_size_t)(q - ps->s);
        ps->s = q + 1;
        return 0;
    }
    /* second pass: unescape (never longer than the escaped form) */
    unsigned char *buf = apr_palloc(ps->p, (apr_size_t)(q - ps->s) + 1), *o = buf;
    const unsigned char *r = ps->s;
    while (r < q) {
        if (*r != '\\') {
            *o++ = *r++;
            continue;
        }
        switch (r[1]) {
        case 'b': *o++ = '\b'; break;
        case 'f': *o++ = '\f'; break;
        case 'n': *o++ = '\n'; break;
        case 'r': *o++ = '\r'; break;
        case 't': *o++ = '\t'; break;
        case 'u': {
            unsigned cp, lo;
            hex4(r + 2, &cp);
            if (cp >= 0xd800 && cp <= 0xdbff) {
                hex4(r + 8, &lo);
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                r += 6;
            }
            o += put_utf8(o, cp);
            r += 6;
            continue;
        }
        default: *o++ = r[1]; break;
        }
        r += 2;
    }
    *o = '\0';
    *out = (const char *)buf;
    *out_len = (apr_size_t)(o - buf);
    ps->s = q + 1;
    return 0;
}

static int parse_number(parser_t *ps, double *out)
{
    const unsigned char *b = ps->s, *q = ps->s;
    int integer = 1;

    if (q < ps->end && *q == '-')
        q++;
    if (q >= ps->end || *q < '0' || *q > '9')
        return fail(ps, "invalid number");
    if (*q == '0')
        q++;
    else
        while (q < ps->end && *q >= '0' && *q <= '9')
            q++;
    if (q < ps->end && *q == '.') {
        integer = 0;
        q++;
        if (q >= ps->end || *q < '0' || *q > '9')
            return fail(ps, "invalid number");
        while (q < ps->end && *q >= '0' && *q <= '9')
            q++;
    }
    if (q < ps->end && (*q == 'e' || *q == 'E')) {
        integer = 0;
        q++;
        if (q < ps->end && (*q == '+' || *q == '-'))
            q++;
        if (q >= ps->end || *q < '0' || *q > '9')
            return fail(ps, "invalid number");
        while (q < ps->end && *q >= '0' && *q <= '9')
            q++;
    }
    if (integer) {
        /* a 64-bit integer, as jansson's json_int_t: larger ones are refused */
        int neg = *b == '-';
        uint64_t v = 0, limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
        for (const unsigned char *d = b + neg; d < q; d++) {
            unsigned digit = (unsigned)(*d - '0');
            if (v > (limit - digit) / 10)
                return fail(ps, "integer too big");
            v = v * 10 + digit;
        }
        *out = neg ? -(double)v : (double)v;
    } else {
        /* strtod reads the locale's decimal point */
        char *text = apr_pstrmemdup(ps->p, (const char *)b, (apr_size_t)(q - b)), *end;
        const char *point = localeconv()->decimal_point;
        char *dot = strchr(text, '.');
        if (dot != NULL && point != NULL && point[0] != '\0' && point[1] == '\0')
            *dot = point[0];
        errno = 0;
        *out = strtod(text, &end);
        if (*end != '\0')
            return fail(ps, "invalid number");
        if (errno == ERANGE && (*out > 1.0 || *out < -1.0))
            return fail(ps, "real number overflow");
    }
    ps->s = q;
    return 0;
}

static int key_cmp(const void *a, const void *b)
{
    const char *x = *(const char *const *)a, *y = *(const char *const *)b;
    return strcmp(x, y);
}

/* Member names are NUL-free (\u0000 is refused), so strcmp compares them. */
static int has_duplicates(apr_pool_t *p, const char **keys, int n)
{
    if (n <= SORT_ABOVE) {
        for (int i = 1; i < n; i++)
            for (int j = 0; j < i; j++)
                if (strcmp(keys[i], keys[j]) == 0)
                    return 1;
        return 0;
    }
    const char **sorted = apr_pmemdup(p, keys, sizeof(*keys) * (apr_size_t)n);
    qsort(sorted, (size_t)n, sizeof(*sorted), key_cmp);
    for (int i = 1; i < n; i++)
        if (strcmp(sorted[i], sorted[i - 1]) == 0)
            return 1;
    return 0;
}

static int parse_value(parser_t *ps, bcl_json_t *v, int depth);

static int grow(parser_t *ps, bcl_json_t *v, int *cap, int object)
{
    int ncap = *cap ? *cap * 2 : 8;
    bcl_json_t **items = apr_palloc(ps->p, sizeof(*items) * (apr_size_t)ncap);
    if (v->n > 0)
        memcpy(items, v->items, sizeof(*items) * (apr_size_t)v->n);
    v->items = items;
    if (object) {
        const char **keys = apr_palloc(ps->p, sizeof(*keys) * (apr_size_t)ncap);
        if (v->n > 0)
            memcpy(keys, v->keys, sizeof(*keys) * (apr_size_t)v->n);
        v->keys = keys;
    }
    *cap = ncap;
    return 0;
}

static int parse_container(parser_t *ps, bcl_json_t *v, int depth)
{
    int object = *ps->s == '{', cap = 0;
    unsigned char close = object ? '}' : ']';

    if (depth > MAX_DEPTH)
        return fail(ps, "maximum nesting depth reached");
    v->type = object ? BCL_JSON_OBJECT : BCL_JSON_ARRAY;
    ps->s++;
    skip_ws(ps);
    if (ps->s < ps->end && *ps->s == close) {
        ps->s++;
        return 0;
    }
    for (;;) {
        const char *key = NULL;
        apr_size_t key_len;
        if (v->n == cap)
            grow(ps, v, &cap, object);
        if (object) {
            skip_ws(ps);
            if (ps->s >= ps->end || *ps->s != '"')
                return fail(ps, "member name expected");
            if (parse_string(ps, &key, &key_len) != 0)
                return -1;
            skip_ws(ps);
            if (ps->s >= ps->end || *ps->s != ':')
                return fail(ps, "':' expected");
            ps->s++;
        }
        bcl_json_t *item = apr_pcalloc(ps->p, sizeof(*item));
        if (parse_value(ps, item, depth + 1) != 0)
            return -1;
        if (object)
            v->keys[v->n] = key;
        v->items[v->n++] = item;
        skip_ws(ps);
        if (ps->s >= ps->end)
            return fail(ps, "unexpected end of input");
        if (*ps->s == ',') {
            ps->s++;
            continue;
        }
        if (*ps->s == close) {
            ps->s++;
            break;
        }
        return fail(ps, object ? "',' or '}' expected" : "',' or ']' expected");
    }
    if (object && has_duplicates(ps->p, v->keys, v->n))
        return fail(ps, "duplicate object key");
    return 0;
}

static int literal(parser_t *ps, const char *word, apr_size_t n)
{
    if ((apr_size_t)(ps->end - ps->s) < n || memcmp(ps->s, word, n) != 0)
        return fail(ps, "invalid token");
    ps->s += n;
    return 0;
}

static int parse_value(parser_t *ps, bcl_json_t *v, int depth)
{
    skip_ws(ps);
    if (ps->s >= ps->end)
        return fail(ps, "unexpected end of input");
    switch (*ps->s) {
    case '{':
    case '[':
        return parse_container(ps, v, depth);
    case '"':
        v->type = BCL_JSON_STRING;
        return parse_string(ps, &v->str, &v->len);
    case 't':
        v->type = BCL_JSON_TRUE;
        return literal(ps, "true", 4);
    case 'f':
        v->type = BCL_JSON_FALSE;
        return literal(ps, "false", 5);
    case 'n':
        v->type = BCL_JSON_NULL;
        return literal(ps, "null", 4);
    default:
        v->type = BCL_JSON_NUMBER;
        return parse_number(ps, &v->num);
    }
}

bcl_json_t *bcl_json_parse(apr_pool_t *p, const char *text, apr_size_t len, const char **err)
{
    parser_t ps = { p, (const unsigned char *)text, (const unsigned char *)text + len,
                    (const unsigned char *)text, NULL };
    bcl_json_t *v = apr_pcalloc(p, sizeof(*v));

    skip_ws(&ps);
    if (ps.s >= ps.end || (*ps.s != '{' && *ps.s != '[')) {
        fail(&ps, "'[' or '{' expected");
        *err = ps.err;
        return NULL;
    }
    if (parse_container(&ps, v, 1) != 0) {
        *err = ps.err;
        return NULL;
    }
    skip_ws(&ps);
    if (ps.s != ps.end) {
        fail(&ps, "end of file expected");
        *err = ps.err;
        return NULL;
    }
    return v;
}

const bcl_json_t *bcl_json_get(const bcl_json_t *obj, const char *name)
{
    if (obj == NULL || obj->type != BCL_JSON_OBJECT)
        return NULL;
    for (int i = 0; i < obj->n; i++)
        if (strcmp(obj->keys[i], name) == 0)
            return obj->items[i];
    return NULL;
}
