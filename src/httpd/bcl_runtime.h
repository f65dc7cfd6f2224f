/* The runtime: what post_config builds once and every request reads (the
 * revocation store, whichever backend it is, the fetched keys and the
 * shared metrics), and the few store-agnostic calls the handlers need
 * beyond the store's operations (bcl_store.h).
 *
 * bcl_runtime.c is the glue that chooses a backend: no other file outside
 * the backends should include a backend's header (bcl_store_shm.h,
 * bcl_store_fleet.h, src/core/bcl_store_net*.h). Handlers include this
 * header and reach the store through rt->store->ops. */
#ifndef BCL_RUNTIME_H
#define BCL_RUNTIME_H

#include <httpd.h>
#include <http_config.h>
#include "bcl_store.h"

struct bcl_metrics_t;
struct bcl_keys_rt_t;
struct bcl_net_conf_t;

typedef struct bcl_runtime_t bcl_runtime_t;   /* also declared in bcl_config.h */
struct bcl_runtime_t {
    bcl_store_t *store;       /* NULL until post_config */
    apr_int64_t lifetime;     /* BCLRevocationLifetime */
    struct bcl_keys_rt_t *keys;  /* fetched keys (bcl_keys.h); NULL when no key URL is configured */
    struct bcl_metrics_t *metrics;  /* shared counters; NULL until post_config */
    struct bcl_hasher_t *hasher;  /* the guard's keys: SHA-256 fetched once per child
                                   * (child pool; NULL in the parent) */
    struct ap_filter_rec_t *bind_filter;  /* the guard's response filter, looked up once per
                                           * generation (adding it by name costs a hash look-up) */
};

/* --- setup (mod_backchannel_logout.c, bcl_config.c) --- */

/* pre_config: makes the backends' mutexes ("Mutex bcl-store ...") known. */
apr_status_t bcl_runtime_register(apr_pool_t *pconf);

/* BCLStore memcache|redis ...: fills `*out`; returns NULL or the error. */
const char *bcl_runtime_parse_net_store(cmd_parms *cmd, int argc, char *const argv[],
                                        struct bcl_net_conf_t **out);

/* post_config: the store the configuration chose (`net` NULL: shm with
 * `capacity` records), into rt->store. */
apr_status_t bcl_runtime_store_init(server_rec *s, apr_pool_t *pconf, const struct bcl_net_conf_t *net,
                                    apr_uint32_t capacity, bcl_runtime_t *rt);

/* post_config, after bcl_runtime_store_init: the shm store's journal
 * (`path` NULL: none; nothing for a network store). */
apr_status_t bcl_runtime_store_journal(server_rec *s, apr_pool_t *pconf, apr_pool_t *ptemp,
                                       const struct bcl_net_conf_t *net, const char *path, bcl_runtime_t *rt);

/* child_init: re-attaches what the store needs in a child. */
void bcl_runtime_child_init(apr_pool_t *pchild, server_rec *s, bcl_runtime_t *rt);

/* --- off the request path (bcl_maintenance.c) --- */

/* Flushes, sweeps (when `sweep`) and compacts what the store keeps locally. */
void bcl_runtime_maintain(server_rec *s, int sweep);

/* --- on the request path (guard, receiver, front channel) --- */

/* After a logout was stored (or found already applied): returns once it
 * is on disk; 0 when the store keeps no journal, -1 when the sync failed
 * (answer 503). */
int bcl_runtime_make_durable(server_rec *s);

/* Logs (once each) that the store's usage crossed 80% or 100%. */
void bcl_runtime_report_usage(request_rec *r, bcl_store_t *store);

/* Whether a per-request "store unavailable" line may be logged now (the
 * store's log_allowed operation; always when it has none). `*suppressed`
 * receives how many were not logged since the last one. */
int bcl_runtime_log_allowed(bcl_store_t *store, apr_uint32_t *suppressed);

/* --- for the status page (bcl_status.c) --- */

/* The journal's path, or NULL when the store is not durable. */
const char *bcl_runtime_journal_path(server_rec *s);

/* A network store's server-wide health counters, read atomically. */
typedef struct {
    apr_uint32_t ops;          /* store operations attempted */
    apr_uint32_t failures;     /* operations that failed */
    apr_uint32_t bad_records;  /* values found that were not ours */
    apr_uint32_t down;         /* 1 from a failure to the next success */
} bcl_runtime_net_counts_t;

/* 1 with `*out` filled for a network store; 0 for a local one. */
int bcl_runtime_net_counts(bcl_store_t *store, bcl_runtime_net_counts_t *out);

#endif
