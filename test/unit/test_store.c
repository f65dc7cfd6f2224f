/* The revocation store over its table: record model, capacity, expiry,
 * deletion without tombstones, and the guard's decisions. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <check.h>
#include <apr_pools.h>
#include "bcl_cookie.h"
#include "bcl_store.h"
#include "bcl_table.h"
#include "test_helpers.h"

static apr_pool_t *pool;
static void *mem;

static bcl_table_t *new_table(uint32_t capacity)
{
    free(mem);
    mem = malloc(bcl_table_size(capacity));
    ck_assert_ptr_nonnull(mem);
    return bcl_table_init(mem, capacity);
}

static void setup(void)
{
    apr_pool_create(&pool, NULL);
    mem = NULL;
}

static void teardown(void)
{
    free(mem);
    mem = NULL;
    apr_pool_destroy(pool);
}

static bcl_record_t rec(const char *sid, int64_t expires)
{
    bcl_record_t r;
    memset(&r, 0, sizeof(r));
    ck_assert_int_eq(bcl_hkey_sid(&r.key, "https://op", sid), 0);
    r.kind = BCL_REC_REVOKED_SID;
    r.expires = expires;
    return r;
}

START_TEST(test_record_is_80_bytes)
{
    ck_assert_uint_eq(sizeof(bcl_record_t), 80);
    ck_assert_uint_eq(bcl_table_size(100000), 10000160);
}
END_TEST

START_TEST(test_keys_differ_by_kind_and_field)
{
    bcl_hkey_t a, b, c;
    ck_assert_int_eq(bcl_hkey_sid(&a, "https://op", "x"), 0);
    ck_assert_int_eq(bcl_hkey_sub(&b, "https://op", "x"), 0);
    ck_assert_int_eq(bcl_hkey_sid(&c, "https://op/", "x"), 0);
    ck_assert(memcmp(&a, &b, sizeof(a)) != 0);
    ck_assert(memcmp(&a, &c, sizeof(a)) != 0);
    /* "ab" + "c" and "a" + "bc" must not collide */
    ck_assert_int_eq(bcl_hkey_sid(&a, "ab", "c"), 0);
    ck_assert_int_eq(bcl_hkey_sid(&b, "a", "bc"), 0);
    ck_assert(memcmp(&a, &b, sizeof(a)) != 0);
    ck_assert(!bcl_hkey_is_zero(&a));
}
END_TEST

START_TEST(test_put_get_expiry)
{
    bcl_table_t *t = new_table(64);
    bcl_record_t r = rec("s1", 1000);
    ck_assert_int_eq(bcl_table_put(t, &r, 10), BCL_TABLE_OK);
    ck_assert_ptr_nonnull(bcl_table_get(t, &r.key, 999));
    ck_assert_ptr_null(bcl_table_get(t, &r.key, 1000));
    /* replacing keeps one record */
    r.expires = 2000;
    ck_assert_int_eq(bcl_table_put(t, &r, 10), BCL_TABLE_OK);
    bcl_table_stats_t st;
    bcl_table_stats(t, 10, &st);
    ck_assert_uint_eq(st.used, 1);
    ck_assert_uint_eq(st.by_kind[BCL_REC_REVOKED_SID], 1);
}
END_TEST

START_TEST(test_full_refuses_and_keeps_everything)
{
    bcl_table_t *t = new_table(16);
    char sid[32];
    for (int i = 0; i < 16; i++) {
        snprintf(sid, sizeof(sid), "s%d", i);
        bcl_record_t r = rec(sid, 1000);
        ck_assert_int_eq(bcl_table_put(t, &r, 10), BCL_TABLE_OK);
    }
    bcl_record_t extra = rec("extra", 1000);
    ck_assert_int_eq(bcl_table_put(t, &extra, 10), BCL_TABLE_FULL);
    ck_assert(!bcl_table_has_room(t, 1, 10));
    for (int i = 0; i < 16; i++) {
        snprintf(sid, sizeof(sid), "s%d", i);
        bcl_record_t r = rec(sid, 0);
        ck_assert_msg(bcl_table_get(t, &r.key, 10) != NULL, "record %d lost when full", i);
    }
    /* the crossings: 80% and 100%, once */
    ck_assert_uint_eq(bcl_table_take_crossings(t), 3);
    ck_assert_uint_eq(bcl_table_take_crossings(t), 0);
    /* once records expire, there is room again */
    extra.expires = 5000;
    ck_assert_int_eq(bcl_table_put(t, &extra, 1000), BCL_TABLE_OK);
    ck_assert_ptr_nonnull(bcl_table_get(t, &extra.key, 1000));
}
END_TEST

