/* The rules of revocation and binding (bcl_rules.c), without a store. */
#include <string.h>
#include <check.h>
#include "bcl_netrec.h"
#include "bcl_rules.h"
#include "test_helpers.h"

static bcl_logout_t logout_of(const char *sid, const char *sub, int64_t jti_expires)
{
    bcl_logout_t l;
    memset(&l, 0, sizeof(l));
    ck_assert_int_eq(bcl_hkey_jti(&l.jti_key, "https://op", "j"), 0);
    l.has_sid = sid != NULL;
    if (sid)
        ck_assert_int_eq(bcl_hkey_sid(&l.sid_key, "https://op", sid), 0);
    if (sub)
        ck_assert_int_eq(bcl_hkey_sub(&l.sub_key, "https://op", sub), 0);
    l.accepted_server = 5000000;
    l.token_iat = 5;
    l.jti_expires = jti_expires;
    return l;
}

START_TEST(test_jti_expiry_is_capped)
{
    bcl_logout_t l = logout_of("s", NULL, 1000);
    ck_assert(bcl_rules_jti_expires(&l, 100, 5000) == 1000);
    ck_assert(bcl_rules_jti_expires(&l, 100, 500) == 600);
    l.jti_expires = 50;   /* already past: at least a second */
    ck_assert(bcl_rules_jti_expires(&l, 100, 500) == 101);
    l.jti_expires = INT64_MAX / 2;
    ck_assert(bcl_rules_jti_expires(&l, 100, 86400) == 100 + 86400);
}
END_TEST

START_TEST(test_what_a_logout_writes)
{
    bcl_record_t r[BCL_RULES_MAX_WRITES];
    bcl_logout_t sid = logout_of("s", NULL, 1000), both = logout_of("s", "u", 1000), sub = logout_of(NULL, "u", 1000);

    ck_assert_int_eq(bcl_rules_logout_records(&sid, 100, 500, r), 2);
    ck_assert_int_eq(r[0].kind, BCL_REC_JTI);
    ck_assert(r[0].expires == 600);
    ck_assert_int_eq(r[1].kind, BCL_REC_REVOKED_SID);
    ck_assert(memcmp(&r[1].key, &sid.sid_key, BCL_KEY_LEN) == 0 && r[1].expires == 600);

    ck_assert_int_eq(bcl_rules_logout_records(&both, 100, 500, r), 3);
    ck_assert_int_eq(r[1].kind, BCL_REC_REVOKED_SID);
    ck_assert_int_eq(r[2].kind, BCL_REC_REVOKED_SUB_NOSID);
    ck_assert(memcmp(&r[2].key, &both.sub_key, BCL_KEY_LEN) == 0);
    ck_assert(r[2].t_server == 5000000 && r[2].t_op == 5);

    ck_assert_int_eq(bcl_rules_logout_records(&sub, 100, 500, r), 2);
    ck_assert_int_eq(r[1].kind, BCL_REC_REVOKED_SUB);
}
END_TEST

START_TEST(test_merge_keeps_the_later_times)
{
    bcl_record_t rev, old;
    memset(&rev, 0, sizeof(rev));
    memset(&old, 0, sizeof(old));
    rev.kind = old.kind = BCL_REC_REVOKED_SUB;
    rev.expires = 100; rev.t_server = 50; rev.t_op = 7;
    old.expires = 200; old.t_server = 40; old.t_op = 9;
    bcl_rules_merge(&rev, &old, 10);
    ck_assert(rev.expires == 200 && rev.t_server == 50 && rev.t_op == 9);
    /* another kind under the key, or an expired record, is not merged */
    old.kind = BCL_REC_BINDING;
    old.t_server = 999;
    bcl_rules_merge(&rev, &old, 10);
    ck_assert(rev.t_server == 50);
    old.kind = BCL_REC_REVOKED_SUB;
    old.expires = 10;
    bcl_rules_merge(&rev, &old, 10);
    ck_assert(rev.t_server == 50);
    bcl_rules_merge(&rev, NULL, 10);
}
END_TEST


