/* The journal file: opened and replayed once at startup, appended to under
 * the store's lock by every process, rewritten (compacted) by maintenance.
 *
 * Every call below that touches the file must be made with the store's lock
 * held: appends from several processes then never interleave, and a
 * compaction never races an append. The handle is plain data (no function
 * pointers), so it may live in a pool that outlives the module's code across
 * a graceful restart; the logger is passed to each call.
 *
 * What is durable when:
 *   - a frame is in the file (the kernel's page cache) once append returns:
 *     it survives the crash of any httpd process (kill -9);
 *   - with sync = 1 it is on stable storage (fdatasync) before append
 *     returns: it survives a machine crash or power loss;
 *   - bcl_journal_sync() flushes everything appended so far (maintenance
 *     calls it every few seconds, bounding what a machine crash can take). */
#ifndef BCL_JOURNAL_FILE_H
#define BCL_JOURNAL_FILE_H

#include <sys/types.h>
#include <apr_pools.h>
#include "bcl_journal.h"

/* Counters in shared memory, updated under the store's lock, read at any
 * time (atomically) by the status handler. */
typedef struct {
    uint64_t appends;            /* write calls that succeeded */
    uint64_t append_errors;
    uint64_t records_written;    /* frames appended (compaction not counted) */
    uint64_t syncs;              /* fdatasync calls that succeeded */
    uint64_t sync_errors;
    uint64_t compactions;
    uint64_t compaction_errors;
    uint64_t bytes;              /* size of the file now */
    uint64_t compacted_bytes;    /* its size after the last compaction */
    int64_t last_compaction;     /* seconds since the epoch */
    uint64_t unsynced;           /* frames appended since the last sync */
    /* at the last startup */
    uint64_t replayed;           /* live records restored */
    uint64_t replay_expired;
    uint64_t replay_dropped_full;
    uint64_t damaged_bytes;
    uint64_t damaged_regions;
} bcl_journal_stats_t;

typedef struct {
    const char *path;
    const char *tmp_path;        /* path + ".compact" */
    const char *dir;
    int fd;                      /* O_APPEND; -1 when closed */
    int dir_unsynced;            /* a compaction's rename is not fsynced in the directory yet */
    dev_t dev;
    ino_t ino;
    int set_owner;
    uid_t uid;
    gid_t gid;
    bcl_journal_stats_t *stats;
} bcl_journal_t;

/* A handle for `path` (nothing is opened). `stats` may not be NULL. */
bcl_journal_t *bcl_journal_create(apr_pool_t *p, const char *path, bcl_journal_stats_t *stats);

/* Files the journal creates get this owner (httpd's User, when started as root). */
void bcl_journal_set_owner(bcl_journal_t *j, uid_t uid, gid_t gid);

/* Startup: opens or creates the file (mode 0600), replays it into `t`
 * (expired records dropped, damage reported through `log` with the file's
 * name and offsets), then rewrites it with the table's live records.
 * Returns 0, or -1 with `*err` (the directory is missing, the file is not a
 * journal, it cannot be read or written). */
int bcl_journal_start(bcl_journal_t *j, apr_pool_t *tmp, bcl_table_t *t, int64_t now,
                      const bcl_logger_t *log, const char **err);

/* Appends `n` records (a record of kind BCL_REC_EMPTY removes its key);
 * with `sync`, returns only once they are on stable storage. Reopens the
 * file first when a compaction replaced it. Returns 0 or -1 (logged). */
int bcl_journal_append(bcl_journal_t *j, const bcl_record_t *recs, int n, int sync,
                       const bcl_logger_t *log);

/* fdatasync when frames were appended since the last sync. 0 or -1 (logged). */
int bcl_journal_sync(bcl_journal_t *j, const bcl_logger_t *log);

/* Rewrites the file with the live records of `t`: a new file, fsync,
 * rename over the old one, fsync of the directory. A crash at any point
 * leaves either the old file or the new one. 0 or -1 (logged). */
int bcl_journal_compact(bcl_journal_t *j, bcl_table_t *t, int64_t now, const bcl_logger_t *log);

/* Whether the file has grown past `factor` times its size after the last
 * compaction (and past `min_bytes`). */
int bcl_journal_needs_compaction(const bcl_journal_t *j, unsigned factor, uint64_t min_bytes);

void bcl_journal_close(bcl_journal_t *j);

#endif