START_TEST(test_remove_keeps_runs_reachable)
{
    /* many records in a small table make long probe runs; removing any of
     * them must leave every other reachable (backward-shift deletion) */
    bcl_table_t *t = new_table(200);
    char sid[32];
    for (int i = 0; i < 200; i++) {
        snprintf(sid, sizeof(sid), "s%d", i);
        bcl_record_t r = rec(sid, 1000);
        ck_assert_int_eq(bcl_table_put(t, &r, 10), BCL_TABLE_OK);
    }
    for (int i = 0; i < 200; i += 3) {
        snprintf(sid, sizeof(sid), "s%d", i);
        bcl_record_t r = rec(sid, 0);
        ck_assert_int_eq(bcl_table_remove(t, &r.key), 1);
    }
    for (int i = 0; i < 200; i++) {
        snprintf(sid, sizeof(sid), "s%d", i);
        bcl_record_t r = rec(sid, 0);
        if (i % 3 == 0)
            ck_assert_ptr_null(bcl_table_get(t, &r.key, 10));
        else
            ck_assert_msg(bcl_table_get(t, &r.key, 10) != NULL, "record %d unreachable", i);
    }
}
END_TEST

START_TEST(test_sweep_removes_only_expired)
{
    bcl_table_t *t = new_table(100);
    char sid[32];
    for (int i = 0; i < 100; i++) {
        snprintf(sid, sizeof(sid), "s%d", i);
        bcl_record_t r = rec(sid, i % 2 ? 500 : 50);
        ck_assert_int_eq(bcl_table_put(t, &r, 10), BCL_TABLE_OK);
    }
    ck_assert_uint_eq(bcl_table_sweep(t, 100), 50);
    for (int i = 1; i < 100; i += 2) {
        snprintf(sid, sizeof(sid), "s%d", i);
        bcl_record_t r = rec(sid, 0);
        ck_assert_ptr_nonnull(bcl_table_get(t, &r.key, 100));
    }
}
END_TEST

START_TEST(test_attach_checks_the_header)
{
    bcl_table_t *t = new_table(32);
    ck_assert_ptr_eq(bcl_table_attach(mem, bcl_table_size(32)), t);
    ck_assert_ptr_null(bcl_table_attach(mem, 16));
    memset(mem, 0, 8);
    ck_assert_ptr_null(bcl_table_attach(mem, bcl_table_size(32)));
}
END_TEST

static bcl_logout_t logout_of(const char *jti, const char *sid, const char *sub, int64_t at_us, int64_t iat)
{
    bcl_logout_t l;
    memset(&l, 0, sizeof(l));
    ck_assert_int_eq(bcl_hkey_jti(&l.jti_key, "https://op", jti), 0);
    l.has_sid = sid != NULL;
    if (sid)
        ck_assert_int_eq(bcl_hkey_sid(&l.sid_key, "https://op", sid), 0);
    if (sub)
        ck_assert_int_eq(bcl_hkey_sub(&l.sub_key, "https://op", sub), 0);
    l.accepted_server = at_us;
    l.token_iat = iat;
    l.jti_expires = iat + 200;
    return l;
}


