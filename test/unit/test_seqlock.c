/* The table's lock-free read path (bcl_table_read, a seqlock): while a
 * writer thread rewrites, deletes (backward shifts) and sweeps records
 * without pause, reader threads must never get a record mixed from two
 * writes, and must always find the records that are never removed. Every
 * record the writer puts is self-consistent (all its fields derive from one
 * generation number), so a torn copy shows. Run under ASan/UBSan and
 * valgrind by test/unit/run-sanitizers.sh like every unit test. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <check.h>
#include "bcl_rules.h"
#include "bcl_store.h"
#include "bcl_table.h"
#include "test_helpers.h"

#define CAPACITY 64             /* 81 slots: long probe runs, many shifts */
#define STABLE 24               /* keys 0..STABLE-1: never removed, only rewritten */
#define KEYS 56
#define WRITES 60000
#define NOW 100

typedef struct {
    bcl_table_t *t;
    volatile int done;          /* set once by the writer (joined before reading it again) */
    long reads, torn, missing, fallbacks;
} shared_t;

static bcl_hkey_t key_of(int k)
{
    bcl_hkey_t key;
    memset(&key, 0, sizeof(key));
    /* few distinct home slots: runs of colliding keys */
    uint64_t h = (uint64_t)(k % 9) * 7;
    memcpy(key.b, &h, sizeof(h));
    key.b[8] = (unsigned char)k;
    key.b[15] = 0x5a;
    return key;
}

static bcl_record_t record_of(int k, uint32_t gen, int64_t expires)
{
    bcl_record_t r;
    memset(&r, 0, sizeof(r));
    r.key = key_of(k);
    r.kind = BCL_REC_BINDING;
    r.expires = expires;
    r.t_server = (int64_t)gen * 1000 + k;
    r.t_op = (int64_t)gen * 1000 + k;
    memset(r.sid_key.b, (int)(gen & 0xff), BCL_KEY_LEN);
    memset(r.sub_key.b, (int)(gen & 0xff), BCL_KEY_LEN);
    memcpy(r.iss_fp, &gen, sizeof(gen));
    return r;
}

/* Whether `r`, found under key `k`, is one whole write. */
static int whole(const bcl_record_t *r, int k)
{
    uint32_t gen;
    bcl_hkey_t key = key_of(k);
    memcpy(&gen, r->iss_fp, sizeof(gen));
    if (memcmp(&r->key, &key, sizeof(key)) != 0 || r->kind != BCL_REC_BINDING
        || r->t_server != (int64_t)gen * 1000 + k || r->t_op != r->t_server)
        return 0;
    for (int i = 0; i < BCL_KEY_LEN; i++) {
        if (r->sid_key.b[i] != (gen & 0xff) || r->sub_key.b[i] != (gen & 0xff))
            return 0;
    }
    return 1;
}

static void *writer(void *arg)
{
    shared_t *sh = arg;
    for (uint32_t gen = 1; gen <= WRITES; gen++) {
        int k = (int)(gen % KEYS);
        if (k >= STABLE && gen % 3 == 0) {
            bcl_table_remove(sh->t, &(bcl_hkey_t){ 0 });   /* a miss: no change */
            bcl_hkey_t key = key_of(k);
            bcl_table_remove(sh->t, &key);
        } else if (k >= STABLE && gen % 3 == 1) {
            bcl_record_t r = record_of(k, gen, NOW - 1);    /* expired: the sweep deletes it */
            bcl_table_put(sh->t, &r, NOW);
        } else {
            bcl_record_t r = record_of(k, gen, NOW + 1000);
            bcl_table_put(sh->t, &r, NOW);
        }
        if (gen % 500 == 0)
            bcl_table_sweep(sh->t, NOW);
    }
    __atomic_store_n(&sh->done, 1, __ATOMIC_RELEASE);
    return NULL;
}

