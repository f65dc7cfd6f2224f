/* Logout token validation: bytes + keys + policy + clock -> verdict
 * (bcl_verdict.h). The signature is bcl_jws.c's, the decryption
 * bcl_jwe.c's; the claims are checked here.
 * Implements OpenID Connect Back-Channel Logout 1.0, section 2.6. */
#ifndef BCL_TOKEN_H
#define BCL_TOKEN_H

#include <apr_pools.h>
#include <apr_tables.h>
#include "bcl_keyset.h"
#include "bcl_verdict.h"

/* The event member a logout token's "events" claim must contain. */
#define BCL_LOGOUT_EVENT "http://schemas.openid.net/event/backchannel-logout"

/* How long a token without exp stays acceptable after its iat (seconds,
 * plus clock skew), when BCLRequireExp is Off. */
#define BCL_NO_EXP_MAX_AGE 120

/* Validates `token` (compact JWS, or compact JWE wrapping a JWS) at time
 * `now` (seconds since the epoch). Everything is allocated from `p`; nothing
 * is retained. Returns v->reason. */
bcl_reason_t bcl_token_validate(apr_pool_t *p, const char *token, apr_size_t len,
                                const bcl_keyset_t *keys, const bcl_policy_t *policy,
                                long long now, bcl_verdict_t *v);

#endif