static bcl_record_t revocation(int kind, int64_t expires, int64_t ts, int64_t top)
{
    bcl_record_t r;
    memset(&r, 0, sizeof(r));
    r.kind = (uint8_t)kind;
    r.expires = expires;
    r.t_server = ts;
    r.t_op = top;
    return r;
}

/* The state from the records found for each reference. */
static bcl_session_state_t state_with(const bcl_identity_t *id, const bcl_record_t *sid, const bcl_record_t *sub,
                                      const bcl_record_t *nosid, int64_t now)
{
    bcl_rules_ref_t refs[BCL_RULES_MAX_REVS];
    const bcl_record_t *found[BCL_RULES_MAX_REVS];
    int n = bcl_rules_revocations_of(id, refs);
    for (int i = 0; i < n; i++)
        found[i] = refs[i].kind == BCL_REC_REVOKED_SID ? sid : refs[i].kind == BCL_REC_REVOKED_SUB ? sub : nosid;
    return bcl_rules_state(id, refs, found, n, now);
}

START_TEST(test_session_state)
{
    const int64_t now = 1000;
    bcl_record_t sid = revocation(BCL_REC_REVOKED_SID, now + 10, 0, 0);
    bcl_record_t sub = revocation(BCL_REC_REVOKED_SUB, now + 10, 500, 100);
    bcl_record_t nosid = revocation(BCL_REC_REVOKED_SUB_NOSID, now + 10, 500, 100);
    bcl_identity_t with_sid = th_identity("s", "u", 400, 0), sub_only = th_identity(NULL, "u", 400, 0);
    bcl_identity_t sid_only = th_identity("s", NULL, 400, 0), none = th_identity(NULL, NULL, 0, 0);
    bcl_rules_ref_t refs[BCL_RULES_MAX_REVS];

    ck_assert_int_eq(bcl_rules_revocations_of(&with_sid, refs), 2);
    ck_assert_int_eq(bcl_rules_revocations_of(&sub_only, refs), 2);
    ck_assert_int_eq(refs[1].kind, BCL_REC_REVOKED_SUB_NOSID);
    ck_assert_int_eq(bcl_rules_revocations_of(&sid_only, refs), 1);
    ck_assert_int_eq(bcl_rules_revocations_of(&none, refs), 0);

    ck_assert_int_eq(state_with(&with_sid, NULL, NULL, NULL, now), BCL_SESSION_LIVE);
    ck_assert_int_eq(state_with(&with_sid, &sid, NULL, NULL, now), BCL_SESSION_REVOKED);
    ck_assert_int_eq(state_with(&with_sid, NULL, &sub, NULL, now), BCL_SESSION_REVOKED);
    /* a sid+sub logout of another sid leaves a session with a known sid */
    ck_assert_int_eq(state_with(&with_sid, NULL, NULL, &nosid, now), BCL_SESSION_LIVE);
    /* ... and ends one bound by sub alone, begun before it */
    ck_assert_int_eq(state_with(&sub_only, NULL, NULL, &nosid, now), BCL_SESSION_REVOKED);
    bcl_identity_t sub_only_after = th_identity(NULL, "u", 501, 0);
    ck_assert_int_eq(state_with(&sub_only_after, NULL, NULL, &nosid, now), BCL_SESSION_LIVE);
    ck_assert_int_eq(state_with(&sub_only_after, NULL, &sub, NULL, now), BCL_SESSION_LIVE);
    /* OP times for identities from an auth module */
    bcl_identity_t op = th_identity(NULL, "u", 0, 100);
    ck_assert_int_eq(state_with(&op, NULL, NULL, &nosid, now), BCL_SESSION_REVOKED);
    op.began_op = 101;
    ck_assert_int_eq(state_with(&op, NULL, &sub, &nosid, now), BCL_SESSION_LIVE);
    /* expired records, and records of another kind, count as none */
    sid.expires = now;
    ck_assert_int_eq(state_with(&with_sid, &sid, NULL, NULL, now), BCL_SESSION_LIVE);
    sid.expires = now + 10;
    sid.kind = BCL_REC_JTI;
    ck_assert_int_eq(state_with(&with_sid, &sid, NULL, NULL, now), BCL_SESSION_LIVE);
    ck_assert_int_eq(state_with(&sub_only, NULL, &nosid, NULL, now), BCL_SESSION_LIVE);
}
END_TEST

