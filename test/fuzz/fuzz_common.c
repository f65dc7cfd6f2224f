#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_allocator.h>
#include <apr_tables.h>

#include "fuzz_common.h"
#include "fuzz_keys.h"

/* Debian's APR allocates pool memory with mmap, which LeakSanitizer does not
 * scan: objects referenced only from the long-lived key set would look
 * leaked. What the set-up allocates is therefore excluded from leak checks;
 * everything an input allocates is still checked (its pool is destroyed
 * before the check, so whatever is left is a real leak). */
#if defined(__has_include)
#if __has_include(<sanitizer/lsan_interface.h>)
#include <sanitizer/lsan_interface.h>
#define HAVE_LSAN_INTERFACE 1
#endif
#endif
#ifndef HAVE_LSAN_INTERFACE
#define __lsan_disable() ((void)0)
#define __lsan_enable() ((void)0)
#endif

static fuzz_env_t env;
static int ready;

static void die(const char *what, const char *err)
{
    fprintf(stderr, "fuzz set-up failed: %s: %s\n", what, err ? err : "?");
    abort();
}

const fuzz_env_t *fuzz_env(void)
{
    static apr_pool_t *root;
    apr_array_header_t *ids;
    const char *err = NULL;

    if (ready)
        return &env;
    __lsan_disable();
    if (apr_initialize() != APR_SUCCESS || apr_pool_create(&root, NULL) != APR_SUCCESS)
        die("apr", NULL);
    env.keys = bcl_keyset_create(root);
    if (bcl_keyset_add_jwks(env.keys, FUZZ_JWKS, strlen(FUZZ_JWKS), NULL, &err) != 0)
        die("JWKS", err);
    if (bcl_keyset_set_client_secret(env.keys, FUZZ_CLIENT_SECRET, strlen(FUZZ_CLIENT_SECRET), &err) != 0)
        die("client secret", err);
    if (bcl_keyset_add_decryption_key(env.keys, FUZZ_DECRYPTION_KEY_PEM,
                                      strlen(FUZZ_DECRYPTION_KEY_PEM), &err) != 0)
        die("decryption key", err);

    ids = apr_array_make(root, 2, sizeof(const char *));
    APR_ARRAY_PUSH(ids, const char *) = FUZZ_CLIENT;
    APR_ARRAY_PUSH(ids, const char *) = "other-client";
    memset(&env.lenient, 0, sizeof(env.lenient));
    env.lenient.issuer = FUZZ_ISSUER;
    env.lenient.client_ids = ids;
    env.lenient.allowed_algs = (bcl_alg_mask_t)((1u << BCL_ALG_COUNT) - 1u);
    env.lenient.require_exp = 0;
    env.lenient.clock_skew = 60;
    env.strict = env.lenient;
    env.strict.require_exp = 1;
    env.strict.require_sid = 1;
    env.strict.require_encryption = 1;
    env.strict.clock_skew = 0;
    ready = 1;
    __lsan_enable();
    return &env;
}

apr_pool_t *fuzz_pool_new(void)
{
    apr_allocator_t *a;
    apr_pool_t *p;
    if (apr_allocator_create(&a) != APR_SUCCESS)
        abort();
    apr_allocator_max_free_set(a, 1);
    if (apr_pool_create_ex(&p, NULL, NULL, a) != APR_SUCCESS)
        abort();
    apr_allocator_owner_set(a, p);
    return p;
}

void fuzz_pool_destroy(apr_pool_t *p)
{
    apr_pool_destroy(p);
}

static void check_verdict(const bcl_verdict_t *v, bcl_reason_t r)
{
    if (r != v->reason || (unsigned)r >= BCL_R_COUNT)
        abort();
    if (r == BCL_OK) {
        /* An accepted token has everything the rules demand. */
        if (v->alg == NULL || v->iss == NULL || v->jti == NULL || (v->sub == NULL && v->sid == NULL)
            || strcmp(v->alg, "none") == 0 || strcmp(v->iss, FUZZ_ISSUER) != 0)
            abort();
    } else if (v->detail == NULL) {
        abort();
    } else {
        (void)strlen(v->detail);  /* readable */
    }
}

void fuzz_validate(apr_pool_t *p, const char *tok, size_t len)
{
    const fuzz_env_t *e = fuzz_env();
    bcl_verdict_t v;
    bcl_reason_t r = bcl_token_validate(p, tok, len, e->keys, &e->lenient, FUZZ_NOW, &v);
    check_verdict(&v, r);
    /* The stricter policy only matters past the signature: skip the cost otherwise. */
    if (r == BCL_OK || r >= BCL_R_ISS || r == BCL_R_PAYLOAD) {
        r = bcl_token_validate(p, tok, len, e->keys, &e->strict, FUZZ_NOW, &v);
        check_verdict(&v, r);
        if (r == BCL_OK && (!v.encrypted || v.sid == NULL || v.exp == 0))
            abort();
    }
}