START_TEST(test_store_sid_and_sub_logouts)
{
    bcl_store_t *s = bcl_store_table_create(pool, new_table(64), NULL);
    bcl_hkey_t c_old, c_new, c_other;
    bcl_identity_t old_id = th_identity("s1", "alice", 1000, 0);
    bcl_identity_t other_id = th_identity("s2", "alice", 1000, 0);
    bcl_identity_t new_id = th_identity("s3", "alice", 3000, 0);
    bcl_session_state_t st;
    bcl_identity_t got = th_identity(NULL, NULL, 0, 0);  /* cookie_state reads its iss_key (bcl_store.h) */
    memset(&got, 0, sizeof(got));   /* no default issuer cut-off (bcl_rules_binding_identity) */
    int replayed = -1;

    ck_assert_int_eq(bcl_hkey_cookie(&c_old, "APP", "v1", 2), 0);
    ck_assert_int_eq(bcl_hkey_cookie(&c_other, "APP", "v2", 2), 0);
    ck_assert_int_eq(bcl_hkey_cookie(&c_new, "APP", "v3", 2), 0);
    ck_assert_int_eq(s->ops->bind(s, &c_old, &old_id, 100, 1000), BCL_STORE_OK);
    ck_assert_int_eq(s->ops->bind(s, &c_other, &other_id, 100, 1000), BCL_STORE_OK);

    /* a sid logout kills that session only */
    bcl_logout_t l = logout_of("j1", "s1", "alice", 2000, 100);
    ck_assert_int_eq(s->ops->apply_logout(s, &l, 100, 500, &replayed), BCL_STORE_OK);
    ck_assert_int_eq(replayed, 0);
    s->ops->cookie_state(s, &c_old, 100, &st, &got);
    ck_assert_int_eq(st, BCL_SESSION_REVOKED);
    s->ops->cookie_state(s, &c_other, 100, &st, &got);
    ck_assert_int_eq(st, BCL_SESSION_LIVE);

    /* replay: same jti, nothing more */
    ck_assert_int_eq(s->ops->apply_logout(s, &l, 100, 500, &replayed), BCL_STORE_OK);
    ck_assert_int_eq(replayed, 1);

    /* a sub logout at t=2000 kills sessions begun before, not after */
    ck_assert_int_eq(s->ops->bind(s, &c_new, &new_id, 100, 1000), BCL_STORE_OK);
    bcl_logout_t lsub = logout_of("j2", NULL, "alice", 2000, 100);
    ck_assert_int_eq(s->ops->apply_logout(s, &lsub, 100, 500, &replayed), BCL_STORE_OK);
    s->ops->cookie_state(s, &c_other, 100, &st, &got);
    ck_assert_int_eq(st, BCL_SESSION_REVOKED);
    s->ops->cookie_state(s, &c_new, 100, &st, &got);
    ck_assert_int_eq(st, BCL_SESSION_LIVE);

    /* an unknown cookie is unbound; an unbound binding after unbind too */
    bcl_hkey_t unknown;
    ck_assert_int_eq(bcl_hkey_cookie(&unknown, "APP", "zz", 2), 0);
    s->ops->cookie_state(s, &unknown, 100, &st, &got);
    ck_assert_int_eq(st, BCL_SESSION_UNBOUND);
    s->ops->unbind(s, &c_new);
    s->ops->cookie_state(s, &c_new, 100, &st, &got);
    ck_assert_int_eq(st, BCL_SESSION_UNBOUND);

    /* revocations expire with the lifetime */
    s->ops->cookie_state(s, &c_other, 700, &st, &got);
    ck_assert_int_ne(st, BCL_SESSION_REVOKED);
}
END_TEST

START_TEST(test_store_identity_by_op_time)
{
    bcl_store_t *s = bcl_store_table_create(pool, new_table(64), NULL);
    bcl_session_state_t st;
    int replayed;
    bcl_logout_t l = logout_of("j1", NULL, "bob", 5000, 1000);

    ck_assert_int_eq(s->ops->apply_logout(s, &l, 100, 500, &replayed), BCL_STORE_OK);
    bcl_identity_t before = th_identity("x", "bob", 0, 999);
    bcl_identity_t same = th_identity("x", "bob", 0, 1000);
    bcl_identity_t after = th_identity("x", "bob", 0, 1001);
    bcl_identity_t unknown = th_identity(NULL, "bob", 0, 0);
    s->ops->identity_state(s, &before, 100, &st);
    ck_assert_int_eq(st, BCL_SESSION_REVOKED);
    s->ops->identity_state(s, &same, 100, &st);
    ck_assert_int_eq(st, BCL_SESSION_REVOKED);
    s->ops->identity_state(s, &after, 100, &st);
    ck_assert_int_eq(st, BCL_SESSION_LIVE);
    s->ops->identity_state(s, &unknown, 100, &st);
    ck_assert_int_eq(st, BCL_SESSION_REVOKED);
}
END_TEST

