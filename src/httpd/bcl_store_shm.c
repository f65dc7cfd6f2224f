#include "bcl_store_shm.h"
#include <apr_global_mutex.h>
#include <apr_shm.h>
#include <http_log.h>
#include <util_mutex.h>
#include <unixd.h>
#include <unistd.h>
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include "bcl_config.h"
#include "bcl_log_httpd.h"
#include "bcl_logtags.h"
#include "bcl_metrics.h"
#include "mod_backchannel_logout.h"

/* What must outlive one configuration generation: plain data only. The
 * module's code may be unloaded and mapped elsewhere on restart, so no
 * function pointer is kept here. */
typedef struct {
    apr_shm_t *shm;
    apr_global_mutex_t *mutex;
    apr_uint32_t capacity;
    bcl_table_t *table;
    bcl_journal_t *journal;   /* NULL without file=; this process's handle */
} shm_state_t;

/* Journal compaction: when the file is this many times its size after the
 * last compaction (and at least COMPACT_MIN_BYTES), or hourly when it grew. */
#define COMPACT_FACTOR 4
#define COMPACT_MIN_BYTES (64 * 1024)
#define COMPACT_PERIOD 3600

#define SHM_STATE_KEY "mod_backchannel_logout:shm-state"

apr_status_t bcl_store_shm_register(apr_pool_t *pconf)
{
    return ap_mutex_register(pconf, BCL_STORE_MUTEX_TYPE, NULL, APR_LOCK_DEFAULT, 0);
}

static shm_state_t *shm_state(server_rec *s)
{
    void *data = NULL;
    apr_pool_userdata_get(&data, SHM_STATE_KEY, s->process->pool);
    return data;
}

static int shm_lock(void *baton)
{
    shm_state_t *st = baton;
    return apr_global_mutex_lock(st->mutex) == APR_SUCCESS ? 0 : -1;
}

static void shm_unlock(void *baton)
{
    shm_state_t *st = baton;
    apr_global_mutex_unlock(st->mutex);
}

apr_status_t bcl_store_shm_init(server_rec *s, apr_pool_t *pconf, apr_uint32_t capacity,
                                bcl_store_t **store)
{
    apr_pool_t *keep = s->process->pool;
    shm_state_t *st = shm_state(s);
    bcl_table_t *table = NULL;
    apr_status_t rv;

    if (st != NULL && st->capacity != capacity) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, BCL_TAG_STORE ": BCLStore capacity changed from %u to %u: "
                     "the new capacity takes effect at the next full restart; revocations are kept",
                     st->capacity, capacity);
    }
    if (st == NULL) {
        st = apr_pcalloc(keep, sizeof(*st));
        st->capacity = capacity;
        rv = apr_shm_create(&st->shm, bcl_table_size(capacity), NULL, keep);
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, BCL_TAG_STORE ": cannot create %" APR_SIZE_T_FMT
                         " bytes of shared memory for BCLStore shm capacity=%u", bcl_table_size(capacity), capacity);
            return rv;
        }
        rv = ap_global_mutex_create(&st->mutex, NULL, BCL_STORE_MUTEX_TYPE, NULL, s, keep, 0);
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, BCL_TAG_STORE ": cannot create the store's global mutex");
            return rv;
        }
        table = bcl_table_init(apr_shm_baseaddr_get(st->shm), capacity);
        st->table = table;
        apr_pool_userdata_set(st, SHM_STATE_KEY, apr_pool_cleanup_null, keep);
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, BCL_TAG_STORE ": shared-memory store created: capacity %u records, %"
                     APR_SIZE_T_FMT " bytes", capacity, bcl_table_size(capacity));
    } else {
        table = st->table = bcl_table_attach(apr_shm_baseaddr_get(st->shm), apr_shm_size_get(st->shm));
        uint32_t kept = bcl_table_layout_of(apr_shm_baseaddr_get(st->shm), apr_shm_size_get(st->shm));
        if (table == NULL && kept != 0 && kept != bcl_table_layout()) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, BCL_TAG_STORE ": the shared-memory store kept from the last "
                         "generation was made by another version of the module (table layout %u, this version's %u): "
                         "a graceful restart cannot carry it across an upgrade; stop httpd and start it again (with "
                         "BCLStore shm file= every revocation comes back from the journal)", kept, bcl_table_layout());
            return APR_EGENERAL;
        }
        if (table == NULL) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, BCL_TAG_STORE ": the shared-memory store kept from the last "
                         "generation is damaged");
            return APR_EGENERAL;
        }
    }

    bcl_store_lock_t lock = { shm_lock, shm_unlock, st };
    *store = bcl_store_table_create(pconf, table, &lock);
    return APR_SUCCESS;
}

