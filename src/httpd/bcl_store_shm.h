/* The default store: a bcl_table_t in APR shared memory, shared by every
 * child of every MPM, guarded by a global mutex (configurable with the
 * Mutex directive, name "bcl-store"). */
#ifndef BCL_STORE_SHM_H
#define BCL_STORE_SHM_H

#include <httpd.h>
#include "bcl_store.h"
#include "bcl_journal_file.h"

#define BCL_STORE_MUTEX_TYPE "bcl-store"

/* pre_config: makes "Mutex bcl-store ..." known. */
apr_status_t bcl_store_shm_register(apr_pool_t *pconf);

/* post_config: creates the table, or finds the one an earlier generation
 * made. The segment and mutex live in the process pool, which a graceful
 * restart keeps, so revocations survive it. */
apr_status_t bcl_store_shm_init(server_rec *s, apr_pool_t *pconf, apr_uint32_t capacity,
                                bcl_store_t **store);

/* post_config, after bcl_store_shm_init, with `BCLStore shm file=PATH`:
 * opens the journal, replays it into the table (at the first startup; at a
 * graceful restart that adds file=, into the table as it is), rewrites it,
 * and makes the store write every change to it. With `path` NULL, a
 * journal kept from an earlier generation is closed. */
apr_status_t bcl_store_shm_journal(server_rec *s, apr_pool_t *pconf, apr_pool_t *ptemp, const char *path,
                                   bcl_journal_stats_t *stats, bcl_store_t *store);

/* Maintenance, off the request path (the mod_watchdog singleton thread):
 * flushes the journal, sweeps expired records when `sweep`, compacts the
 * journal when it has grown. */
void bcl_store_shm_maintain(server_rec *s, int sweep);

/* The journal's path, or NULL when the store is not durable. */
const char *bcl_store_shm_journal_path(server_rec *s);

/* child_init: re-attaches the mutex in the child. */
void bcl_store_shm_child_init(apr_pool_t *p, server_rec *s);

/* After a logout was stored (or found already applied): returns once every
 * journal frame written so far is on disk (fdatasync outside the store's
 * lock, shared by concurrent callers); 0 without a journal, -1 when the
 * sync failed (answer 503). */
int bcl_store_shm_make_durable(server_rec *s);

#endif
