/* The rules of revocation and binding, in one place. Every store backend
 * (shared-memory table, memcache, redis) only fetches and writes records;
 * what a logout writes, how it merges with what is stored, and whether a
 * session is revoked are decided here. Pure functions: no I/O, no pools.
 *
 * A logout token revokes:
 *   sid only        the session with that sid (BCL_REC_REVOKED_SID);
 *   sid and sub     that session, and the sessions of sub whose sid is not
 *                   known (bound by sub alone) that began before the logout
 *                   (BCL_REC_REVOKED_SUB_NOSID); a session bound to another
 *                   sid of the same sub stays alive;
 *   sub only        every session of sub that began before the logout
 *                   (BCL_REC_REVOKED_SUB).
 * An administrator (SetHandler backchannel-logout-admin) revokes with the
 * same records (sub, sid), or sets an issuer's cut-off: every session of
 * that issuer that began before it (BCL_REC_REVOKED_ISS).
 * "Began before": bcl_sub_revocation_applies. */
#ifndef BCL_RULES_H
#define BCL_RULES_H

#include <stdint.h>
#include "bcl_record.h"
#include "bcl_store.h"

/* A logout writes its jti and at most two revocations. */
#define BCL_RULES_MAX_WRITES 3
/* A session is checked against at most three revocation records: its sid,
 * its sub (or sub without sid), its issuer's cut-off. */
#define BCL_RULES_MAX_REVS 3

/* How long a store remembers a logout's jti: until the token could no
 * longer be accepted (l->jti_expires), but at most `lifetime`
 * (BCLRevocationLifetime) from now, so that a token with a far-future exp
 * cannot hold a record for longer than any revocation; at least 1 s. */
int64_t bcl_rules_jti_expires(const bcl_logout_t *l, int64_t now, int64_t lifetime);

/* Whether a logout is a replay: `jti` is what the store holds under its
 * jti's key (NULL: nothing), a live jti record. */
int bcl_rules_is_replay(const bcl_record_t *jti, int64_t now);

/* The records a logout writes, all or nothing: out[0] is its jti, out[1..]
 * its revocations (kind and identity key set; merge each with the record
 * stored under the same kind and key with bcl_rules_merge before writing).
 * Returns how many (2 or 3). */
int bcl_rules_logout_records(const bcl_logout_t *l, int64_t now, int64_t lifetime,
                             bcl_record_t out[BCL_RULES_MAX_WRITES]);

/* A logout without a token (front channel): it revokes the session of
 * identity `id` with the same records a logout token naming it would write.
 *   a sid key       that session (BCL_REC_REVOKED_SID), as a token with
 *                   this sid and no sub;
 *   a sub key only  (a binding that knew no sid) the sessions of sub whose
 *                   sid is not known, begun before now
 *                   (BCL_REC_REVOKED_SUB_NOSID): the store cannot name one
 *                   of them alone; sessions bound to a sid stay alive.
 * There is no jti: `once` is a key never used before (the caller derives it
 * from the identity, the time and random bytes), kept 1 s, so that the
 * stores' replay check never matches. Times: `accepted_server` in
 * microseconds, `now` in seconds, both this server's clock. Returns 0 (and
 * fills nothing useful) when `id` names neither sid nor sub. */
int bcl_rules_session_logout(bcl_logout_t *l, const bcl_identity_t *id, const bcl_hkey_t *once,
                             int64_t accepted_server, int64_t now);

/* An administrator's revocation (no token): `kind` is BCL_REC_REVOKED_SUB
 * (every session of that sub begun before now, as a token naming the sub
 * alone), BCL_REC_REVOKED_SID (that session, as a token naming the sid
 * alone) or BCL_REC_REVOKED_ISS (every session of the issuer begun before
 * now; `key` from bcl_hkey_iss). `once` as for bcl_rules_session_logout.
 * Returns 0 for another kind or a zero key. */
int bcl_rules_admin_logout(bcl_logout_t *l, int kind, const bcl_hkey_t *key, const bcl_hkey_t *once,
                           int64_t accepted_server, int64_t now);

/* A revocation meets the one already stored under its key (`old`: NULL,
 * expired, or of another kind count as none): it keeps the later of each
 * time and of the expiry. A later logout of the same subject kills every
 * session begun before it; an older token arriving late never shortens a
 * revocation. */
void bcl_rules_merge(bcl_record_t *rev, const bcl_record_t *old, int64_t now);

/* The binding record of a session cookie (by hash); it keeps the
 * fingerprint of id->iss_key. */
void bcl_rules_binding_record(bcl_record_t *out, const bcl_hkey_t *cookie, const bcl_identity_t *id,
                              int64_t expires);

/* The identity a live binding names; 0 (and `id` untouched) when `b` is
 * NULL, expired or not a binding: the session is unbound. On entry,
 * id->iss_key is the cut-off key that applies to a binding made before
 * bindings carried their issuer (no fingerprint): the guard passes its
 * location's BCLIssuer's, others zero (no cut-off for such a binding). */
int bcl_rules_binding_identity(const bcl_record_t *b, int64_t now, bcl_identity_t *id);

/* The revocation records that can revoke a session of identity `id`, as
 * (kind, identity key) pairs; returns how many (0 to BCL_RULES_MAX_REVS). */
typedef struct {
    int kind;
    bcl_hkey_t key;
} bcl_rules_ref_t;
int bcl_rules_revocations_of(const bcl_identity_t *id, bcl_rules_ref_t out[BCL_RULES_MAX_REVS]);

/* Whether a session of identity `id` is revoked, from what the store found
 * for each of its revocation records: found[i] for refs[i] of
 * bcl_rules_revocations_of (NULL: none). Expired records and records of
 * another kind count as none. */
bcl_session_state_t bcl_rules_state(const bcl_identity_t *id, const bcl_rules_ref_t *refs,
                                    const bcl_record_t *const *found, int n, int64_t now);

/* Whether a session with identity `id` is killed by a sub revocation
 * record `rev` (BCL_REC_REVOKED_SUB or _NOSID, and an issuer cut-off): it began at or before the
 * logout. Bindings made by this server compare this server's times;
 * identities from an auth module compare the OP's iat values. Unknown
 * begin times count as before. */
int bcl_sub_revocation_applies(const bcl_record_t *rev, const bcl_identity_t *id);

#endif
