/* The journal: framing, checksums, damage detection (truncated, corrupt and
 * garbage tails, damage in the middle), replay into a table, and the file
 * layer (creation, append, restart, compaction, refusal of foreign files). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <check.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include "bcl_journal.h"
#include "bcl_journal_file.h"
#include "bcl_store.h"
#include "bcl_table.h"
#include "test_helpers.h"

#define NOW 1700000000LL

static apr_pool_t *pool;
static void *mem;
static char dir[64];
static char logbuf[8192];

static void capture(void *baton, bcl_log_level_t level, const char *tag, const char *msg)
{
    (void)baton; (void)level;
    size_t used = strlen(logbuf);
    snprintf(logbuf + used, sizeof(logbuf) - used, "%s: %s\n", tag, msg);
}

static const bcl_logger_t logger = { capture, NULL };

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
    logbuf[0] = '\0';
    strcpy(dir, "/tmp/bcl-journal-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
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
    r.t_server = 123456789;
    r.t_op = -5;
    return r;
}

static int has(bcl_table_t *t, const char *sid)
{
    bcl_record_t r = rec(sid, 0);
    return bcl_table_get(t, &r.key, NOW) != NULL;
}

/* A file image: header + one frame per sid. */
static unsigned char *image(int n, size_t *len)
{
    unsigned char *buf = apr_palloc(pool, BCL_JOURNAL_HEADER_SIZE + (size_t)n * BCL_JOURNAL_FRAME_SIZE + 64);
    bcl_journal_header(buf);
    for (int i = 0; i < n; i++) {
        char sid[16];
        snprintf(sid, sizeof(sid), "s%d", i);
        bcl_record_t r = rec(sid, NOW + 100);
        bcl_journal_encode(buf + BCL_JOURNAL_HEADER_SIZE + (size_t)i * BCL_JOURNAL_FRAME_SIZE, &r);
    }
    *len = BCL_JOURNAL_HEADER_SIZE + (size_t)n * BCL_JOURNAL_FRAME_SIZE;
    return buf;
}

static void count_fn(void *baton, const bcl_record_t *r)
{
    (void)r;
    (*(int *)baton)++;
}

START_TEST(test_crc32c_check_value)
{
    ck_assert_uint_eq(bcl_crc32c(0, "123456789", 9), 0xe3069283u);
    /* incremental equals one-shot */
    ck_assert_uint_eq(bcl_crc32c(bcl_crc32c(0, "1234", 4), "56789", 5), 0xe3069283u);
}
END_TEST

START_TEST(test_roundtrip_keeps_every_field)
{
    bcl_table_t *t = new_table(16);
    bcl_record_t r = rec("a", NOW + 50);
    ck_assert_int_eq(bcl_hkey_sub(&r.sub_key, "https://op", "u"), 0);
    ck_assert_int_eq(bcl_hkey_sid(&r.sid_key, "https://op", "x"), 0);
    r.kind = BCL_REC_BINDING;
    memcpy(r.iss_fp, "\x01\x02\x03\x04\x05\x06\x07", BCL_ISS_FP_LEN);  /* the issuer's fingerprint too */
    unsigned char buf[BCL_JOURNAL_HEADER_SIZE + BCL_JOURNAL_FRAME_SIZE];
    bcl_journal_header(buf);
    bcl_journal_encode(buf + BCL_JOURNAL_HEADER_SIZE, &r);
    bcl_journal_scan_t scan;
    bcl_journal_replay_t rep;
    bcl_journal_replay(t, buf, sizeof(buf), NOW, &scan, &rep);
    ck_assert_uint_eq(scan.frames, 1);
    ck_assert_uint_eq(rep.applied, 1);
    const bcl_record_t *got = bcl_table_get(t, &r.key, NOW);
    ck_assert_ptr_nonnull(got);
    ck_assert_int_eq(memcmp(got, &r, sizeof(r)), 0);
}
END_TEST

