#include <string.h>
#include "bcl_rules.h"

static int64_t max64(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

int64_t bcl_rules_jti_expires(const bcl_logout_t *l, int64_t now, int64_t lifetime)
{
    int64_t e = l->jti_expires;
    if (lifetime > 0 && e > now + lifetime)
        e = now + lifetime;
    return max64(e, now + 1);
}

static void revocation(bcl_record_t *r, int kind, const bcl_hkey_t *key, const bcl_logout_t *l,
                       int64_t now, int64_t lifetime)
{
    memset(r, 0, sizeof(*r));
    r->key = *key;
    r->kind = (uint8_t)kind;
    r->expires = now + lifetime;
    r->t_server = l->accepted_server;
    r->t_op = l->token_iat;
}

int bcl_rules_logout_records(const bcl_logout_t *l, int64_t now, int64_t lifetime,
                             bcl_record_t out[BCL_RULES_MAX_WRITES])
{
    int n = 1;

    memset(&out[0], 0, sizeof(out[0]));
    out[0].key = l->jti_key;
    out[0].kind = BCL_REC_JTI;
    out[0].expires = bcl_rules_jti_expires(l, now, lifetime);
    if (l->has_sid) {
        /* a session logout of a binding without sid has none (bcl_rules_session_logout) */
        if (!bcl_hkey_is_zero(&l->sid_key))
            revocation(&out[n++], BCL_REC_REVOKED_SID, &l->sid_key, l, now, lifetime);
        if (!bcl_hkey_is_zero(&l->sub_key))
            revocation(&out[n++], BCL_REC_REVOKED_SUB_NOSID, &l->sub_key, l, now, lifetime);
    } else if (bcl_hkey_is_zero(&l->sub_key) && !bcl_hkey_is_zero(&l->iss_key)) {
        revocation(&out[n++], BCL_REC_REVOKED_ISS, &l->iss_key, l, now, lifetime);
    } else {
        revocation(&out[n++], BCL_REC_REVOKED_SUB, &l->sub_key, l, now, lifetime);
    }
    return n;
}

int bcl_rules_session_logout(bcl_logout_t *l, const bcl_identity_t *id, const bcl_hkey_t *once,
                             int64_t accepted_server, int64_t now)
{
    memset(l, 0, sizeof(*l));
    if (bcl_hkey_is_zero(&id->sid_key) && bcl_hkey_is_zero(&id->sub_key))
        return 0;
    l->jti_key = *once;
    l->has_sid = 1;
    if (!bcl_hkey_is_zero(&id->sid_key))
        l->sid_key = id->sid_key;       /* that session alone: sub stays zero */
    else
        l->sub_key = id->sub_key;       /* sessions of sub with no known sid */
    l->accepted_server = accepted_server;
    l->token_iat = now;
    l->jti_expires = now + 1;
    return 1;
}

int bcl_rules_admin_logout(bcl_logout_t *l, int kind, const bcl_hkey_t *key, const bcl_hkey_t *once,
                           int64_t accepted_server, int64_t now)
{
    memset(l, 0, sizeof(*l));
    if (bcl_hkey_is_zero(key))
        return 0;
    switch (kind) {
    case BCL_REC_REVOKED_SID:
        l->has_sid = 1;
        l->sid_key = *key;
        break;
    case BCL_REC_REVOKED_SUB:
        l->sub_key = *key;
        break;
    case BCL_REC_REVOKED_ISS:
        l->iss_key = *key;
        break;
    default:
        return 0;
    }
    l->jti_key = *once;
    l->accepted_server = accepted_server;
    l->token_iat = now;
    l->jti_expires = now + 1;
    return 1;
}

static int live(const bcl_record_t *r, int kind, int64_t now)
{
    return r != NULL && r->kind == kind && r->expires > now;
}

int bcl_rules_is_replay(const bcl_record_t *jti, int64_t now)
{
    return live(jti, BCL_REC_JTI, now);
}

void bcl_rules_merge(bcl_record_t *rev, const bcl_record_t *old, int64_t now)
{
    if (!live(old, rev->kind, now))
        return;
    rev->expires = max64(rev->expires, old->expires);
    rev->t_server = max64(rev->t_server, old->t_server);
    rev->t_op = max64(rev->t_op, old->t_op);
}

void bcl_rules_binding_record(bcl_record_t *out, const bcl_hkey_t *cookie, const bcl_identity_t *id,
                              int64_t expires)
{
    memset(out, 0, sizeof(*out));
    out->key = *cookie;
    out->kind = BCL_REC_BINDING;
    out->expires = expires;
    out->t_server = id->began_server;
    out->t_op = id->began_op;
    out->sid_key = id->sid_key;
    out->sub_key = id->sub_key;
    memcpy(out->iss_fp, id->iss_key.b, BCL_ISS_FP_LEN);
}

int bcl_rules_binding_identity(const bcl_record_t *b, int64_t now, bcl_identity_t *id)
{
    if (!live(b, BCL_REC_BINDING, now))
        return 0;
    id->sid_key = b->sid_key;
    id->sub_key = b->sub_key;
    id->began_server = b->t_server;
    id->began_op = b->t_op;
    /* no fingerprint (a binding older than cut-offs): the caller's default */
    bcl_hkey_t iss;
    if (bcl_hkey_iss_from_fp(&iss, b->iss_fp))
        id->iss_key = iss;
    return 1;
}

int bcl_rules_revocations_of(const bcl_identity_t *id, bcl_rules_ref_t out[BCL_RULES_MAX_REVS])
{
    int n = 0, has_sid = !bcl_hkey_is_zero(&id->sid_key);

    if (has_sid) {
        out[n].kind = BCL_REC_REVOKED_SID;
        out[n++].key = id->sid_key;
    }
    if (!bcl_hkey_is_zero(&id->sub_key)) {
        out[n].kind = BCL_REC_REVOKED_SUB;
        out[n++].key = id->sub_key;
        /* a session bound by sub alone (no sid known) is also ended by a
         * logout that named its sub together with some sid */
        if (!has_sid) {
            out[n].kind = BCL_REC_REVOKED_SUB_NOSID;
            out[n++].key = id->sub_key;
        }
    }
    if (!bcl_hkey_is_zero(&id->iss_key)) {
        out[n].kind = BCL_REC_REVOKED_ISS;
        out[n++].key = id->iss_key;
    }
    return n;
}

bcl_session_state_t bcl_rules_state(const bcl_identity_t *id, const bcl_rules_ref_t *refs,
                                    const bcl_record_t *const *found, int n, int64_t now)
{
    for (int i = 0; i < n; i++) {
        const bcl_record_t *r = found[i];
        if (r == NULL)
            continue;
        switch (refs[i].kind) {
        case BCL_REC_REVOKED_SID:
            if (live(r, BCL_REC_REVOKED_SID, now))
                return BCL_SESSION_REVOKED;
            break;
        case BCL_REC_REVOKED_SUB:
        case BCL_REC_REVOKED_SUB_NOSID:
        case BCL_REC_REVOKED_ISS:
            if (live(r, refs[i].kind, now) && bcl_sub_revocation_applies(r, id))
                return BCL_SESSION_REVOKED;
            break;
        default:
            break;
        }
    }
    return BCL_SESSION_LIVE;
}

int bcl_sub_revocation_applies(const bcl_record_t *rev, const bcl_identity_t *id)
{
    if (id->began_op != 0)
        return id->began_op <= rev->t_op;
    if (id->began_server != 0)
        return id->began_server <= rev->t_server;
    return 1;
}