START_TEST(test_store_logout_all_or_nothing_when_full)
{
    /* capacity 3: one logout (2 records) fits, the second does not, and
     * leaves neither its jti nor its revocation behind */
    bcl_store_t *s = bcl_store_table_create(pool, new_table(3), NULL);
    int replayed;
    bcl_logout_t a = logout_of("j1", "s1", NULL, 1, 100), b = logout_of("j2", "s2", NULL, 1, 100);
    bcl_table_stats_t st;
    ck_assert_int_eq(s->ops->apply_logout(s, &a, 100, 500, &replayed), BCL_STORE_OK);
    ck_assert_int_eq(s->ops->apply_logout(s, &b, 100, 500, &replayed), BCL_STORE_FULL);
    s->ops->stats(s, 100, &st);
    ck_assert_uint_eq(st.used, 2);
    /* the refused logout was not remembered: a retry is not a replay */
    ck_assert_int_eq(s->ops->apply_logout(s, &b, 100, 500, &replayed), BCL_STORE_FULL);
    ck_assert_int_eq(replayed, 0);
}
END_TEST

static int count_values(const char *header, const char *name)
{
    const char *v[8];
    apr_size_t l[8];
    return bcl_cookie_find_all(header, name, v, l, 8);
}

START_TEST(test_cookie_find_all_copies)
{
    const char *v[8];
    apr_size_t l[8];
    ck_assert_int_eq(bcl_cookie_find_all("a=1; APP=x; b=2; APP=\"y\"", "APP", v, l, 8), 2);
    ck_assert_uint_eq(l[0], 1);
    ck_assert(memcmp(v[0], "x", 1) == 0);
    ck_assert(memcmp(v[1], "y", 1) == 0);
    /* joined header lines */
    ck_assert_int_eq(count_values("theme=dark, APP=z", "APP"), 1);
    /* names are exact */
    ck_assert_int_eq(count_values("XAPP=1; APPX=2; app=3", "APP"), 0);
    ck_assert_int_eq(count_values("", "APP"), 0);
    ck_assert_int_eq(count_values("APP", "APP"), 1);
}
END_TEST

START_TEST(test_cookie_remove)
{
    apr_array_header_t *names = apr_array_make(pool, 2, sizeof(const char *));
    APR_ARRAY_PUSH(names, const char *) = "APP";
    APR_ARRAY_PUSH(names, const char *) = "oidc";
    ck_assert_str_eq(bcl_cookie_remove(pool, "a=1; APP=x; oidc=y; b=2", names), "a=1; b=2");
    ck_assert_ptr_null(bcl_cookie_remove(pool, "APP=x; oidc=z", names));
    ck_assert_str_eq(bcl_cookie_remove(pool, "theme=dark, APP=x", names), "theme=dark");
}
END_TEST

START_TEST(test_set_cookie_parse)
{
    const char *v;
    int expired;
    ck_assert(bcl_set_cookie_parse(pool, "APP=abc; Path=/; HttpOnly", "APP", 1000, &v, &expired));
    ck_assert_str_eq(v, "abc");
    ck_assert(!expired);
    ck_assert(bcl_set_cookie_parse(pool, "APP=gone; Max-Age=0", "APP", 1000, &v, &expired));
    ck_assert(expired);
    ck_assert(bcl_set_cookie_parse(pool, "APP=gone; Expires=Thu, 01 Jan 1970 00:00:00 GMT", "APP", 1000, &v, &expired));
    ck_assert(expired);
    ck_assert(bcl_set_cookie_parse(pool, "APP=; Path=/", "APP", 1000, &v, &expired));
    ck_assert(expired);
    /* Max-Age wins over Expires */
    ck_assert(bcl_set_cookie_parse(pool, "APP=x; Max-Age=60; Expires=Thu, 01 Jan 1970 00:00:00 GMT", "APP", 1000, &v, &expired));
    ck_assert(!expired);
    ck_assert(!bcl_set_cookie_parse(pool, "OTHER=x", "APP", 1000, &v, &expired));
    ck_assert_str_eq(bcl_cookie_expiring(pool, "APP", NULL, NULL, 0),
                     "APP=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/");
    ck_assert_str_eq(bcl_cookie_expiring(pool, "APP", "/app", "example.com", 1),
                     "APP=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/app; Domain=example.com; Secure");
}
END_TEST