static void *reader(void *arg)
{
    shared_t *sh = arg;
    long reads = 0, torn = 0, missing = 0, fallbacks = 0;
    int k = 0;
    while (!__atomic_load_n(&sh->done, __ATOMIC_ACQUIRE)) {
        bcl_hkey_t keys[3] = { key_of(k % KEYS), key_of((k + 7) % KEYS), key_of((k + 31) % KEYS) };
        bcl_record_t out[3];
        int found[3];
        if (bcl_table_read(sh->t, keys, 3, NOW, out, found, 4) != 0) {
            fallbacks++;        /* the store would take the lock here */
        } else {
            reads++;
            for (int i = 0; i < 3; i++) {
                int kk = (k + (i == 0 ? 0 : i == 1 ? 7 : 31)) % KEYS;
                if (found[i] && !whole(&out[i], kk))
                    torn++;
                if (!found[i] && kk < STABLE)
                    missing++;
            }
        }
        k++;
    }
    __atomic_add_fetch(&sh->reads, reads, __ATOMIC_RELAXED);
    __atomic_add_fetch(&sh->torn, torn, __ATOMIC_RELAXED);
    __atomic_add_fetch(&sh->missing, missing, __ATOMIC_RELAXED);
    __atomic_add_fetch(&sh->fallbacks, fallbacks, __ATOMIC_RELAXED);
    return NULL;
}

START_TEST(test_readers_never_see_a_torn_record)
{
    void *mem = calloc(1, bcl_table_size(CAPACITY));
    shared_t sh;
    pthread_t w, r[2];

    ck_assert_ptr_nonnull(mem);
    memset(&sh, 0, sizeof(sh));
    sh.t = bcl_table_init(mem, CAPACITY);
    for (int k = 0; k < STABLE; k++) {
        bcl_record_t rec = record_of(k, 0, NOW + 1000);
        ck_assert_int_eq(bcl_table_put(sh.t, &rec, NOW), BCL_TABLE_OK);
    }
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(pthread_create(&r[i], NULL, reader, &sh), 0);
    ck_assert_int_eq(pthread_create(&w, NULL, writer, &sh), 0);
    pthread_join(w, NULL);
    for (int i = 0; i < 2; i++)
        pthread_join(r[i], NULL);

    ck_assert_msg(sh.reads > 0, "no read completed");
    ck_assert_msg(sh.torn == 0, "%ld of %ld reads returned a torn record", sh.torn, sh.reads);
    ck_assert_msg(sh.missing == 0, "%ld of %ld reads missed a record that is never removed", sh.missing, sh.reads);
    /* every stable record is still there, whole, for a locked reader too */
    for (int k = 0; k < STABLE; k++) {
        bcl_hkey_t key = key_of(k);
        bcl_record_t out;
        int found;
        bcl_table_read_locked(sh.t, &key, 1, NOW, &out, &found);
        ck_assert_int_eq(found, 1);
        ck_assert(whole(&out, k));
    }
    free(mem);
}
END_TEST

/* A writer killed inside a section leaves the sequence odd: readers give
 * up (the store then takes the lock), and the next write heals it. */
START_TEST(test_dead_writer_left_the_sequence_odd)
{
    void *mem = calloc(1, bcl_table_size(CAPACITY));
    bcl_table_t *t;
    bcl_record_t rec = record_of(1, 5, NOW + 10), out;
    bcl_hkey_t key = key_of(1);
    int found = 0;
    uint32_t seq;

    ck_assert_ptr_nonnull(mem);
    t = bcl_table_init(mem, CAPACITY);
    ck_assert_int_eq(bcl_table_put(t, &rec, NOW), BCL_TABLE_OK);
    ck_assert_int_eq(bcl_table_read(t, &key, 1, NOW, &out, &found, 1), 0);
    ck_assert_int_eq(found, 1);
    ck_assert(whole(&out, 1));
    /* the header's seq word (offset 28: after seven uint32 fields) made odd */
    memcpy(&seq, (char *)mem + 28, sizeof(seq));
    ck_assert_uint_eq(seq % 2, 0);
    seq++;
    memcpy((char *)mem + 28, &seq, sizeof(seq));
    ck_assert_int_eq(bcl_table_read(t, &key, 1, NOW, &out, &found, 3), -1);
    bcl_table_read_locked(t, &key, 1, NOW, &out, &found);
    ck_assert_int_eq(found, 1);
    rec = record_of(2, 6, NOW + 10);
    ck_assert_int_eq(bcl_table_put(t, &rec, NOW), BCL_TABLE_OK);
    ck_assert_int_eq(bcl_table_read(t, &key, 1, NOW, &out, &found, 1), 0);
    ck_assert_int_eq(found, 1);
    free(mem);
}
END_TEST

