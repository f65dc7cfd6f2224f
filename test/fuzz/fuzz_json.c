/* libFuzzer target: bcl_json, the parser of a token's header and claims,
 * differentially against jansson. The input is the JSON text; bcl_json must
 * accept exactly what json_loadb(JSON_REJECT_DUPLICATES) accepts and yield
 * the same values (abort otherwise, so the fuzzer reports it). */
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "bcl_json.h"
#include "fuzz_common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_env();  /* APR, as every target */
    return 0;
}

static int same(const json_t *j, const bcl_json_t *b)
{
    switch (json_typeof(j)) {
    case JSON_NULL: return b->type == BCL_JSON_NULL;
    case JSON_TRUE: return b->type == BCL_JSON_TRUE;
    case JSON_FALSE: return b->type == BCL_JSON_FALSE;
    case JSON_INTEGER:
    case JSON_REAL: {
        /* the same value (-0 equals 0), said without == (-Wfloat-equal) */
        double v = json_number_value(j);
        return b->type == BCL_JSON_NUMBER && !(v < b->num) && !(v > b->num);
    }
    case JSON_STRING:
        return b->type == BCL_JSON_STRING && json_string_length(j) == b->len
               && memcmp(json_string_value(j), b->str, b->len) == 0 && b->str[b->len] == '\0';
    case JSON_ARRAY:
        if (b->type != BCL_JSON_ARRAY || (int)json_array_size(j) != b->n)
            return 0;
        for (int i = 0; i < b->n; i++)
            if (!same(json_array_get(j, (size_t)i), b->items[i]))
                return 0;
        return 1;
    case JSON_OBJECT:
        if (b->type != BCL_JSON_OBJECT || (int)json_object_size(j) != b->n)
            return 0;
        for (int i = 0; i < b->n; i++) {
            const json_t *m = json_object_get(j, b->keys[i]);
            if (m == NULL || !same(m, b->items[i]))
                return 0;
        }
        return 1;
    }
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
    if ((j == NULL) != (b == NULL) || (b == NULL && err == NULL) || (j != NULL && !same(j, b)))
        abort();
    json_decref(j);
    free(text);
    fuzz_pool_destroy(p);
    return 0;
}
