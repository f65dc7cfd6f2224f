/* libFuzzer target: key documents. The input goes to bcl_keyset_add_jwks
 * (a JWKS as published by an OP) and to bcl_keyset_add_decryption_key (PEM
 * or private JWK / JWKS) on a key set that lives in a per-input pool; keys
 * that load are then selected for every algorithm. */
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>

#include "bcl_keyset.h"
#include "fuzz_common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void log_nothing(void *baton, bcl_log_level_t level, const char *tag, const char *msg)
{
    (void)baton;
    (void)level;
    if (tag == NULL || msg == NULL)
        abort();
    (void)strlen(msg);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (apr_initialize() != APR_SUCCESS)
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool_new();
    bcl_keyset_t *ks = bcl_keyset_create(p);
    bcl_logger_t log = {log_nothing, NULL};
    /* Exact-size copy: no NUL after the document. */
    char *doc = malloc(size ? size : 1);
    const char *err = NULL;
    int rc;

    memcpy(doc, data, size);
    rc = bcl_keyset_add_jwks(ks, doc, size, &log, &err);
    if (rc == 0) {
        const bcl_key_t *out[16], *by_kid[16];
        int alg, i, n;
        if (bcl_keyset_count(ks) <= 0)
            abort();
        for (alg = 0; alg < BCL_ALG_COUNT; alg++) {
            n = bcl_keyset_select(ks, (bcl_alg_t)alg, NULL, out, 16);
            for (i = 0; i < n; i++) {
                if (out[i]->kty != bcl_alg_key_type((bcl_alg_t)alg))
                    abort();
                if (out[i]->kid != NULL && bcl_keyset_select(ks, (bcl_alg_t)alg, out[i]->kid, by_kid, 16) < 1)
                    abort();
                if (out[i]->kid != NULL && !bcl_keyset_has_kid(ks, out[i]->kid))
                    abort();
            }
        }
    } else if (rc != -1 || err == NULL) {
        abort();
    }
    err = NULL;
    rc = bcl_keyset_add_decryption_key(ks, doc, size, &err);
    if (rc == 0) {
        if (bcl_keyset_decryption_keys(ks)->nelts <= 0)
            abort();
    } else if (rc != -1 || err == NULL) {
        abort();
    }
    free(doc);
    fuzz_pool_destroy(p);
    return 0;
}
