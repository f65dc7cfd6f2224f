/* libFuzzer target: what the guard parses from the app and the browser.
 * Input: a selector byte, then text. Selector even: a Cookie header (find
 * every copy of two names, remove them). Odd: a Set-Cookie value and, after
 * a newline, a binding header value. */
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>
#include <apr_tables.h>

#include "bcl_cookie.h"
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
    const char *rest = bcl_cookie_remove(p, h, arr);
    if (rest != NULL) {
        const char *v[1];
        apr_size_t l[1];
        /* what is left holds none of the removed cookies */
        if (bcl_cookie_find_all(rest, "APP", v, l, 1) != 0 || bcl_cookie_find_all(rest, "oidc", v, l, 1) != 0)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    char *text;

    if (size < 1)
        return 0;
    p = fuzz_pool_new();
    text = apr_pstrmemdup(p, (const char *)data + 1, size - 1);
    if (data[0] % 2 == 0) {
        check_cookie_header(p, text);
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
