/* Compact JWE decryption with OpenSSL: RSA-OAEP and RSA-OAEP-256 key
 * management (cjose lacks the latter), AES-GCM and AES-CBC-HMAC-SHA2
 * content encryption. One code path for every combination. */
#ifndef BCL_JWE_H
#define BCL_JWE_H

#include <apr_pools.h>
#include "bcl_keyset.h"
#include "bcl_verdict.h"

/* Decrypts `jwe` with each configured decryption key in turn. On success
 * returns BCL_OK with the plaintext (the nested JWS) in `*plain`. */
bcl_reason_t bcl_jwe_decrypt(apr_pool_t *p, const char *jwe, apr_size_t len,
                             const bcl_keyset_t *keys, const char **plain,
                             apr_size_t *plain_len, bcl_verdict_t *v);

#endif