START_TEST(test_header_checks)
{
    unsigned char h[BCL_JOURNAL_HEADER_SIZE];
    bcl_journal_header(h);
    ck_assert_int_eq(bcl_journal_header_check(h, sizeof(h)), BCL_JOURNAL_HEADER_OK);
    ck_assert_int_eq(bcl_journal_header_check(h, 0), BCL_JOURNAL_HEADER_SHORT);
    ck_assert_int_eq(bcl_journal_header_check(h, 5), BCL_JOURNAL_HEADER_SHORT);
    ck_assert_int_eq(bcl_journal_header_check((const unsigned char *)"{\"keys\":[]}xxxxx", 16),
                     BCL_JOURNAL_HEADER_FOREIGN);
    h[4] = 2; /* another version */
    ck_assert_int_eq(bcl_journal_header_check(h, sizeof(h)), BCL_JOURNAL_HEADER_FOREIGN);
}
END_TEST

START_TEST(test_truncated_tail_keeps_valid_frames)
{
    size_t len;
    unsigned char *img = image(5, &len);
    bcl_journal_scan_t scan;
    int n = 0;
    for (size_t cut = 1; cut < BCL_JOURNAL_FRAME_SIZE; cut += 7) {
        n = 0;
        bcl_journal_scan(img, len - cut, count_fn, &n, &scan);
        ck_assert_int_eq(n, 4);
        ck_assert_uint_eq(scan.valid_end, BCL_JOURNAL_HEADER_SIZE + 4 * BCL_JOURNAL_FRAME_SIZE);
        ck_assert_int_eq(scan.ndamage, 1);
        ck_assert_uint_eq(scan.damage[0].offset, BCL_JOURNAL_HEADER_SIZE + 4 * BCL_JOURNAL_FRAME_SIZE);
        ck_assert_uint_eq(scan.damage[0].length, BCL_JOURNAL_FRAME_SIZE - cut);
    }
}
END_TEST

START_TEST(test_garbage_tail_reported_and_skipped)
{
    size_t len;
    unsigned char *img = image(3, &len);
    memcpy(img + len, "garbage garbage garbage!", 24);
    bcl_journal_scan_t scan;
    int n = 0;
    bcl_journal_scan(img, len + 24, count_fn, &n, &scan);
    ck_assert_int_eq(n, 3);
    ck_assert_int_eq(scan.ndamage, 1);
    ck_assert_uint_eq(scan.damage[0].offset, len);
    ck_assert_uint_eq(scan.damage[0].length, 24);
    ck_assert_uint_eq(scan.damaged_bytes, 24);
}
END_TEST

START_TEST(test_corrupt_frame_in_the_middle_loses_only_itself)
{
    size_t len;
    unsigned char *img = image(6, &len);
    bcl_table_t *t = new_table(16);
    size_t third = BCL_JOURNAL_HEADER_SIZE + 2 * BCL_JOURNAL_FRAME_SIZE;
    img[third + 30] ^= 0x40;     /* one bit of the payload of s2 */
    bcl_journal_scan_t scan;
    bcl_journal_replay_t rep;
    bcl_journal_replay(t, img, len, NOW, &scan, &rep);
    ck_assert_uint_eq(scan.frames, 5);
    ck_assert_int_eq(scan.ndamage, 1);
    ck_assert_uint_eq(scan.damage[0].offset, third);
    ck_assert_uint_eq(scan.damage[0].length, BCL_JOURNAL_FRAME_SIZE);
    ck_assert(has(t, "s0") && has(t, "s1") && !has(t, "s2") && has(t, "s3") && has(t, "s5"));
}
END_TEST

START_TEST(test_damaged_length_is_caught)
{
    size_t len;
    unsigned char *img = image(2, &len);
    img[BCL_JOURNAL_HEADER_SIZE + BCL_JOURNAL_FRAME_SIZE] = 0x10; /* length of the second frame */
    bcl_journal_scan_t scan;
    int n = 0;
    bcl_journal_scan(img, len, count_fn, &n, &scan);
    ck_assert_int_eq(n, 1);
    ck_assert_int_eq(scan.ndamage, 1);
}
END_TEST

