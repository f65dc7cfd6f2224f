/* libFuzzer target: the request body. Input: the Content-Type header value,
 * a newline, then the body. The type goes to bcl_form_content_type_ok, the
 * body to bcl_form_logout_token, and a token found is validated. */
#include <string.h>

#include <apr_strings.h>

#include "bcl_form.h"
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool_new();
    const char *nl = memchr(data, '\n', size);
    size_t ct_len = nl ? (size_t)(nl - (const char *)data) : size;
    const char *ct = apr_pstrmemdup(p, (const char *)data, ct_len);
    /* The body is copied to an exact-size heap block (no NUL after it), so
     * that reading past its length is caught. */
    size_t body_len = nl ? size - ct_len - 1 : 0;
    char *body = body_len ? malloc(body_len) : NULL;
    const char *tok = NULL;
    apr_size_t tok_len = 0;
    bcl_form_status_t st;

    if (body_len)
        memcpy(body, nl + 1, body_len);
    (void)bcl_form_content_type_ok(ct);
    st = bcl_form_logout_token(p, body ? body : "", body_len, &tok, &tok_len);
    if (st == BCL_FORM_OK) {
        if (tok == NULL || tok_len == 0 || tok[tok_len] != '\0' || memchr(tok, '\0', tok_len) != NULL)
            abort();
        fuzz_validate(p, tok, tok_len);
    } else if (st != BCL_FORM_MISSING && st != BCL_FORM_DUPLICATE && st != BCL_FORM_EMPTY
               && st != BCL_FORM_MALFORMED) {
        abort();
    }
    free(body);
    fuzz_pool_destroy(p);
    return 0;
}