START_TEST(test_bindings_and_replays)
{
    bcl_identity_t id = th_identity("s", "u", 400, 7), got;
    bcl_hkey_t c;
    bcl_record_t b, j;

    memset(&got, 0, sizeof(got));
    ck_assert_int_eq(bcl_hkey_cookie(&c, "APP", "v", 1), 0);
    bcl_rules_binding_record(&b, &c, &id, 100);
    ck_assert_int_eq(b.kind, BCL_REC_BINDING);
    ck_assert(bcl_rules_binding_identity(&b, 99, &got));
    ck_assert(memcmp(&got, &id, sizeof(id)) == 0);
    ck_assert(!bcl_rules_binding_identity(&b, 100, &got));
    ck_assert(!bcl_rules_binding_identity(NULL, 0, &got));
    memset(&j, 0, sizeof(j));
    j.kind = BCL_REC_JTI;
    j.expires = 100;
    ck_assert(bcl_rules_is_replay(&j, 99));
    ck_assert(!bcl_rules_is_replay(&j, 100));
    ck_assert(!bcl_rules_is_replay(NULL, 0));
    ck_assert(!bcl_rules_is_replay(&b, 0));
}
END_TEST

START_TEST(test_stored_keys)
{
    bcl_hkey_t k, out, out2;
    ck_assert_int_eq(bcl_hkey_sub(&k, "https://op", "u"), 0);
    ck_assert_int_eq(bcl_hkey_stored(&out, BCL_REC_REVOKED_SUB, &k), 0);
    ck_assert(memcmp(&out, &k, sizeof(k)) == 0);
    ck_assert_int_eq(bcl_hkey_stored(&out, BCL_REC_REVOKED_SUB_NOSID, &k), 0);
    ck_assert(memcmp(&out, &k, sizeof(k)) != 0);
    ck_assert_int_eq(bcl_hkey_stored(&out2, BCL_REC_REVOKED_SUB_NOSID, &k), 0);
    ck_assert(memcmp(&out, &out2, sizeof(k)) == 0);
}
END_TEST

START_TEST(test_session_logout_writes_what_a_token_would)
{
    bcl_record_t r[BCL_RULES_MAX_WRITES];
    bcl_identity_t id, none;
    bcl_hkey_t once;
    bcl_logout_t l;

    memset(&id, 0, sizeof(id));
    memset(&none, 0, sizeof(none));
    ck_assert_int_eq(bcl_hkey_jti(&once, "https://op", "frontchannel once"), 0);
    ck_assert_int_eq(bcl_hkey_sid(&id.sid_key, "https://op", "s"), 0);
    ck_assert_int_eq(bcl_hkey_sub(&id.sub_key, "https://op", "u"), 0);
    /* a sid: that session alone, as a token with sid and no sub */
    ck_assert(bcl_rules_session_logout(&l, &id, &once, 7000000, 7));
    ck_assert_int_eq(bcl_rules_logout_records(&l, 7, 500, r), 2);
    ck_assert_int_eq(r[0].kind, BCL_REC_JTI);
    ck_assert(memcmp(&r[0].key, &once, BCL_KEY_LEN) == 0 && r[0].expires == 8);
    ck_assert_int_eq(r[1].kind, BCL_REC_REVOKED_SID);
    ck_assert(memcmp(&r[1].key, &id.sid_key, BCL_KEY_LEN) == 0 && r[1].expires == 507);
    ck_assert(r[1].t_server == 7000000 && r[1].t_op == 7);
    /* sub only: the sessions of sub with no known sid */
    memset(&id.sid_key, 0, sizeof(id.sid_key));
    ck_assert(bcl_rules_session_logout(&l, &id, &once, 7000000, 7));
    ck_assert_int_eq(bcl_rules_logout_records(&l, 7, 500, r), 2);
    ck_assert_int_eq(r[1].kind, BCL_REC_REVOKED_SUB_NOSID);
    ck_assert(memcmp(&r[1].key, &id.sub_key, BCL_KEY_LEN) == 0);
    /* nothing to revoke */
    ck_assert(!bcl_rules_session_logout(&l, &none, &once, 7000000, 7));
}
END_TEST