START_TEST(test_binding_header)
{
    const char *iss, *sid, *sub, *err;
    ck_assert_int_eq(bcl_binding_header_parse(pool, "iss=\"https://op\", sid=\"s1\", sub=\"a\\\"b\"", &iss, &sid, &sub, &err), 0);
    ck_assert_str_eq(iss, "https://op");
    ck_assert_str_eq(sid, "s1");
    ck_assert_str_eq(sub, "a\"b");
    ck_assert_int_eq(bcl_binding_header_parse(pool, "iss=x, sub=y, extra=\"z\"", &iss, &sid, &sub, &err), 0);
    ck_assert_ptr_null(sid);
    /* refused: no iss, neither sid nor sub, unterminated quote, duplicates, junk */
    ck_assert_int_eq(bcl_binding_header_parse(pool, "sid=\"s\"", &iss, &sid, &sub, &err), -1);
    ck_assert_int_eq(bcl_binding_header_parse(pool, "iss=\"i\"", &iss, &sid, &sub, &err), -1);
    ck_assert_int_eq(bcl_binding_header_parse(pool, "iss=\"i, sid=s", &iss, &sid, &sub, &err), -1);
    ck_assert_int_eq(bcl_binding_header_parse(pool, "iss=i, iss=j, sid=s", &iss, &sid, &sub, &err), -1);
    ck_assert_int_eq(bcl_binding_header_parse(pool, "iss=i sid=s", &iss, &sid, &sub, &err), -1);
    ck_assert_int_eq(bcl_binding_header_parse(pool, "iss=\"\", sid=s", &iss, &sid, &sub, &err), -1);
}
END_TEST

/* The per-kind counts are kept as the table changes (the status page reads
 * them without a scan): insert, replace by another kind, take over an
 * expired slot, remove, sweep. */
START_TEST(test_kind_counts_kept_without_scan)
{
    bcl_table_t *t = new_table(64);
    bcl_table_stats_t st;
    char name[16];

    for (int i = 0; i < 10; i++) {
        bcl_record_t r;
        snprintf(name, sizeof(name), "s%d", i);
        r = rec(name, i < 4 ? 150 : 1000);          /* 4 expire at 150 */
        if (i >= 7)
            r.kind = BCL_REC_JTI;
        ck_assert_int_eq(bcl_table_put(t, &r, 100), BCL_TABLE_OK);
    }
    bcl_table_stats(t, 100, &st);
    ck_assert_uint_eq(st.by_kind[BCL_REC_REVOKED_SID], 7);
    ck_assert_uint_eq(st.by_kind[BCL_REC_JTI], 3);
    {   /* the same key again, as another kind */
        bcl_record_t r = rec("s5", 1000), gone = rec("s6", 0), none = rec("nope", 0);
        r.kind = BCL_REC_BINDING;
        ck_assert_int_eq(bcl_table_put(t, &r, 100), BCL_TABLE_OK);
        ck_assert(bcl_table_remove(t, &gone.key));
        ck_assert(!bcl_table_remove(t, &none.key));
    }
    bcl_table_stats(t, 100, &st);
    ck_assert_uint_eq(st.by_kind[BCL_REC_REVOKED_SID], 5);
    ck_assert_uint_eq(st.by_kind[BCL_REC_BINDING], 1);
    ck_assert_uint_eq(st.by_kind[BCL_REC_JTI], 3);
    /* expired records stay counted until swept */
    ck_assert_uint_eq(bcl_table_sweep(t, 200), 4);
    bcl_table_stats(t, 200, &st);
    ck_assert_uint_eq(st.by_kind[BCL_REC_REVOKED_SID], 1);
    ck_assert_uint_eq(st.by_kind[BCL_REC_BINDING], 1);
    ck_assert_uint_eq(st.by_kind[BCL_REC_JTI], 3);
    ck_assert_uint_eq(st.used, 5);
}
END_TEST

