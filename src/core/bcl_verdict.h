/* What the token validator's parts share: the policy a token is checked
 * against (from the directives) and the verdict they fill in. bcl_jws.c,
 * bcl_jwe.c and bcl_token.c (the claims) depend on this, not on each other's
 * room. */
#ifndef BCL_VERDICT_H
#define BCL_VERDICT_H

#include <apr_pools.h>
#include <apr_tables.h>
#include "bcl_alg.h"
#include "bcl_reason.h"

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
const char *bcl_verdict_clip(apr_pool_t *p, const char *s);

#endif