typedef struct {
    shm_state_t *st;
    server_rec *s;
} journal_glue_t;

/* Called by the table store with the lock held: the write only. The
 * fdatasync a logout needs (`sync`) happens after the lock is released, in
 * bcl_store_shm_make_durable, so that the guard never waits for the disk. */
static int journal_append(void *baton, const bcl_record_t *recs, int n, int sync)
{
    journal_glue_t *g = baton;
    bcl_logger_t log = bcl_server_logger(g->s);
    (void)sync;
    if (g->st->journal == NULL)
        return 0;
    return bcl_journal_append(g->st->journal, recs, n, 0, &log);
}

/* Group commit, outside the store's lock. Frames are appended in order
 * under the lock, and `records_written` (shared) counts them; a caller
 * needs every frame counted when its logout returned to be on disk. It
 * reads that count, and unless an fdatasync that began after that count
 * was reached has already finished (journal_durable, shared), syncs the
 * file itself: fdatasync flushes the file whichever descriptor asks, and a
 * compaction that replaced the file meanwhile synced its own copy.
 * Logouts that arrive together each sync (in parallel, outside the lock):
 * one skips its own only when a covering sync has already finished. */
int bcl_store_shm_make_durable(server_rec *s)
{
    shm_state_t *st = shm_state(s);
    bcl_metrics_t *m = bcl_metrics_of(s);
    bcl_journal_t *j = st != NULL ? st->journal : NULL;
    uint64_t target, done;
    int fd, err = 0;

    if (j == NULL || m == NULL)
        return 0;
    target = __atomic_load_n(&j->stats->records_written, __ATOMIC_ACQUIRE);
    if (__atomic_load_n(&m->journal_durable, __ATOMIC_ACQUIRE) >= target)
        return 0;
    fd = open(j->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fdatasync(fd) != 0)
        err = errno;
    if (fd >= 0)
        close(fd);
    if (err != 0) {
        __atomic_add_fetch(&j->stats->sync_errors, 1, __ATOMIC_RELAXED);
        ap_log_error(APLOG_MARK, APLOG_ERR, err, s, BCL_TAG_JOURNAL_IO ": cannot fdatasync the journal %s: the "
                     "logout is answered 503 so that the OP retries", j->path);
        return -1;
    }
    __atomic_add_fetch(&j->stats->syncs, 1, __ATOMIC_RELAXED);
    done = __atomic_load_n(&m->journal_durable, __ATOMIC_RELAXED);
    while (done < target
           && !__atomic_compare_exchange_n(&m->journal_durable, &done, target, 0, __ATOMIC_RELEASE,
                                           __ATOMIC_RELAXED))
        ;
    if (__atomic_load_n(&j->stats->records_written, __ATOMIC_RELAXED) == target)
        __atomic_store_n(&j->stats->unsynced, (uint64_t)0, __ATOMIC_RELAXED);
    return 0;
}

/* Compaction runs in a child (User): it creates a file in the journal's
 * directory and renames it, so the directory must be writable by User. */
static void warn_if_dir_not_writable(server_rec *s, const bcl_journal_t *j)
{
    struct stat st;
    int ok;
    uid_t uid = geteuid() == 0 ? ap_unixd_config.user_id : geteuid();
    gid_t gid = geteuid() == 0 ? ap_unixd_config.group_id : getegid();

    if (stat(j->dir, &st) != 0)
        return;
    if (uid == 0 || st.st_uid == uid)
        ok = (st.st_mode & S_IWUSR) != 0;
    else if (st.st_gid == gid)
        ok = (st.st_mode & S_IWGRP) != 0;
    else
        ok = (st.st_mode & S_IWOTH) != 0;
    if (!ok)
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, BCL_TAG_JOURNAL ": the journal's directory %s is not writable "
                     "by httpd's User: the journal can be appended to, but not compacted until restart (it grows); "
                     "make the directory owned by User, mode 0700", j->dir);
}