/* "No table scan", proved: the status page's read of the per-kind counts
 * (bcl_table_stats, and the store's stats operation it calls under the
 * lock) touches no slot at all. The table is laid out so that its header
 * ends where a page ends and every slot lies in the pages after it; those
 * pages are then made unreadable (PROT_NONE). Any read of a slot, such as a
 * loop counting records by kind, dies of SIGSEGV here and fails the test.
 * So the cost of a scrape cannot depend on how many records the table holds
 * (the benchmark measures it at 10 and at 1,000,000 records: bench/run.sh
 * --scrape). */
START_TEST(test_kind_counts_read_without_touching_a_slot)
{
    const uint32_t capacity = 4000;
    const size_t page = (size_t)sysconf(_SC_PAGESIZE);
    const size_t header = bcl_table_size(0) - sizeof(bcl_record_t);   /* slot_count(0) is 1 */
    const size_t slots = bcl_table_size(capacity) - header;
    const size_t len = page + (slots + page - 1) / page * page;
    unsigned char *base;
    bcl_table_t *t;
    bcl_store_t *s;
    bcl_table_stats_t st;
    char name[16];

    ck_assert_uint_le(header, page);
    base = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ck_assert_ptr_ne(base, MAP_FAILED);
    t = bcl_table_init(base + page - header, capacity);
    s = bcl_store_table_create(pool, t, NULL);
    for (int i = 0; i < 3000; i++) {
        bcl_record_t r;
        snprintf(name, sizeof(name), "s%d", i);
        r = rec(name, 1000);
        r.kind = i % 3 == 0 ? BCL_REC_BINDING : i % 3 == 1 ? BCL_REC_JTI : BCL_REC_REVOKED_SID;
        ck_assert_int_eq(bcl_table_put(t, &r, 100), BCL_TABLE_OK);
    }
    {   /* one removed: the counts follow without a scan */
        bcl_record_t gone = rec("s2", 0);
        ck_assert(bcl_table_remove(t, &gone.key));
    }

    /* from here on, reading any slot faults */
    ck_assert_int_eq(mprotect(base + page, len - page, PROT_NONE), 0);
    bcl_table_stats(t, 100, &st);
    ck_assert_uint_eq(st.capacity, capacity);
    ck_assert_uint_eq(st.used, 2999);
    ck_assert_uint_eq(st.by_kind[BCL_REC_BINDING], 1000);
    ck_assert_uint_eq(st.by_kind[BCL_REC_JTI], 1000);
    ck_assert_uint_eq(st.by_kind[BCL_REC_REVOKED_SID], 999);
    ck_assert_uint_eq(bcl_table_used(t), 2999);
    memset(&st, 0, sizeof(st));
    ck_assert_int_eq(s->ops->stats(s, 100, &st), BCL_STORE_OK);
    ck_assert_uint_eq(st.by_kind[BCL_REC_BINDING], 1000);
    ck_assert_uint_eq(st.by_kind[BCL_REC_REVOKED_SID], 999);

    ck_assert_int_eq(mprotect(base + page, len - page, PROT_READ | PROT_WRITE), 0);
    ck_assert_int_eq(munmap(base, len), 0);
}
END_TEST

Suite *store_suite(void)
{
    Suite *s = suite_create("store");
    TCase *tc = tcase_create("table");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_record_is_80_bytes);
    tcase_add_test(tc, test_keys_differ_by_kind_and_field);
    tcase_add_test(tc, test_put_get_expiry);
    tcase_add_test(tc, test_full_refuses_and_keeps_everything);
    tcase_add_test(tc, test_remove_keeps_runs_reachable);
    tcase_add_test(tc, test_sweep_removes_only_expired);
    tcase_add_test(tc, test_attach_checks_the_header);
    tcase_add_test(tc, test_kind_counts_kept_without_scan);
    tcase_add_test(tc, test_kind_counts_read_without_touching_a_slot);
    suite_add_tcase(s, tc);
    tc = tcase_create("store");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_store_sid_and_sub_logouts);
    tcase_add_test(tc, test_store_identity_by_op_time);
    tcase_add_test(tc, test_store_logout_all_or_nothing_when_full);
    suite_add_tcase(s, tc);
    tc = tcase_create("cookie");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_cookie_find_all_copies);
    tcase_add_test(tc, test_cookie_remove);
    tcase_add_test(tc, test_set_cookie_parse);
    tcase_add_test(tc, test_binding_header);
    suite_add_tcase(s, tc);
    return s;
}
