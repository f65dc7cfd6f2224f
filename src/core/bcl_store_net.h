/* Network stores shared by a fleet of httpd servers: memcache and redis.
 * Both implement bcl_store_ops_t (bcl_store.h) over bcl_netrec.h records,
 * with their own small protocol clients over APR sockets (bcl_netconn.h):
 * see docs/fleet.md for why not apr_memcache, apr_redis or ap_socache.
 *
 * Failures (unreachable, timed out, an error answer) make an operation
 * return BCL_STORE_UNAVAILABLE; they are counted in a bcl_net_health_t the
 * caller provides (in shared memory in the module, so the counts and the
 * log throttle are server-wide) and logged at most once per
 * BCL_NET_LOG_INTERVAL seconds, with the number of failures not logged. */
#ifndef BCL_STORE_NET_H
#define BCL_STORE_NET_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_network_io.h>
#include "bcl_log.h"
#include "bcl_store.h"

typedef enum { BCL_NET_MEMCACHE = 1, BCL_NET_REDIS = 2 } bcl_net_kind_t;

#define BCL_NET_DEFAULT_TIMEOUT_MS 500
#define BCL_NET_MAX_SERVERS 16
#define BCL_NET_LOG_INTERVAL 10

typedef struct {
    const char *host;
    apr_port_t port;
} bcl_net_server_t;

typedef struct bcl_net_conf_t {
    bcl_net_kind_t kind;
    apr_array_header_t *servers;      /* of bcl_net_server_t; redis: exactly one */
    apr_interval_time_t timeout;      /* microseconds, each network wait */
    const char *prefix;               /* key prefix (bcl_netrec_prefix_ok) */
    const char *username;             /* redis ACL user (AUTH user pass); NULL: none */
    const char *password;             /* redis AUTH; NULL: none */
    int db;                           /* redis SELECT; 0 = the default database */
} bcl_net_conf_t;

/* Server-wide counters, updated with APR atomics (they may live in shared
 * memory). Readers (a status page) read them with apr_atomic_read32. */
typedef struct {
    volatile apr_uint32_t ops;            /* store operations attempted */
    volatile apr_uint32_t failures;       /* operations that failed: 503 / BCLStoreUnavailable */
    volatile apr_uint32_t bad_records;    /* values found that were not ours (treated as absent) */
    volatile apr_uint32_t down;           /* 1 from a failure to the next success */
    volatile apr_uint32_t log_next;       /* seconds: when the next failure may be logged */
    volatile apr_uint32_t suppressed;     /* failures not logged since the last report */
    volatile apr_uint32_t guard_log_next; /* the same throttle for the guard's BCL0205 lines */
    volatile apr_uint32_t guard_suppressed;
} bcl_net_health_t;

/* Parses "HOST:PORT[,HOST:PORT...]" ([v6]:PORT allowed). Returns NULL, or
 * an error message naming the bad part. */
const char *bcl_net_parse_servers(apr_pool_t *p, const char *spec, int max, apr_array_header_t **out);

/* 1 when a throttled message may be logged now (and moves `*next` on by
 * `interval`), 0 when one was logged less than `interval` seconds ago.
 * Safe for concurrent callers: exactly one of them wins each interval. */
int bcl_net_throttle(volatile apr_uint32_t *next, apr_uint32_t now, apr_uint32_t interval);

/* The stores (no connection is made yet); which one a configuration
 * wants (conf->kind) is the caller's choice (bcl_store_fleet.c in the
 * module). `health` and `logger` must outlive them. */
bcl_store_t *bcl_store_memcache_create(apr_pool_t *p, const bcl_net_conf_t *conf, bcl_net_health_t *health,
                                       const bcl_logger_t *logger);
bcl_store_t *bcl_store_redis_create(apr_pool_t *p, const bcl_net_conf_t *conf, bcl_net_health_t *health,
                                    const bcl_logger_t *logger);

/* In each child process: connection pools of at most `max_conns` per server. */
apr_status_t bcl_store_net_child_init(bcl_store_t *s, apr_pool_t *pchild, int max_conns);

/* Tests only: `fn(arg)` runs in apply_logout after the records were read
 * and before they are written (each attempt), so that a test can make
 * another server write the same records in between, deterministically. */
typedef void bcl_store_race_fn(void *arg);
void bcl_store_net_set_race(bcl_store_t *s, bcl_store_race_fn *fn, void *arg);

/* The store's health counters; NULL for a store that is not a network store. */
bcl_net_health_t *bcl_store_net_health(bcl_store_t *s);

#endif
