/* Shared by the memcache and redis stores (not a public interface). */
#ifndef BCL_STORE_NET_IMPL_H
#define BCL_STORE_NET_IMPL_H

#include "bcl_netconn.h"
#include "bcl_netrec.h"
#include "bcl_store_net.h"

typedef struct {
    const bcl_net_conf_t *conf;
    bcl_net_health_t *health;
    const bcl_logger_t *logger;
    int nsrv;
    bcl_netsrv_t **srv;
    const char *kind_name;            /* "memcache", "redis" */
    void *impl;                       /* the backend's own data */
    bcl_store_race_fn *race;          /* tests only: runs between a logout's read and its write */
    void *race_arg;
} bcl_net_store_t;

/* Parses an answer at the start of c->buf. Returns BCL_NET_DONE (after
 * bcl_netconn_consume), BCL_NET_MORE (read more), BCL_NET_BAD (not an
 * answer we understand) or BCL_NET_REFUSED (the server answered an error:
 * `*why` set to a static description). */
enum { BCL_NET_DONE = 0, BCL_NET_MORE, BCL_NET_BAD, BCL_NET_REFUSED };
typedef int bcl_net_parse_fn(bcl_netconn_t *c, void *baton, const char **why);

/* One request and its answer on a connection to `srv`. A connection that
 * was idle in the pool may have been closed by the server (a restart):
 * when sending or reading fails on one (not by a timeout), the exchange is
 * retried on the next connection, until one made for this exchange has
 * been tried. Returns 0, or -1 after logging the failure (throttled). */
int bcl_net_exchange(bcl_net_store_t *ns, bcl_netsrv_t *srv, const char *what,
                     const char *req, apr_size_t len, bcl_net_parse_fn *parse, void *baton);

/* Counting and throttled logging. */
void bcl_net_failed(bcl_net_store_t *ns, bcl_netsrv_t *srv, const char *what, const char *why, apr_status_t rv);
void bcl_net_succeeded(bcl_net_store_t *ns);
void bcl_net_bad_record(bcl_net_store_t *ns, bcl_netsrv_t *srv, const char *key);

/* Backends. */
/* The records are in memcached / redis: there is no table, capacity or usage
 * to report here (the server's own statistics say how full it is); the
 * status handler reads bcl_store_net_health() instead. */
bcl_store_status_t bcl_store_net_stats(bcl_store_t *s, int64_t now, bcl_table_stats_t *out);
unsigned bcl_store_net_usage_crossings(bcl_store_t *s);
/* The guard's "store unavailable" lines: at most one per
 * BCL_NET_LOG_INTERVAL seconds server-wide (bcl_net_health_t). */
int bcl_store_net_log_allowed(bcl_store_t *s, apr_uint32_t now, apr_uint32_t *suppressed);

/* What both backends' create functions start from: the shared part, with
 * room for the connection pools of every configured server. */
bcl_net_store_t *bcl_net_store_new(apr_pool_t *p, const bcl_net_conf_t *conf, bcl_net_health_t *health,
                                   const bcl_logger_t *logger);

#endif