START_TEST(test_replay_drops_expired_and_applies_removals)
{
    bcl_table_t *t = new_table(16);
    unsigned char buf[BCL_JOURNAL_HEADER_SIZE + 5 * BCL_JOURNAL_FRAME_SIZE];
    bcl_record_t rs[5];
    rs[0] = rec("live", NOW + 10);
    rs[1] = rec("old", NOW);              /* expires now: dropped */
    rs[2] = rec("gone", NOW + 10);
    memset(&rs[3], 0, sizeof(rs[3]));     /* removal of "gone" */
    rs[3].key = rs[2].key;
    rs[4] = rec("again", NOW + 99);
    bcl_journal_header(buf);
    for (int i = 0; i < 5; i++)
        bcl_journal_encode(buf + BCL_JOURNAL_HEADER_SIZE + (size_t)i * BCL_JOURNAL_FRAME_SIZE, &rs[i]);
    bcl_journal_scan_t scan;
    bcl_journal_replay_t rep;
    bcl_journal_replay(t, buf, sizeof(buf), NOW, &scan, &rep);
    ck_assert_uint_eq(rep.applied, 3);
    ck_assert_uint_eq(rep.expired, 1);
    ck_assert_uint_eq(rep.removed, 1);
    ck_assert(has(t, "live") && has(t, "again") && !has(t, "old") && !has(t, "gone"));
}
END_TEST

START_TEST(test_replay_reports_records_that_do_not_fit)
{
    size_t len;
    unsigned char *img = image(20, &len);
    bcl_table_t *t = new_table(16);
    bcl_journal_scan_t scan;
    bcl_journal_replay_t rep;
    bcl_journal_replay(t, img, len, NOW, &scan, &rep);
    ck_assert_uint_eq(rep.applied, 16);
    ck_assert_uint_eq(rep.dropped_full, 4);
}
END_TEST

/* -- the file layer ---------------------------------------------------- */

static const char *jpath(const char *name)
{
    return apr_pstrcat(pool, dir, "/", name, NULL);
}

static bcl_journal_t *start(const char *path, bcl_table_t *t, bcl_journal_stats_t *stats, int64_t now)
{
    const char *err = NULL;
    bcl_journal_t *j = bcl_journal_create(pool, path, stats);
    if (bcl_journal_start(j, pool, t, now, &logger, &err) != 0)
        ck_abort_msg("bcl_journal_start: %s", err);
    return j;
}

static off_t file_size(const char *path)
{
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    return st.st_size;
}

START_TEST(test_file_created_private_and_restored_after_restart)
{
    bcl_journal_stats_t stats = { 0 };
    const char *path = jpath("j");
    bcl_journal_t *j = start(path, new_table(64), &stats, NOW);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0600);
    ck_assert_int_eq(st.st_size, BCL_JOURNAL_HEADER_SIZE);

    bcl_record_t a[2] = { rec("a", NOW + 100), rec("b", NOW + 100) };
    bcl_record_t gone = { 0 };
    gone.key = a[1].key;
    ck_assert_int_eq(bcl_journal_append(j, a, 2, 1, &logger), 0);
    ck_assert_int_eq(bcl_journal_append(j, &gone, 1, 0, &logger), 0);
    ck_assert_uint_eq(stats.syncs, 1);
    ck_assert_uint_eq(stats.records_written, 3);
    bcl_journal_close(j);

    bcl_journal_stats_t stats2 = { 0 };
    bcl_table_t *t = new_table(64);
    j = start(path, t, &stats2, NOW);
    ck_assert(has(t, "a") && !has(t, "b"));
    ck_assert_uint_eq(stats2.replayed, 2);
    /* restart compacts: only the live record remains */
    ck_assert_int_eq(file_size(path), BCL_JOURNAL_HEADER_SIZE + BCL_JOURNAL_FRAME_SIZE);
    ck_assert_ptr_nonnull(strstr(logbuf, "BCL0700"));
    bcl_journal_close(j);
}
END_TEST