START_TEST(test_issuer_key_is_a_padded_fingerprint)
{
    bcl_hkey_t k, k2, other, back, stored;
    uint8_t zero[BCL_ISS_FP_LEN] = { 0 };

    ck_assert_int_eq(bcl_hkey_iss(&k, "https://op"), 0);
    ck_assert_int_eq(bcl_hkey_iss(&k2, "https://op"), 0);
    ck_assert_int_eq(bcl_hkey_iss(&other, "https://other"), 0);
    ck_assert(memcmp(&k, &k2, sizeof(k)) == 0);
    ck_assert(memcmp(&k, &other, sizeof(k)) != 0);
    ck_assert(!bcl_hkey_is_zero(&k));
    for (int i = BCL_ISS_FP_LEN; i < BCL_KEY_LEN; i++)
        ck_assert_int_eq(k.b[i], 0);
    ck_assert(bcl_hkey_iss_from_fp(&back, k.b));
    ck_assert(memcmp(&k, &back, sizeof(k)) == 0);
    ck_assert(!bcl_hkey_iss_from_fp(&back, zero));
    /* the table keeps the cut-off under a hash of its key, like sub-nosid */
    ck_assert_int_eq(bcl_hkey_stored(&stored, BCL_REC_REVOKED_ISS, &k), 0);
    ck_assert(memcmp(&stored, &k, sizeof(k)) != 0);
}
END_TEST

START_TEST(test_admin_logout_writes_what_a_token_would)
{
    bcl_record_t r[BCL_RULES_MAX_WRITES];
    bcl_hkey_t once, sub, sid, iss, zero;
    bcl_logout_t l;

    memset(&zero, 0, sizeof(zero));
    ck_assert_int_eq(bcl_hkey_jti(&once, "https://op", "admin once"), 0);
    ck_assert_int_eq(bcl_hkey_sub(&sub, "https://op", "u"), 0);
    ck_assert_int_eq(bcl_hkey_sid(&sid, "https://op", "s"), 0);
    ck_assert_int_eq(bcl_hkey_iss(&iss, "https://op"), 0);
    /* sub: every session of sub begun before, as a token naming sub alone */
    ck_assert(bcl_rules_admin_logout(&l, BCL_REC_REVOKED_SUB, &sub, &once, 7000000, 7));
    ck_assert_int_eq(bcl_rules_logout_records(&l, 7, 500, r), 2);
    ck_assert_int_eq(r[0].kind, BCL_REC_JTI);
    ck_assert(r[0].expires == 8);
    ck_assert_int_eq(r[1].kind, BCL_REC_REVOKED_SUB);
    ck_assert(memcmp(&r[1].key, &sub, BCL_KEY_LEN) == 0 && r[1].t_server == 7000000 && r[1].t_op == 7);
    /* sid: that session */
    ck_assert(bcl_rules_admin_logout(&l, BCL_REC_REVOKED_SID, &sid, &once, 7000000, 7));
    ck_assert_int_eq(bcl_rules_logout_records(&l, 7, 500, r), 2);
    ck_assert_int_eq(r[1].kind, BCL_REC_REVOKED_SID);
    ck_assert(memcmp(&r[1].key, &sid, BCL_KEY_LEN) == 0);
    /* all: the issuer's cut-off */
    ck_assert(bcl_rules_admin_logout(&l, BCL_REC_REVOKED_ISS, &iss, &once, 7000000, 7));
    ck_assert_int_eq(bcl_rules_logout_records(&l, 7, 500, r), 2);
    ck_assert_int_eq(r[1].kind, BCL_REC_REVOKED_ISS);
    ck_assert(memcmp(&r[1].key, &iss, BCL_KEY_LEN) == 0 && r[1].expires == 507);
    /* nothing else */
    ck_assert(!bcl_rules_admin_logout(&l, BCL_REC_JTI, &sub, &once, 7000000, 7));
    ck_assert(!bcl_rules_admin_logout(&l, BCL_REC_REVOKED_SUB, &zero, &once, 7000000, 7));
}
END_TEST

