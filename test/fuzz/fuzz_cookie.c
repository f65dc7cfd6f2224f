/* libFuzzer target: what the guard parses from the app and the browser.
 * Input: a selector byte, then text. Selector % 4:
 *   0  a Cookie header: find every copy of two names (exact and generous),
 *      remove them; nothing the guard counts as a copy is left
 *   1  a Set-Cookie value and, after a newline, a binding header value
 *   2  a value: its forms (distinct, the value first); the Set-Cookie
 *      parser and the Cookie header walk agree on it
 *   3  a configured name: every spelling a backend reads as it is a copy */
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>
#include <apr_tables.h>

#include "bcl_cookie.h"
#include "bcl_cookie_canon.h"
#include "fuzz_common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_env();
    return 0;
}

static void check_cookie_header(apr_pool_t *p, const char *h)
{
    static const char *const names[] = { "APP", "oidc" };
    apr_array_header_t *arr = apr_array_make(p, 2, sizeof(const char *));
    size_t hlen = strlen(h);

    for (int i = 0; i < 2; i++) {
        const char *v[8];
        apr_size_t l[8];
        int n = bcl_cookie_find_all(h, names[i], v, l, 8);
        for (int j = 0; j < n; j++) {
            /* every value lies inside the header */
            if (v[j] < h || v[j] + l[j] > h + hlen)
                abort();
        }
        APR_ARRAY_PUSH(arr, const char *) = names[i];
    }
    bcl_cookie_copy_t c[8];
    int n = bcl_cookie_copies(h, arr, c, 8);
    for (int i = 0; i < n && i < 8; i++) {
        /* every copy lies inside the header and copies a configured name */
        if (c[i].value < h || c[i].value + c[i].vlen > h + hlen || c[i].raw_name < h
            || c[i].raw_name + c[i].raw_nlen > h + hlen)
            abort();
        /* the ';'-reading starts where the value does, is longer, holds the
         * ',' that cut the value, and no ';' */
        if (c[i].value_semi != NULL
            && (c[i].value_semi != c[i].value || c[i].vlen_semi <= c[i].vlen
                || c[i].value_semi + c[i].vlen_semi > h + hlen
                || memchr(c[i].value_semi, ';', c[i].vlen_semi) != NULL
                || memchr(c[i].value_semi, ',', c[i].vlen_semi) == NULL))
            abort();
        if (c[i].value_semi == NULL && c[i].vlen_semi != 0)
            abort();
        if (strcmp(c[i].name, "APP") != 0 && strcmp(c[i].name, "oidc") != 0)
            abort();
        if (!bcl_cookie_name_is_copy(c[i].raw_name, c[i].raw_nlen, c[i].name))
            abort();
    }
    const char *rest = bcl_cookie_remove(p, h, arr);
    if (rest != NULL) {
        const char *v[1];
        apr_size_t l[1];
        /* what is left holds none of the removed cookies, in any spelling */
        if (bcl_cookie_find_all(rest, "APP", v, l, 1) != 0 || bcl_cookie_find_all(rest, "oidc", v, l, 1) != 0)
            abort();
        if (bcl_cookie_copies(rest, arr, c, 8) != 0)
            abort();
    } else if (n == 0 && strspn(h, " \t;,") != hlen) {
        /* nothing removed, yet nothing left: only separators were there */
        abort();
    }
}