START_TEST(test_file_truncated_and_garbage_tail)
{
    bcl_journal_stats_t stats = { 0 };
    const char *path = jpath("j");
    bcl_journal_t *j = start(path, new_table(64), &stats, NOW);
    for (int i = 0; i < 10; i++) {
        char sid[8];
        snprintf(sid, sizeof(sid), "s%d", i);
        bcl_record_t r = rec(sid, NOW + 100);
        ck_assert_int_eq(bcl_journal_append(j, &r, 1, 0, &logger), 0);
    }
    bcl_journal_close(j);
    /* cut the last frame short, then append garbage */
    off_t size = file_size(path);
    ck_assert_int_eq(truncate(path, size - 5), 0);
    FILE *f = fopen(path, "ab");
    fputs("not a frame at all", f);
    fclose(f);

    bcl_table_t *t = new_table(64);
    j = start(path, t, &stats, NOW);
    for (int i = 0; i < 9; i++) {
        char sid[8];
        snprintf(sid, sizeof(sid), "s%d", i);
        ck_assert_msg(has(t, sid), "%s lost", sid);
    }
    ck_assert(!has(t, "s9"));
    char want[256];
    snprintf(want, sizeof(want), "BCL0701: journal %s is damaged at offset %d", path,
             BCL_JOURNAL_HEADER_SIZE + 9 * BCL_JOURNAL_FRAME_SIZE);
    ck_assert_msg(strstr(logbuf, want) != NULL, "log: %s", logbuf);
    ck_assert_uint_eq(stats.damaged_regions, 1);
    /* the rewritten file is clean and appends continue */
    ck_assert_int_eq(file_size(path), BCL_JOURNAL_HEADER_SIZE + 9 * BCL_JOURNAL_FRAME_SIZE);
    bcl_record_t r = rec("after", NOW + 100);
    ck_assert_int_eq(bcl_journal_append(j, &r, 1, 1, &logger), 0);
    bcl_journal_close(j);
    t = new_table(64);
    logbuf[0] = '\0';
    j = start(path, t, &stats, NOW);
    ck_assert(has(t, "after") && has(t, "s8"));
    ck_assert_ptr_null(strstr(logbuf, "BCL0701"));
    bcl_journal_close(j);
}
END_TEST

START_TEST(test_compaction_replaces_the_file_and_appends_follow)
{
    bcl_journal_stats_t stats = { 0 };
    const char *path = jpath("j");
    bcl_table_t *t = new_table(64);
    bcl_journal_t *j = start(path, t, &stats, NOW);
    bcl_journal_t *other = bcl_journal_create(pool, path, &stats); /* another process's handle */
    bcl_record_t r = rec("x", NOW + 100);
    for (int i = 0; i < 20; i++) {
        ck_assert_int_eq(bcl_journal_append(i % 2 ? other : j, &r, 1, 0, &logger), 0);
        bcl_table_put(t, &r, NOW);
    }
    ck_assert(bcl_journal_needs_compaction(j, 4, 0));
    ck_assert_int_eq(bcl_journal_compact(j, t, NOW, &logger), 0);
    ck_assert_int_eq(file_size(path), BCL_JOURNAL_HEADER_SIZE + BCL_JOURNAL_FRAME_SIZE);
    ck_assert(!bcl_journal_needs_compaction(j, 4, 0));
    ck_assert_uint_eq(stats.compactions, 2); /* startup + this one */
    /* the other handle notices the new file */
    bcl_record_t y = rec("y", NOW + 100);
    ck_assert_int_eq(bcl_journal_append(other, &y, 1, 1, &logger), 0);
    ck_assert_int_eq(file_size(path), BCL_JOURNAL_HEADER_SIZE + 2 * BCL_JOURNAL_FRAME_SIZE);
    bcl_journal_close(j);
    bcl_journal_close(other);
    t = new_table(64);
    j = start(path, t, &stats, NOW);
    ck_assert(has(t, "x") && has(t, "y"));
    bcl_journal_close(j);
}
END_TEST

START_TEST(test_compaction_of_many_records)
{
    bcl_journal_stats_t stats = { 0 };
    const char *path = jpath("j");
    bcl_table_t *t = new_table(1000);
    char sid[16];
    for (int i = 0; i < 700; i++) {
        snprintf(sid, sizeof(sid), "m%d", i);
        bcl_record_t r = rec(sid, NOW + 100);
        ck_assert_int_eq(bcl_table_put(t, &r, NOW), BCL_TABLE_OK);
    }
    bcl_journal_t *j = start(path, t, &stats, NOW);
    ck_assert_int_eq(file_size(path), BCL_JOURNAL_HEADER_SIZE + 700 * BCL_JOURNAL_FRAME_SIZE);
    bcl_journal_close(j);
    t = new_table(1000);
    j = start(path, t, &stats, NOW);
    ck_assert_uint_eq(stats.replayed, 700);
    ck_assert_uint_eq(stats.damaged_bytes, 0);
    for (int i = 0; i < 700; i++) {
        snprintf(sid, sizeof(sid), "m%d", i);
        ck_assert_msg(has(t, sid), "%s lost", sid);
    }
    bcl_journal_close(j);
}
END_TEST

