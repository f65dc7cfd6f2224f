/* The revocation store: what the receiver writes and the guard reads. A
 * table of operations, one implementation per backend. The shared-memory
 * backend is bcl_store_table.c over a bcl_table_t; network backends (memcache,
 * redis) implement the same operations. */
#ifndef BCL_STORE_H
#define BCL_STORE_H

#include <apr_pools.h>
#include "bcl_record.h"
#include "bcl_table.h"

typedef enum {
    BCL_STORE_OK = 0,
    BCL_STORE_FULL,           /* refused: no room without dropping a live record */
    BCL_STORE_UNAVAILABLE     /* the backend cannot be reached or locked */
} bcl_store_status_t;

typedef enum {
    BCL_SESSION_UNBOUND = 0,  /* the store knows nothing of this session */
    BCL_SESSION_LIVE,
    BCL_SESSION_REVOKED
} bcl_session_state_t;

typedef struct bcl_store_t bcl_store_t;

typedef struct {
    const char *name;
    /* Stores what a logout token revokes, and its jti, all or nothing.
     * `*replayed` is set when the jti was already applied: nothing changes. */
    bcl_store_status_t (*apply_logout)(bcl_store_t *s, const bcl_logout_t *l,
                                       int64_t now, int64_t lifetime, int *replayed);
    /* Binds a session cookie (by hash) to an identity until `expires`. */
    bcl_store_status_t (*bind)(bcl_store_t *s, const bcl_hkey_t *cookie,
                               const bcl_identity_t *id, int64_t now, int64_t expires);
    bcl_store_status_t (*unbind)(bcl_store_t *s, const bcl_hkey_t *cookie);
    /* The state of the session a cookie is bound to; `id` receives the
     * binding. On entry id->iss_key is the issuer cut-off that applies to
     * a binding that names no issuer (bcl_rules_binding_identity): the
     * caller zeroes `id`, and the guard sets its location's BCLIssuer's. */
    bcl_store_status_t (*cookie_state)(bcl_store_t *s, const bcl_hkey_t *cookie, int64_t now,
                                       bcl_session_state_t *state, bcl_identity_t *id);
    /* The state of a session whose identity an auth module supplied. */
    bcl_store_status_t (*identity_state)(bcl_store_t *s, const bcl_identity_t *id, int64_t now,
                                         bcl_session_state_t *state);
    bcl_store_status_t (*stats)(bcl_store_t *s, int64_t now, bcl_table_stats_t *out);
    /* Usage thresholds crossed since the last call (1 = 80%, 2 = 100%), so
     * that each crossing is logged once, not once per request. */
    unsigned (*usage_crossings)(bcl_store_t *s);
    /* Whether a per-request "store unavailable" line may be logged at
     * `now` (seconds), so that a store that is down does not flood the log;
     * `*suppressed` receives how many were not logged since the last one.
     * NULL: always (a local store fails rarely and says why each time). */
    int (*log_allowed)(bcl_store_t *s, apr_uint32_t now, apr_uint32_t *suppressed);
    /* The live revocation record of `kind` named by identity key `key`
     * (an administrator's question: is this sub revoked, since when?);
     * `*found` 0 when there is none. */
    bcl_store_status_t (*revocation)(bcl_store_t *s, int kind, const bcl_hkey_t *key, int64_t now,
                                     bcl_record_t *out, int *found);
} bcl_store_ops_t;

struct bcl_store_t {
    const bcl_store_ops_t *ops;
    void *ctx;
};

/* The lock a table store takes around each operation (a global mutex in the
 * module; nothing in single-threaded tests). `lock` returns 0 on success. */
typedef struct {
    int (*lock)(void *baton);
    void (*unlock)(void *baton);
    void *baton;
} bcl_store_lock_t;

/* A store over a table in memory the caller provides (and keeps alive). */
bcl_store_t *bcl_store_table_create(apr_pool_t *p, bcl_table_t *table, const bcl_store_lock_t *lock);

/* Where a table store writes every change ahead of the table, under its
 * lock (the durable store's journal). `append` gets the records to put, or
 * records of kind BCL_REC_EMPTY for keys removed; with `sync` it returns
 * only once they are on stable storage. Returns 0 on success.
 *
 * A logout is journalled and synced before it enters the table; when that
 * fails the revocation still enters the table (it protects while this
 * process lives) but its jti does not, and the store answers
 * BCL_STORE_UNAVAILABLE: the OP hears 503, and its retry is not taken for a
 * replay. Bindings and removals are journalled without sync, and a failure
 * to journal them does not stop them (the journal counts and logs it). */
typedef struct {
    int (*append)(void *baton, const bcl_record_t *recs, int n, int sync);
    void *baton;
} bcl_store_journal_t;

void bcl_store_table_set_journal(bcl_store_t *s, const bcl_store_journal_t *journal);

#endif