static void check_value(apr_pool_t *p, const char *t)
{
    const char *f[4 * BCL_COOKIE_MAX_FORMS];
    apr_size_t l[4 * BCL_COOKIE_MAX_FORMS];
    apr_size_t tlen = strcspn(t, ";,");
    /* room for more than the documented most: none is ever dropped */
    int n = bcl_cookie_value_forms(p, t, tlen, f, l, 4 * BCL_COOKIE_MAX_FORMS);

    if (n < 1 || n > BCL_COOKIE_MAX_FORMS || l[0] != tlen || memcmp(f[0], t, tlen) != 0)
        abort();
    for (int i = 0; i < n; i++) {
        if (l[i] > tlen || f[i][l[i]] != '\0')
            abort();
        for (int j = i + 1; j < n; j++) {
            if (l[i] == l[j] && memcmp(f[i], f[j], l[i]) == 0)
                abort();
        }
    }
    /* a plain token is its only form */
    if (tlen > 0 && strspn(t, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:/=") >= tlen && n != 1)
        abort();
    if (n > 1 && bcl_cookie_value_odd(t, tlen) == 0 && memchr(t, '%', tlen) == NULL && memchr(t, '+', tlen) == NULL
        && t[0] != '"')
        abort();

    /* Set-Cookie: APP=<t> and Cookie: APP=<t> give the same value */
    char *v = apr_pstrmemdup(p, t, tlen);
    const char *sv;
    int expired;
    apr_array_header_t *arr = apr_array_make(p, 1, sizeof(const char *));
    bcl_cookie_copy_t c[8];
    APR_ARRAY_PUSH(arr, const char *) = "APP";
    if (!bcl_set_cookie_parse(p, apr_pstrcat(p, "APP=", v, "; Path=/", NULL), "APP", 1000, &sv, &expired))
        abort();
    if (bcl_cookie_copies(apr_pstrcat(p, "APP=", v, NULL), arr, c, 8) < 1)
        abort();
    if (strlen(sv) != c[0].vlen || memcmp(sv, c[0].value, c[0].vlen) != 0)
        abort();
}

/* Spellings of `g` that some backend reads as g must be copies of it. */
static void check_name(apr_pool_t *p, const char *t)
{
    apr_size_t glen = strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$&'*+-.^_`|~");
    if (glen == 0 || glen > 200)
        return;
    char *g = apr_pstrmemdup(p, t, glen);
    char *upper = apr_pstrdup(p, g), *lower = apr_pstrdup(p, g), *enc = apr_palloc(p, glen * 3 + 1);
    char *mangled = apr_pstrdup(p, g);
    for (apr_size_t i = 0; i < glen; i++) {
        upper[i] = (char)((g[i] >= 'a' && g[i] <= 'z') ? g[i] - 32 : g[i]);
        lower[i] = (char)((g[i] >= 'A' && g[i] <= 'Z') ? g[i] + 32 : g[i]);
        apr_snprintf(enc + 3 * i, 4, "%%%02X", (unsigned char)g[i]);
        if (mangled[i] == '.')
            mangled[i] = '_';
    }
    const char *spellings[] = {
        g, upper, lower, enc, mangled,
        apr_pstrcat(p, " \t\v\f\xa0\x85", g, "\x1c\xc2\xa0\xe3\x80\x80", NULL),
        apr_pstrcat(p, "%20+", enc, "%09", NULL),
        apr_pstrcat(p, g, "[x]", NULL),
    };
    for (size_t i = 0; i < sizeof(spellings) / sizeof(spellings[0]); i++) {
        if (!bcl_cookie_name_is_copy(spellings[i], strlen(spellings[i]), g))
            abort();
    }
    /* and the copy is removed from a header (that keeps another cookie) */
    if (bcl_cookie_name_is_copy("keep", 4, g))
        return;
    apr_array_header_t *arr = apr_array_make(p, 1, sizeof(const char *));
    APR_ARRAY_PUSH(arr, const char *) = g;
    const char *rest = bcl_cookie_remove(p, apr_pstrcat(p, "keep=1; ", spellings[5], "=v", NULL), arr);
    if (rest == NULL || strcmp(rest, "keep=1") != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    char *text;

    if (size < 1)
        return 0;
    p = fuzz_pool_new();
    text = apr_pstrmemdup(p, (const char *)data + 1, size - 1);
    if (data[0] % 4 == 0) {
        check_cookie_header(p, text);
    } else if (data[0] % 4 == 2) {
        check_value(p, text);
    } else if (data[0] % 4 == 3) {
        check_name(p, text);
    } else {
        char *nl = strchr(text, '\n');
        const char *value, *iss, *sid, *sub, *err;
        int expired;
        if (nl != NULL)
            *nl = '\0';
        if (bcl_set_cookie_parse(p, text, "APP", 1000000, &value, &expired) && value == NULL)
            abort();
        if (nl != NULL && bcl_binding_header_parse(p, nl + 1, &iss, &sid, &sub, &err) == 0
            && (iss == NULL || (sid == NULL && sub == NULL)))
            abort();
    }
    fuzz_pool_destroy(p);
    return 0;
}