START_TEST(test_foreign_file_and_missing_directory_refused)
{
    bcl_journal_stats_t stats = { 0 };
    const char *err = NULL;
    const char *path = jpath("foreign");
    FILE *f = fopen(path, "w");
    fputs("{\"this is\": \"someone else's file\"}\n", f);
    fclose(f);
    bcl_journal_t *j = bcl_journal_create(pool, path, &stats);
    ck_assert_int_eq(bcl_journal_start(j, pool, new_table(16), NOW, &logger, &err), -1);
    ck_assert_ptr_nonnull(strstr(err, "is not a journal"));
    ck_assert_int_eq(file_size(path), 35); /* untouched */

    j = bcl_journal_create(pool, apr_pstrcat(pool, dir, "/nodir/j", NULL), &stats);
    ck_assert_int_eq(bcl_journal_start(j, pool, new_table(16), NOW, &logger, &err), -1);
    ck_assert_ptr_nonnull(strstr(err, "does not exist"));
}
END_TEST

START_TEST(test_expired_records_dropped_at_restart)
{
    bcl_journal_stats_t stats = { 0 };
    const char *path = jpath("j");
    bcl_journal_t *j = start(path, new_table(16), &stats, NOW);
    bcl_record_t r[2] = { rec("short", NOW + 5), rec("long", NOW + 500) };
    ck_assert_int_eq(bcl_journal_append(j, r, 2, 1, &logger), 0);
    bcl_journal_close(j);
    bcl_table_t *t = new_table(16);
    j = start(path, t, &stats, NOW + 10);
    ck_assert_uint_eq(stats.replay_expired, 1);
    ck_assert_uint_eq(stats.replayed, 1);
    ck_assert_ptr_nonnull(bcl_table_get(t, &r[1].key, NOW + 10));
    ck_assert_ptr_null(bcl_table_get(t, &r[0].key, NOW + 10));
    bcl_journal_close(j);
}
END_TEST

/* -- the store's use of a journal --------------------------------------- */

typedef struct {
    int fail;
    int calls;
    int synced;
    int records;
} fake_journal_t;

static int fake_append(void *baton, const bcl_record_t *recs, int n, int sync)
{
    fake_journal_t *fj = baton;
    (void)recs;
    fj->calls++;
    fj->records += n;
    fj->synced += sync;
    return fj->fail ? -1 : 0;
}

static bcl_logout_t logout_of(const char *sid, const char *jti)
{
    bcl_logout_t l;
    memset(&l, 0, sizeof(l));
    ck_assert_int_eq(bcl_hkey_jti(&l.jti_key, "https://op", jti), 0);
    l.has_sid = 1;
    ck_assert_int_eq(bcl_hkey_sid(&l.sid_key, "https://op", sid), 0);
    l.accepted_server = NOW * 1000000;
    l.jti_expires = NOW + 120;
    return l;
}

START_TEST(test_store_journals_logouts_synced_and_bindings_not)
{
    fake_journal_t fj = { 0 };
    bcl_store_journal_t sj = { fake_append, &fj };
    bcl_store_t *s = bcl_store_table_create(pool, new_table(16), NULL);
    bcl_store_table_set_journal(s, &sj);
    bcl_logout_t l = logout_of("s1", "j1");
    int replayed = 0;
    ck_assert_int_eq(s->ops->apply_logout(s, &l, NOW, 3600, &replayed), BCL_STORE_OK);
    ck_assert_int_eq(fj.calls, 1);
    ck_assert_int_eq(fj.records, 2);
    ck_assert_int_eq(fj.synced, 1);

    bcl_identity_t id = { 0 };
    bcl_hkey_t cookie;
    ck_assert_int_eq(bcl_hkey_cookie(&cookie, "C", "v", 1), 0);
    id.sid_key = l.sid_key;
    ck_assert_int_eq(s->ops->bind(s, &cookie, &id, NOW, NOW + 60), BCL_STORE_OK);
    ck_assert_int_eq(s->ops->unbind(s, &cookie), BCL_STORE_OK);
    ck_assert_int_eq(fj.calls, 3);
    ck_assert_int_eq(fj.synced, 1);
    /* a replay writes nothing */
    ck_assert_int_eq(s->ops->apply_logout(s, &l, NOW, 3600, &replayed), BCL_STORE_OK);
    ck_assert_int_eq(replayed, 1);
    ck_assert_int_eq(fj.calls, 3);
}
END_TEST

