#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <apr_strings.h>
#include "bcl_journal_file.h"
#include "bcl_logtags.h"


/* Frames written by one write() during compaction. */
#define COMPACT_BATCH 128

#define STAT_ADD(j, field, n) __atomic_add_fetch(&(j)->stats->field, (n), __ATOMIC_RELAXED)
#define STAT_SET(j, field, v) __atomic_store_n(&(j)->stats->field, (v), __ATOMIC_RELAXED)

bcl_journal_t *bcl_journal_create(apr_pool_t *p, const char *path, bcl_journal_stats_t *stats)
{
    bcl_journal_t *j = apr_pcalloc(p, sizeof(*j));
    const char *slash = strrchr(path, '/');

    j->path = apr_pstrdup(p, path);
    j->tmp_path = apr_pstrcat(p, path, ".compact", NULL);
    if (slash == NULL)
        j->dir = ".";
    else if (slash == path)
        j->dir = "/";
    else
        j->dir = apr_pstrndup(p, path, (apr_size_t)(slash - path));
    j->fd = -1;
    j->stats = stats;
    return j;
}

void bcl_journal_set_owner(bcl_journal_t *j, uid_t uid, gid_t gid)
{
    j->set_owner = 1;
    j->uid = uid;
    j->gid = gid;
}

static int write_all(int fd, const unsigned char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* The file is private to httpd's user: 0600, owned by User (set as root). */
static int make_private(bcl_journal_t *j, int fd)
{
    if (fchmod(fd, S_IRUSR | S_IWUSR) != 0)
        return -1;
    if (j->set_owner && fchown(fd, j->uid, j->gid) != 0)
        return -1;
    return 0;
}

static void remember_inode(bcl_journal_t *j)
{
    struct stat st;
    if (fstat(j->fd, &st) == 0) {
        j->dev = st.st_dev;
        j->ino = st.st_ino;
        STAT_SET(j, bytes, (uint64_t)st.st_size);
    }
}

static int sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc;
    if (fd < 0)
        return -1;
    rc = fsync(fd);
    close(fd);
    return rc;
}