apr_status_t bcl_store_shm_journal(server_rec *s, apr_pool_t *pconf, apr_pool_t *ptemp, const char *path,
                                   bcl_journal_stats_t *stats, bcl_store_t *store)
{
    shm_state_t *st = shm_state(s);
    bcl_logger_t log = bcl_server_logger(s);
    const char *err = NULL;
    journal_glue_t *glue;

    if (st == NULL)
        return APR_EGENERAL;
    if (path == NULL) {
        if (st->journal != NULL) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, BCL_TAG_JOURNAL ": BCLStore file= removed: the journal %s "
                         "is no longer written; revocations from now on do not survive a full restart",
                         st->journal->path);
            bcl_journal_close(st->journal);
            st->journal = NULL;
        }
        return APR_SUCCESS;
    }
    if (st->journal != NULL && strcmp(st->journal->path, path) != 0)
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, BCL_TAG_JOURNAL ": BCLStore file= changed from %s to %s: the "
                     "new file takes effect at the next full restart; %s stays in use", st->journal->path, path,
                     st->journal->path);
    if (st->journal == NULL) {
        bcl_journal_t *j = bcl_journal_create(s->process->pool, path, stats);
        int rc;
        /* started as root: the children (User) append and reopen it */
        if (geteuid() == 0)
            bcl_journal_set_owner(j, ap_unixd_config.user_id, ap_unixd_config.group_id);
        if (apr_global_mutex_lock(st->mutex) != APR_SUCCESS)
            return APR_EGENERAL;
        rc = bcl_journal_start(j, ptemp, st->table, apr_time_sec(apr_time_now()), &log, &err);
        apr_global_mutex_unlock(st->mutex);
        if (rc != 0) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, BCL_TAG_JOURNAL ": BCLStore shm file=%s: %s", path, err);
            return APR_EGENERAL;
        }
        st->journal = j;
        warn_if_dir_not_writable(s, j);
    }
    /* The parent never appends: each child opens the file at its first
     * append (as User), so no process keeps a compacted-away file open. */
    bcl_journal_close(st->journal);
    glue = apr_pcalloc(pconf, sizeof(*glue));
    glue->st = st;
    glue->s = s;
    bcl_store_journal_t hook = { journal_append, glue };
    bcl_store_table_set_journal(store, &hook);
    return APR_SUCCESS;
}

const char *bcl_store_shm_journal_path(server_rec *s)
{
    shm_state_t *st = shm_state(s);
    return st != NULL && st->journal != NULL ? st->journal->path : NULL;
}

void bcl_store_shm_maintain(server_rec *s, int sweep)
{
    shm_state_t *st = shm_state(s);
    bcl_metrics_t *m = bcl_metrics_of(s);
    bcl_logger_t log = bcl_server_logger(s);
    apr_int64_t now = apr_time_sec(apr_time_now());

    if (st == NULL || st->table == NULL || apr_global_mutex_lock(st->mutex) != APR_SUCCESS)
        return;
    if (sweep) {
        uint32_t removed = bcl_table_sweep(st->table, now);
        if (m != NULL) {
            BCL_METRIC_ADD(m->sweeps, 1);
            BCL_METRIC_ADD(m->swept_records, removed);
        }
        if (removed > 0)
            ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s, BCL_TAG_MAINTENANCE ": %u expired records swept", removed);
    }
    if (st->journal != NULL) {
        bcl_journal_t *j = st->journal;
        if (j->dir_unsynced) {
            /* a compaction's directory fsync failed: retried (rare, so under the lock) */
            __atomic_store_n(&j->stats->unsynced, (uint64_t)1, __ATOMIC_RELAXED);
            bcl_journal_sync(j, &log);
        }
        if (bcl_journal_needs_compaction(j, COMPACT_FACTOR, COMPACT_MIN_BYTES)
            || (now - j->stats->last_compaction >= COMPACT_PERIOD && j->stats->bytes > j->stats->compacted_bytes))
            bcl_journal_compact(j, st->table, now, &log);
    }
    apr_global_mutex_unlock(st->mutex);
    /* bindings are written without a sync: flushed here, off the lock */
    if (st->journal != NULL)
        bcl_store_shm_make_durable(s);
    if (m != NULL)
        BCL_METRIC_ADD(m->maintenance_runs, 1);
}

void bcl_store_shm_child_init(apr_pool_t *p, server_rec *s)
{
    shm_state_t *st = shm_state(s);
    if (st == NULL)
        return;
    apr_status_t rv = apr_global_mutex_child_init(&st->mutex, apr_global_mutex_lockfile(st->mutex), p);
    if (rv != APR_SUCCESS)
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, BCL_TAG_STORE ": cannot attach the store's mutex in a child");
}