START_TEST(test_store_journal_failure_answers_unavailable_and_retry_is_no_replay)
{
    fake_journal_t fj = { 0 };
    bcl_store_journal_t sj = { fake_append, &fj };
    bcl_store_t *s = bcl_store_table_create(pool, new_table(16), NULL);
    bcl_store_table_set_journal(s, &sj);
    bcl_logout_t l = logout_of("s1", "j1");
    int replayed = 0;
    bcl_session_state_t state;
    bcl_identity_t id = { 0 };
    id.sid_key = l.sid_key;

    fj.fail = 1;
    ck_assert_int_eq(s->ops->apply_logout(s, &l, NOW, 3600, &replayed), BCL_STORE_UNAVAILABLE);
    /* the revocation protects at once... */
    ck_assert_int_eq(s->ops->identity_state(s, &id, NOW, &state), BCL_STORE_OK);
    ck_assert_int_eq(state, BCL_SESSION_REVOKED);
    /* ...and the OP's retry is journalled, not taken for a replay */
    fj.fail = 0;
    ck_assert_int_eq(s->ops->apply_logout(s, &l, NOW, 3600, &replayed), BCL_STORE_OK);
    ck_assert_int_eq(replayed, 0);
    ck_assert_int_eq(fj.calls, 2);
}
END_TEST

START_TEST(test_capacity_for_bytes)
{
    ck_assert_uint_eq(bcl_table_capacity_for(10000160), 100000);
    ck_assert_uint_eq(bcl_table_capacity_for(10000127), 99999);
    ck_assert_uint_eq(bcl_table_capacity_for(64u << 20), 671087);
    ck_assert(bcl_table_size(bcl_table_capacity_for(64u << 20)) <= (64u << 20));
    ck_assert(bcl_table_size(bcl_table_capacity_for(64u << 20) + 1) > (64u << 20));
    ck_assert_uint_eq(bcl_table_capacity_for(10), 0);
}
END_TEST

Suite *journal_suite(void)
{
    Suite *s = suite_create("journal");
    TCase *tc = tcase_create("framing");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_crc32c_check_value);
    tcase_add_test(tc, test_roundtrip_keeps_every_field);
    tcase_add_test(tc, test_header_checks);
    tcase_add_test(tc, test_truncated_tail_keeps_valid_frames);
    tcase_add_test(tc, test_garbage_tail_reported_and_skipped);
    tcase_add_test(tc, test_corrupt_frame_in_the_middle_loses_only_itself);
    tcase_add_test(tc, test_damaged_length_is_caught);
    tcase_add_test(tc, test_replay_drops_expired_and_applies_removals);
    tcase_add_test(tc, test_replay_reports_records_that_do_not_fit);
    tcase_add_test(tc, test_capacity_for_bytes);
    suite_add_tcase(s, tc);
    tc = tcase_create("file");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_file_created_private_and_restored_after_restart);
    tcase_add_test(tc, test_file_truncated_and_garbage_tail);
    tcase_add_test(tc, test_compaction_replaces_the_file_and_appends_follow);
    tcase_add_test(tc, test_foreign_file_and_missing_directory_refused);
    tcase_add_test(tc, test_compaction_of_many_records);
    tcase_add_test(tc, test_expired_records_dropped_at_restart);
    suite_add_tcase(s, tc);
    tc = tcase_create("store");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_store_journals_logouts_synced_and_bindings_not);
    tcase_add_test(tc, test_store_journal_failure_answers_unavailable_and_retry_is_no_replay);
    suite_add_tcase(s, tc);
    return s;
}