static int read_file(int fd, apr_pool_t *tmp, unsigned char **data, size_t *len)
{
    struct stat st;
    size_t got = 0;

    if (fstat(fd, &st) != 0)
        return -1;
    *data = apr_palloc(tmp, (apr_size_t)st.st_size + 1);
    while (got < (size_t)st.st_size) {
        ssize_t n = pread(fd, *data + got, (size_t)st.st_size - got, (off_t)got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        got += (size_t)n;
    }
    *len = got;
    return 0;
}

static void report_replay(bcl_journal_t *j, const bcl_journal_scan_t *scan, const bcl_journal_replay_t *rep,
                          const bcl_logger_t *log)
{
    for (int i = 0; i < scan->ndamage; i++)
        bcl_log(log, BCL_LOG_ERROR, BCL_TAG_JOURNAL_DAMAGE, "journal %s is damaged at offset %llu (%llu bytes): those bytes "
                "are skipped, the valid records before and after them are restored", j->path,
                (unsigned long long)scan->damage[i].offset, (unsigned long long)scan->damage[i].length);
    if (scan->more_damage)
        bcl_log(log, BCL_LOG_ERROR, BCL_TAG_JOURNAL_DAMAGE, "journal %s has more damaged regions: %llu bytes skipped in all",
                j->path, (unsigned long long)scan->damaged_bytes);
    if (rep->dropped_full > 0)
        bcl_log(log, BCL_LOG_ERROR, BCL_TAG_JOURNAL_DROPPED, "journal %s: %llu unexpired records did not fit the store's "
                "capacity and were NOT restored; they stay in the journal, which is not compacted until a "
                "restart with a larger BCLStore shm capacity= (or memory=) restores them", j->path,
                (unsigned long long)rep->dropped_full);
    bcl_log(log, BCL_LOG_INFO, BCL_TAG_JOURNAL, "journal %s replayed: %llu frames, %llu records restored, %llu expired "
            "dropped, %llu removals, %llu damaged bytes skipped", j->path, (unsigned long long)scan->frames,
            (unsigned long long)rep->applied, (unsigned long long)rep->expired, (unsigned long long)rep->removed,
            (unsigned long long)scan->damaged_bytes);
}

int bcl_journal_start(bcl_journal_t *j, apr_pool_t *tmp, bcl_table_t *t, int64_t now,
                      const bcl_logger_t *log, const char **err)
{
    struct stat st;
    unsigned char *data = NULL;
    size_t len = 0;
    bcl_journal_scan_t scan;
    bcl_journal_replay_t rep;
    bcl_journal_header_status_t hs;
    int fd;

    if (stat(j->dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        *err = apr_psprintf(tmp, "the journal's directory %s does not exist (create it; httpd does not)", j->dir);
        return -1;
    }
    fd = open(j->path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, S_IRUSR | S_IWUSR);
    if (fd < 0) {
        *err = apr_psprintf(tmp, "cannot open or create the journal %s: %s", j->path, strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        *err = apr_psprintf(tmp, "the journal %s is not a regular file", j->path);
        return -1;
    }
    if (read_file(fd, tmp, &data, &len) != 0) {
        *err = apr_psprintf(tmp, "cannot read the journal %s: %s", j->path, strerror(errno));
        close(fd);
        return -1;
    }
    close(fd);
    hs = bcl_journal_header_check(data, len);
    if (hs == BCL_JOURNAL_HEADER_FOREIGN) {
        *err = apr_psprintf(tmp, "%s is not a journal of this module (version %u): refusing to overwrite it; "
                            "move it away or name another file=", j->path, BCL_JOURNAL_VERSION);
        return -1;
    }
    memset(&scan, 0, sizeof(scan));
    memset(&rep, 0, sizeof(rep));
    if (hs == BCL_JOURNAL_HEADER_OK)
        bcl_journal_replay(t, data, len, now, &scan, &rep);
    report_replay(j, &scan, &rep, log);
    STAT_SET(j, replayed, rep.applied);
    STAT_SET(j, replay_expired, rep.expired);
    STAT_SET(j, replay_dropped_full, rep.dropped_full);
    STAT_SET(j, damaged_bytes, scan.damaged_bytes);
    STAT_SET(j, damaged_regions, (uint64_t)scan.ndamage);

    if (rep.dropped_full > 0) {
        /* Rewriting the file from the table would erase the records that did
         * not fit: append to it as it is (bcl_journal_compact refuses too). */
        fd = open(j->path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0) {
            *err = apr_psprintf(tmp, "cannot open the journal %s: %s", j->path, strerror(errno));
            return -1;
        }
        j->fd = fd;
        remember_inode(j);
        STAT_SET(j, compacted_bytes, __atomic_load_n(&j->stats->bytes, __ATOMIC_RELAXED));
        return 0;
    }
    /* A stale ".compact" from a crash during compaction is just rewritten. */
    if (bcl_journal_compact(j, t, now, log) != 0) {
        *err = apr_psprintf(tmp, "cannot write the journal %s (see the " BCL_TAG_JOURNAL_COMPACT " line above)", j->path);
        return -1;
    }
    return 0;
}

typedef struct {
    int fd;
    unsigned char buf[COMPACT_BATCH * BCL_JOURNAL_FRAME_SIZE];
    size_t fill;
    uint64_t records;
} compact_ctx_t;

static int compact_flush(compact_ctx_t *c)
{
    int rc = write_all(c->fd, c->buf, c->fill);
    c->fill = 0;
    return rc;
}

static int compact_one(void *baton, const bcl_record_t *rec)
{
    compact_ctx_t *c = baton;
    if (c->fill + BCL_JOURNAL_FRAME_SIZE > sizeof(c->buf) && compact_flush(c) != 0)
        return -1;
    bcl_journal_encode(c->buf + c->fill, rec);
    c->fill += BCL_JOURNAL_FRAME_SIZE;
    c->records++;
    return 0;
}

int bcl_journal_compact(bcl_journal_t *j, bcl_table_t *t, int64_t now, const bcl_logger_t *log)
{
    compact_ctx_t *c = NULL;
    const char *step = "create", *target = j->tmp_path;
    int fd, saved;

    if (__atomic_load_n(&j->stats->replay_dropped_full, __ATOMIC_RELAXED) > 0)
        return 0;   /* the file holds records the table could not take (BCL0704) */
    fd = open(j->tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC | O_NOFOLLOW, S_IRUSR | S_IWUSR);
    if (fd < 0)
        goto fail;
    step = "set the owner and mode of";
    if (make_private(j, fd) != 0)
        goto fail;
    /* 11 KiB of frames: too big for a thread's stack in every MPM */
    c = calloc(1, sizeof(*c));
    step = "write";
    if (c == NULL)
        goto fail;
    c->fd = fd;
    bcl_journal_header(c->buf);
    c->fill = BCL_JOURNAL_HEADER_SIZE;
    if (bcl_table_foreach(t, now, compact_one, c) != 0 || compact_flush(c) != 0)
        goto fail;
    step = "fsync";
    if (fsync(fd) != 0)
        goto fail;
    step = "rename it to";
    target = j->path;
    if (rename(j->tmp_path, j->path) != 0)
        goto fail;
    if (j->fd >= 0)
        close(j->fd);
    j->fd = fd;
    remember_inode(j);
    /* the rename is done: the new file is the journal; a failed directory
     * fsync is retried by the next sync (j->dir_unsynced) */
    j->dir_unsynced = sync_dir(j->dir) != 0;
    if (j->dir_unsynced)
        bcl_log(log, BCL_LOG_ERROR, BCL_TAG_JOURNAL_COMPACT, "journal %s compacted but the directory %s could not be "
                "fsynced: %s; retried at the next sync", j->path, j->dir, strerror(errno));
    STAT_SET(j, compacted_bytes, __atomic_load_n(&j->stats->bytes, __ATOMIC_RELAXED));
    STAT_SET(j, last_compaction, now);
    STAT_SET(j, unsynced, 0);
    STAT_ADD(j, compactions, 1);
    bcl_log(log, BCL_LOG_INFO, BCL_TAG_JOURNAL_COMPACT, "journal %s compacted: %llu live records, %llu bytes", j->path,
            (unsigned long long)c->records, (unsigned long long)j->stats->bytes);
    free(c);
    return 0;

fail:
    saved = errno;
    free(c);
    if (fd >= 0 && fd != j->fd) {
        close(fd);
        unlink(j->tmp_path);
    }
    STAT_ADD(j, compaction_errors, 1);
    bcl_log(log, BCL_LOG_ERROR, BCL_TAG_JOURNAL_COMPACT, "journal %s: compaction failed: cannot %s %s: %s; the old journal "
            "stays in use", j->path, step, target, strerror(saved));
    return -1;
}

/* Another process compacted the journal (a new file under the same name):
 * append to that one. Also recreates a file deleted by hand. */
static int reopen_if_replaced(bcl_journal_t *j, const bcl_logger_t *log)
{
    struct stat st;
    int fd;

    if (j->fd >= 0 && stat(j->path, &st) == 0 && st.st_dev == j->dev && st.st_ino == j->ino)
        return 0;
    fd = open(j->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, S_IRUSR | S_IWUSR);
    if (fd < 0) {
        bcl_log(log, BCL_LOG_ERROR, BCL_TAG_JOURNAL_IO, "cannot open the journal %s: %s", j->path, strerror(errno));
        return -1;
    }
    if (j->fd >= 0)
        close(j->fd);
    j->fd = fd;
    remember_inode(j);
    if (j->stats->bytes == 0) {
        unsigned char h[BCL_JOURNAL_HEADER_SIZE];
        bcl_log(log, BCL_LOG_WARNING, BCL_TAG_JOURNAL, "journal %s was missing or empty: started anew (the next "
                "compaction writes every live record back)", j->path);
        bcl_journal_header(h);
        if (write_all(fd, h, sizeof(h)) != 0 || sync_dir(j->dir) != 0) {
            /* never append frames to a file without its header */
            bcl_log(log, BCL_LOG_ERROR, BCL_TAG_JOURNAL_IO, "cannot start the journal %s anew: %s", j->path, strerror(errno));
            if (ftruncate(fd, 0) != 0)   /* a partial header must be retried whole */
                bcl_log(log, BCL_LOG_ERROR, BCL_TAG_JOURNAL_IO, "cannot truncate the journal %s: %s", j->path, strerror(errno));
            close(fd);
            j->fd = -1;
            return -1;
        }
        STAT_ADD(j, bytes, sizeof(h));
        STAT_SET(j, compacted_bytes, 0);   /* due: only the table holds the live records now */
    }
    return 0;
}

int bcl_journal_append(bcl_journal_t *j, const bcl_record_t *recs, int n, int sync, const bcl_logger_t *log)
{
    unsigned char buf[4 * BCL_JOURNAL_FRAME_SIZE];

    if (n < 1 || n > 4)
        return -1;
    if (reopen_if_replaced(j, log) != 0) {
        STAT_ADD(j, append_errors, 1);
        return -1;
    }
    for (int i = 0; i < n; i++)
        bcl_journal_encode(buf + (size_t)i * BCL_JOURNAL_FRAME_SIZE, &recs[i]);
    /* one write: the records of one logout land together or (torn by a
     * crash) are dropped together at replay, the checksum catching it */
    if (write_all(j->fd, buf, (size_t)n * BCL_JOURNAL_FRAME_SIZE) != 0) {
        STAT_ADD(j, append_errors, 1);
        bcl_log(log, BCL_LOG_ERROR, BCL_TAG_JOURNAL_IO, "cannot append to the journal %s: %s", j->path, strerror(errno));
        remember_inode(j);
        return -1;
    }
    STAT_ADD(j, appends, 1);
    STAT_ADD(j, records_written, (uint64_t)n);
    STAT_ADD(j, bytes, (uint64_t)n * BCL_JOURNAL_FRAME_SIZE);
    STAT_ADD(j, unsynced, (uint64_t)n);
    return sync ? bcl_journal_sync(j, log) : 0;
}

int bcl_journal_sync(bcl_journal_t *j, const bcl_logger_t *log)
{
    if (__atomic_load_n(&j->stats->unsynced, __ATOMIC_RELAXED) == 0)
        return 0;
    if (reopen_if_replaced(j, log) != 0) {
        STAT_ADD(j, sync_errors, 1);
        return -1;
    }
    if (fdatasync(j->fd) != 0) {
        STAT_ADD(j, sync_errors, 1);
        bcl_log(log, BCL_LOG_ERROR, BCL_TAG_JOURNAL_IO, "cannot fdatasync the journal %s: %s", j->path, strerror(errno));
        return -1;
    }
    if (j->dir_unsynced && sync_dir(j->dir) == 0)
        j->dir_unsynced = 0;
    STAT_ADD(j, syncs, 1);
    STAT_SET(j, unsynced, 0);
    return 0;
}

int bcl_journal_needs_compaction(const bcl_journal_t *j, unsigned factor, uint64_t min_bytes)
{
    uint64_t bytes = __atomic_load_n(&j->stats->bytes, __ATOMIC_RELAXED);
    uint64_t base = __atomic_load_n(&j->stats->compacted_bytes, __ATOMIC_RELAXED);
    return bytes > min_bytes && bytes > base * factor;
}

void bcl_journal_close(bcl_journal_t *j)
{
    if (j->fd >= 0)
        close(j->fd);
    j->fd = -1;
}