static int locks_taken;

static int count_lock(void *baton)
{
    (void)baton;
    locks_taken++;
    return 0;
}

static void count_unlock(void *baton)
{
    (void)baton;
}

/* The store's read path: lock-free while no writer interferes, and right
 * through the lock when the sequence says a writer never finished. */
START_TEST(test_store_reads_without_the_lock_and_falls_back_to_it)
{
    void *mem = calloc(1, bcl_table_size(CAPACITY));
    apr_pool_t *p;
    bcl_store_lock_t lock = { count_lock, count_unlock, NULL };
    bcl_store_t *st;
    bcl_logout_t l;
    bcl_identity_t id;
    bcl_hkey_t cookie;
    bcl_session_state_t state = BCL_SESSION_UNBOUND;
    bcl_identity_t got;
    int replayed = 0;
    uint32_t seq;

    ck_assert_ptr_nonnull(mem);
    ck_assert_int_eq(apr_pool_create(&p, NULL), APR_SUCCESS);
    st = bcl_store_table_create(p, bcl_table_init(mem, CAPACITY), &lock);
    memset(&id, 0, sizeof(id));
    ck_assert_int_eq(bcl_hkey_sid(&id.sid_key, "https://op", "s1"), 0);
    ck_assert_int_eq(bcl_hkey_sub(&id.sub_key, "https://op", "alice"), 0);
    ck_assert_int_eq(bcl_hkey_cookie(&cookie, "APP", "v1", 2), 0);
    ck_assert_int_eq(st->ops->bind(st, &cookie, &id, NOW, NOW + 100), BCL_STORE_OK);
    locks_taken = 0;
    memset(&got, 0, sizeof(got));  /* no default issuer cut-off (bcl_store.h) */
    ck_assert_int_eq(st->ops->cookie_state(st, &cookie, NOW, &state, &got), BCL_STORE_OK);
    ck_assert_int_eq(state, BCL_SESSION_LIVE);
    ck_assert_int_eq(st->ops->identity_state(st, &id, NOW, &state), BCL_STORE_OK);
    ck_assert_int_eq(state, BCL_SESSION_LIVE);
    ck_assert_int_eq(locks_taken, 0);

    memset(&l, 0, sizeof(l));
    ck_assert_int_eq(bcl_hkey_jti(&l.jti_key, "https://op", "j1"), 0);
    l.has_sid = 1;
    l.sid_key = id.sid_key;
    l.jti_expires = NOW + 50;
    ck_assert_int_eq(st->ops->apply_logout(st, &l, NOW, 500, &replayed), BCL_STORE_OK);
    ck_assert_int_eq(locks_taken, 1);   /* the writer's */

    /* a writer died inside a section: the sequence stays odd */
    memcpy(&seq, (char *)mem + 28, sizeof(seq));
    seq |= 1u;
    memcpy((char *)mem + 28, &seq, sizeof(seq));
    locks_taken = 0;
    ck_assert_int_eq(st->ops->cookie_state(st, &cookie, NOW, &state, &got), BCL_STORE_OK);
    ck_assert_int_eq(state, BCL_SESSION_REVOKED);
    ck_assert_int_eq(st->ops->identity_state(st, &id, NOW, &state), BCL_STORE_OK);
    ck_assert_int_eq(state, BCL_SESSION_REVOKED);
    ck_assert_int_eq(locks_taken, 3);   /* binding, its revocations, the identity's */
    apr_pool_destroy(p);
    free(mem);
}
END_TEST

Suite *seqlock_suite(void)
{
    Suite *s = suite_create("seqlock");
    TCase *tc = tcase_create("table");
    /* valgrind serialises the threads: give it time */
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_readers_never_see_a_torn_record);
    tcase_add_test(tc, test_dead_writer_left_the_sequence_odd);
    tcase_add_test(tc, test_store_reads_without_the_lock_and_falls_back_to_it);
    suite_add_tcase(s, tc);
    return s;
}