START_TEST(test_issuer_cutoff_state)
{
    const int64_t now = 1000;
    bcl_record_t cut = revocation(BCL_REC_REVOKED_ISS, now + 10, 500, 100), b;
    bcl_identity_t before = th_identity("s", "u", 400, 0), after = th_identity("s", "u", 501, 0), got, old;
    bcl_rules_ref_t refs[BCL_RULES_MAX_REVS];
    const bcl_record_t *found[BCL_RULES_MAX_REVS];
    bcl_hkey_t iss, c;

    ck_assert_int_eq(bcl_hkey_iss(&iss, "https://op"), 0);
    before.iss_key = after.iss_key = iss;
    /* the cut-off is one more reference, after sid and sub */
    ck_assert_int_eq(bcl_rules_revocations_of(&before, refs), 3);
    ck_assert_int_eq(refs[2].kind, BCL_REC_REVOKED_ISS);
    ck_assert(memcmp(&refs[2].key, &iss, BCL_KEY_LEN) == 0);
    bcl_identity_t sub_only = th_identity(NULL, "u", 400, 0);
    sub_only.iss_key = iss;
    ck_assert_int_eq(bcl_rules_revocations_of(&sub_only, refs), 3);
    found[0] = found[1] = NULL;
    found[2] = &cut;
    ck_assert_int_eq(bcl_rules_state(&before, refs, found, 3, now), BCL_SESSION_REVOKED);
    ck_assert_int_eq(bcl_rules_state(&after, refs, found, 3, now), BCL_SESSION_LIVE);
    /* OP times (an auth module's identity) */
    bcl_identity_t env = th_identity("s", NULL, 0, 100);
    env.iss_key = iss;
    ck_assert_int_eq(bcl_rules_revocations_of(&env, refs), 2);
    found[0] = NULL;
    found[1] = &cut;
    ck_assert_int_eq(bcl_rules_state(&env, refs, found, 2, now), BCL_SESSION_REVOKED);
    env.began_op = 101;
    ck_assert_int_eq(bcl_rules_state(&env, refs, found, 2, now), BCL_SESSION_LIVE);
    /* an expired cut-off, or a record of another kind, is none */
    env.began_op = 100;
    cut.expires = now;
    ck_assert_int_eq(bcl_rules_state(&env, refs, found, 2, now), BCL_SESSION_LIVE);
    cut.expires = now + 10;
    cut.kind = BCL_REC_REVOKED_SUB;
    ck_assert_int_eq(bcl_rules_state(&env, refs, found, 2, now), BCL_SESSION_LIVE);

    /* a binding keeps its issuer's fingerprint, and gives the key back */
    ck_assert_int_eq(bcl_hkey_cookie(&c, "APP", "v", 1), 0);
    bcl_rules_binding_record(&b, &c, &before, 2000);
    memset(&got, 0, sizeof(got));
    ck_assert(bcl_rules_binding_identity(&b, now, &got));
    ck_assert(memcmp(&got.iss_key, &iss, BCL_KEY_LEN) == 0);
    /* a binding without one (made before cut-offs) takes the caller's default */
    old = th_identity("s", "u", 400, 0);
    bcl_rules_binding_record(&b, &c, &old, 2000);
    memset(&got, 0, sizeof(got));
    ck_assert(bcl_rules_binding_identity(&b, now, &got));
    ck_assert(bcl_hkey_is_zero(&got.iss_key));
    ck_assert_int_eq(bcl_rules_revocations_of(&got, refs), 2);
    memset(&got, 0, sizeof(got));
    got.iss_key = iss;
    ck_assert(bcl_rules_binding_identity(&b, now, &got));
    ck_assert(memcmp(&got.iss_key, &iss, BCL_KEY_LEN) == 0);
}
END_TEST

