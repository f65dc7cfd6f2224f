/* Shared set-up of the libFuzzer targets: one key set and policy built once
 * (from the test-only keys in fuzz_keys.h), and a fresh pool per input. */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <apr_pools.h>
#include "bcl_keyset.h"
#include "bcl_token.h"

typedef struct {
    bcl_keyset_t *keys;       /* JWKS (RSA, EC, Ed25519) + client secret + RSA decryption key */
    bcl_policy_t lenient;     /* every alg, exp not required */
    bcl_policy_t strict;      /* every alg, exp and sid required, encryption required */
} fuzz_env_t;

/* Built on first use; aborts if the embedded keys do not load. */
const fuzz_env_t *fuzz_env(void);

/* A pool with its own allocator, so that destroying it returns every block
 * to malloc: AddressSanitizer then sees use after the pool's lifetime and
 * LeakSanitizer sees what the core leaked outside pools. */
apr_pool_t *fuzz_pool_new(void);
void fuzz_pool_destroy(apr_pool_t *p);

/* Runs bcl_token_validate under both policies and checks the verdict's
 * invariants (aborting, so the fuzzer reports it, when one fails). */
void fuzz_validate(apr_pool_t *p, const char *tok, size_t len);

#endif
