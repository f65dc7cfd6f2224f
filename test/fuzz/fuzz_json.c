/* libFuzzer target: bcl_json, the parser of a token's header and claims,
 * differentially against jansson. The input is the JSON text; bcl_json must
 * accept exactly what json_loadb(JSON_REJECT_DUPLICATES) accepts and yield
 * the same values (abort otherwise, so the fuzzer reports it); text holding
 * a raw NUL byte must be refused (json_agree.h says why jansson is no
 * reference there). */
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "bcl_json.h"
#include "fuzz_common.h"
#include "json_agree.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_env();  /* APR, as every target */
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool_new();
    /* an exact-size heap copy: reading past the length is caught */
    char *text = malloc(size ? size : 1);
    const char *err = NULL;
    json_error_t jerr;
    json_t *j;
    bcl_json_t *b;

    memcpy(text, data, size);
    j = json_loadb(text, size, JSON_REJECT_DUPLICATES, &jerr);
    b = bcl_json_parse(p, text, size, &err);
    if (!json_texts_agree(text, size, j, b, err))
        abort();
    json_decref(j);
    free(text);
    fuzz_pool_destroy(p);
    return 0;
}
