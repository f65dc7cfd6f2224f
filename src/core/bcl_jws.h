/* Compact JWS: header checks and signature verification. cjose verifies the
 * RSA, EC and HMAC algorithms; OpenSSL verifies EdDSA, which cjose lacks. */
#ifndef BCL_JWS_H
#define BCL_JWS_H

#include <apr_pools.h>
#include "bcl_keyset.h"
#include "bcl_verdict.h"

/* Verifies the compact JWS `jws` against the keys and the allowed algorithms
 * in `policy`. On success returns BCL_OK with the payload bytes in
 * `*payload` (pool memory). On failure sets v->detail. Sets v->alg and
 * v->kid as soon as they are known. */
bcl_reason_t bcl_jws_verify(apr_pool_t *p, const char *jws, apr_size_t len,
                            const bcl_keyset_t *keys, const bcl_policy_t *policy,
                            const char **payload, apr_size_t *payload_len, bcl_verdict_t *v);

/* Header checks common to JWS and JWE: a JSON object without duplicate
 * members, no crit we do not understand, typ allowed if present. On
 * success `*header` is the parsed object, in the pool. */
#include "bcl_json.h"
bcl_reason_t bcl_jose_header_parse(apr_pool_t *p, const char *b64, apr_size_t len,
                                   const bcl_json_t **header, bcl_verdict_t *v);

#endif