START_TEST(test_issuer_cutoff_on_the_network)
{
    bcl_record_t b, back, cut;
    bcl_identity_t id = th_identity("s", "u", 400, 0);
    bcl_hkey_t iss, c;
    char val[BCL_NET_VALUE_MAX], key[BCL_NET_KEY_MAX];
    size_t n;

    ck_assert_int_eq(bcl_hkey_iss(&iss, "https://op"), 0);
    id.iss_key = iss;
    ck_assert_int_eq(bcl_hkey_cookie(&c, "APP", "v", 1), 0);
    bcl_rules_binding_record(&b, &c, &id, 2000);
    memset(&b.key, 0, sizeof(b.key));   /* values do not carry their key */
    n = bcl_netrec_encode(val, &b);
    ck_assert_uint_gt(n, 0);
    ck_assert_int_eq(bcl_netrec_decode(val, n, &back), 0);
    ck_assert(memcmp(&back, &b, sizeof(b)) == 0);
    /* a value written before cut-offs (no fingerprint) still decodes */
    memset(b.iss_fp, 0, sizeof(b.iss_fp));
    n = bcl_netrec_encode(val, &b);
    ck_assert_int_eq(bcl_netrec_decode(val, n, &back), 0);
    ck_assert(memcmp(&back, &b, sizeof(b)) == 0);
    /* a fingerprint on another kind, or a zero one, is not ours */
    ck_assert_int_ne(bcl_netrec_decode("1 s 5 6 7 - - 01020304050607", strlen("1 s 5 6 7 - - 01020304050607"), &back), 0);
    ck_assert_int_ne(bcl_netrec_decode("1 c 5 6 7 - - 00000000000000", strlen("1 c 5 6 7 - - 00000000000000"), &back), 0);
    ck_assert_int_eq(bcl_netrec_decode("1 c 5 6 7 - - 01020304050607", strlen("1 c 5 6 7 - - 01020304050607"), &back), 0);
    /* the cut-off's name is the fingerprint's hex and zeros (redis's Lua builds it) */
    ck_assert_uint_gt(bcl_netrec_key(key, "bcl:", BCL_REC_REVOKED_ISS, &iss), 0);
    ck_assert_str_eq(key + strlen(key) - 18, "000000000000000000");
    ck_assert(strncmp(key, "bcl:i:", 6) == 0);
    memset(&cut, 0, sizeof(cut));
    cut.kind = BCL_REC_REVOKED_ISS;
    cut.expires = 10;
    n = bcl_netrec_encode(val, &cut);
    ck_assert_int_eq(bcl_netrec_decode(val, n, &back), 0);
    ck_assert_int_eq(back.kind, BCL_REC_REVOKED_ISS);
}
END_TEST

Suite *rules_suite(void)
{
    Suite *s = suite_create("rules");
    TCase *tc = tcase_create("rules");
    tcase_add_test(tc, test_jti_expiry_is_capped);
    tcase_add_test(tc, test_what_a_logout_writes);
    tcase_add_test(tc, test_merge_keeps_the_later_times);
    tcase_add_test(tc, test_session_state);
    tcase_add_test(tc, test_bindings_and_replays);
    tcase_add_test(tc, test_stored_keys);
    tcase_add_test(tc, test_session_logout_writes_what_a_token_would);
    tcase_add_test(tc, test_issuer_key_is_a_padded_fingerprint);
    tcase_add_test(tc, test_admin_logout_writes_what_a_token_would);
    tcase_add_test(tc, test_issuer_cutoff_state);
    tcase_add_test(tc, test_issuer_cutoff_on_the_network);
    suite_add_tcase(s, tc);
    return s;
}
