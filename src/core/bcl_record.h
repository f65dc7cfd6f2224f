/* The record model of the revocation store. Every key is a hash: raw cookie
 * values, and the identities they map to, are never stored. */
#ifndef BCL_RECORD_H
#define BCL_RECORD_H

#include <stdint.h>
#include <stddef.h>

#define BCL_KEY_LEN 16

typedef struct {
    unsigned char b[BCL_KEY_LEN];
} bcl_hkey_t;

typedef enum {
    BCL_REC_EMPTY = 0,
    BCL_REC_REVOKED_SID = 1,  /* a logout named (iss, sid) */
    BCL_REC_REVOKED_SUB = 2,  /* a logout named (iss, sub) only */
    BCL_REC_BINDING = 3,      /* cookie hash -> the session's identity */
    BCL_REC_JTI = 4,          /* a logout token already applied */
    BCL_REC_REVOKED_SUB_NOSID = 5, /* a logout named (iss, sid) and (iss, sub):
                                    * sessions of sub whose sid is unknown */
    BCL_REC_REVOKED_ISS = 6,  /* an administrator's cut-off: every session of
                               * an issuer that began before it */
    BCL_REC_KINDS
} bcl_rec_kind_t;

/* One fixed-size record (80 bytes). Times: `t_server` is this server's
 * clock in microseconds (when a logout was first accepted; when a binding
 * was made); `t_op` is the OP's clock in seconds (a sub logout token's iat;
 * an env binding's ID token iat), 0 when unknown. */
#define BCL_ISS_FP_LEN 7
typedef struct {
    bcl_hkey_t key;
    uint8_t kind;
    uint8_t iss_fp[BCL_ISS_FP_LEN]; /* binding: its issuer's fingerprint (the
                               * first bytes of bcl_hkey_iss), zero if unknown
                               * (made before issuer cut-offs existed) */
    int64_t expires;          /* seconds since the epoch */
    int64_t t_server;
    int64_t t_op;
    bcl_hkey_t sid_key;       /* binding: key of its (iss, sid), zero if none */
    bcl_hkey_t sub_key;       /* binding: key of its (iss, sub), zero if none */
} bcl_record_t;

/* Keys: truncated SHA-256 over a kind label and NUL-separated fields.
 * Each returns 0, or -1 when the digest cannot be computed (OpenSSL out of
 * memory, no SHA-256 provider): `*out` is then the all-zero "none" key and
 * must not be used. Every caller fails closed on -1: a request whose cookie
 * cannot be hashed is refused, a binding is not made, a logout is answered
 * 503. There is no stand-in key. */
#define BCL_MUST_CHECK __attribute__((warn_unused_result))
BCL_MUST_CHECK int bcl_hkey_sid(bcl_hkey_t *out, const char *iss, const char *sid);
BCL_MUST_CHECK int bcl_hkey_sub(bcl_hkey_t *out, const char *iss, const char *sub);
BCL_MUST_CHECK int bcl_hkey_jti(bcl_hkey_t *out, const char *iss, const char *jti);
BCL_MUST_CHECK int bcl_hkey_cookie(bcl_hkey_t *out, const char *name, const char *value, size_t value_len);
/* The key of an issuer's cut-off record (BCL_REC_REVOKED_ISS): a 56-bit
 * fingerprint of the issuer (truncated SHA-256, never all zero) followed by
 * zero bytes, so that it fits a binding record's iss_fp and a binding names
 * its issuer's cut-off without growing the record. bcl_hkey_iss_from_fp
 * rebuilds the key from a fingerprint (0 when the fingerprint is zero:
 * none). */
BCL_MUST_CHECK int bcl_hkey_iss(bcl_hkey_t *out, const char *iss);
int bcl_hkey_iss_from_fp(bcl_hkey_t *out, const uint8_t fp[BCL_ISS_FP_LEN]);
/* Turns the digest of ("iss", iss) in `out` into the cut-off key: its
 * fingerprint, zero-padded, never all zero (bcl_hkey_iss; bcl_hasher_iss). */
void bcl_hkey_iss_finish(bcl_hkey_t *out);
int bcl_hkey_is_zero(const bcl_hkey_t *k);
/* The key under which a one-table store (shared memory, journal) keeps a
 * record of `kind` named by `k`: `k` itself, except for
 * BCL_REC_REVOKED_SUB_NOSID, whose name is a sub key that the sub's own
 * revocation already uses, and BCL_REC_REVOKED_ISS, whose name (a
 * fingerprint padded with zeros) is hashed so that it spreads over the
 * table like every other key (network stores tell them apart by the kind
 * letter in the key name instead). 0, or -1 when that key cannot be
 * computed (as above). */
BCL_MUST_CHECK int bcl_hkey_stored(bcl_hkey_t *out, int kind, const bcl_hkey_t *k);

/* The identity of a session, as a binding knows it. */
typedef struct {
    bcl_hkey_t sid_key;       /* zero when the session has no sid */
    bcl_hkey_t sub_key;       /* zero when the session has no sub */
    bcl_hkey_t iss_key;       /* its issuer's cut-off key (bcl_hkey_iss); zero
                               * when unknown */
    int64_t began_server;     /* microseconds, this server's clock; 0 if unknown */
    int64_t began_op;         /* seconds, the OP's clock (ID token iat); 0 if unknown */
} bcl_identity_t;

/* What a logout token revokes (the rules: bcl_rules.h). */
typedef struct {
    bcl_hkey_t jti_key;
    int has_sid;
    bcl_hkey_t sid_key;       /* when has_sid: that session, and when sub_key is
                               * also set, the sessions of sub with no known sid */
    bcl_hkey_t sub_key;       /* without sid: every session of sub that began before */
    bcl_hkey_t iss_key;       /* without sid and sub: every session of that
                               * issuer that began before (an administrator's
                               * cut-off, bcl_rules_admin_logout) */
    int64_t accepted_server;  /* microseconds, this server's clock */
    int64_t token_iat;        /* seconds, the OP's clock */
    int64_t jti_expires;      /* seconds: how long the token could be accepted
                               * again (stores keep the jti at most
                               * BCLRevocationLifetime: bcl_rules_jti_expires) */
} bcl_logout_t;

#endif
