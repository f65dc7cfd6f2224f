/* Logout token validation: bytes + keys + policy + clock -> verdict.
 * Implements OpenID Connect Back-Channel Logout 1.0, section 2.6. */
#ifndef BCL_TOKEN_H
#define BCL_TOKEN_H

#include <apr_pools.h>
#include <apr_tables.h>
#include "bcl_alg.h"
#include "bcl_keyset.h"
#include "bcl_reason.h"

/* The event member a logout token's "events" claim must contain. */
#define BCL_LOGOUT_EVENT "http://schemas.openid.net/event/backchannel-logout"

/* How long a token without exp stays acceptable after its iat (seconds,
 * plus clock skew), when BCLRequireExp is Off. */
#define BCL_NO_EXP_MAX_AGE 120

typedef struct {
    const char *issuer;                   /* required: the only accepted iss */
    const apr_array_header_t *client_ids; /* of const char*: accepted audiences */
    bcl_alg_mask_t allowed_algs;          /* BCLSigningAlg */
    int require_sid;                      /* BCLRequireSid */
    int require_exp;                      /* BCLRequireExp */
    int require_encryption;               /* BCLRequireEncryption */
    long clock_skew;                      /* BCLClockSkew, seconds */
} bcl_policy_t;

typedef struct {
    bcl_reason_t reason;      /* BCL_OK when the token is valid */
    const char *detail;       /* human description of the failed check (never contains secrets) */
    /* What could be read from the token, also on failure (for the log).
     * Strings point into the pool; NULL when absent. */
    const char *alg;
    const char *kid;
    const char *iss;
    const char *sub;
    const char *sid;
    const char *jti;
    long long iat;            /* 0 when absent */
    long long exp;            /* 0 when absent */
    int encrypted;            /* the token was a JWE */
} bcl_verdict_t;

/* For the parts of the validator (JWS, JWE, claims): records a refusal in
 * `v` and returns its reason. */
bcl_reason_t bcl_verdict_fail(bcl_verdict_t *v, bcl_reason_t r, const char *detail);

/* A token's string as it may appear in a refusal's description: at most 64
 * characters, without quotes, backslashes or control characters. */
const char *bcl_token_clip(apr_pool_t *p, const char *s);

/* Validates `token` (compact JWS, or compact JWE wrapping a JWS) at time
 * `now` (seconds since the epoch). Everything is allocated from `p`; nothing
 * is retained. Returns v->reason. */
bcl_reason_t bcl_token_validate(apr_pool_t *p, const char *token, apr_size_t len,
                                const bcl_keyset_t *keys, const bcl_policy_t *policy,
                                long long now, bcl_verdict_t *v);

#endif
