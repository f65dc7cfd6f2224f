/* Connections to one network store server (a memcached or a redis), kept
 * in a per-process pool (apr_reslist: thread-safe, reused across requests,
 * idle ones closed after a while). Every network wait (connect, send,
 * receive, waiting for a free connection) is bounded by the server's
 * timeout: a slow or dead server costs a request at most that long per wait. */
#ifndef BCL_NETCONN_H
#define BCL_NETCONN_H

#include <apr_network_io.h>
#include <apr_pools.h>
#include <apr_reslist.h>

typedef struct bcl_netconn_t bcl_netconn_t;

/* Setup failures (see bcl_netconn_setup_fn). */
#define BCL_NETCONN_EAUTH   (APR_OS_START_USERERR + 601)
#define BCL_NETCONN_ESELECT (APR_OS_START_USERERR + 602)
typedef struct bcl_netsrv_t bcl_netsrv_t;

/* Runs on each new connection before first use (redis: AUTH, SELECT).
 * Returns APR_SUCCESS, BCL_NETCONN_EAUTH (credentials refused), BCL_NETCONN_ESELECT
 * (database refused) or an I/O error; `*why` is a static string. */
typedef apr_status_t bcl_netconn_setup_fn(bcl_netconn_t *c, void *baton, const char **why);

#define BCL_NETCONN_BUFSIZE 8192

struct bcl_netconn_t {
    bcl_netsrv_t *srv;
    apr_pool_t *p;            /* this connection's own pool */
    apr_socket_t *sock;
    char buf[BCL_NETCONN_BUFSIZE];  /* bytes received and not consumed: buf[0..len) */
    apr_size_t len;
    unsigned uses;            /* > 1: the connection was idle in the pool before this use */
    int broken;               /* closed and not reused when released */
};

/* A server; no connection is made until first use. */
bcl_netsrv_t *bcl_netsrv_create(apr_pool_t *p, const char *host, apr_port_t port,
                                apr_interval_time_t timeout, bcl_netconn_setup_fn *setup, void *baton);
const char *bcl_netsrv_name(const bcl_netsrv_t *s);   /* "host:port" */

/* In each child process: the pool of at most `max` connections. */
apr_status_t bcl_netsrv_child_init(bcl_netsrv_t *s, apr_pool_t *pchild, int max);

/* A connection, reused or new. On failure `*why` (a static string) names
 * the cause; the status says more (apr_strerror). */
apr_status_t bcl_netconn_acquire(bcl_netsrv_t *s, bcl_netconn_t **c, const char **why);

/* Gives the connection back; a broken one (or one with unread bytes) is closed. */
void bcl_netconn_release(bcl_netconn_t *c);

apr_status_t bcl_netconn_send(bcl_netconn_t *c, const char *data, apr_size_t len);

/* Reads what the server sent next, appending to buf. APR_EOF when the
 * server closed the connection, APR_ENOSPC when the buffer is full. */
apr_status_t bcl_netconn_recv(bcl_netconn_t *c);

/* Drops the first n bytes of buf (a parsed answer). */
void bcl_netconn_consume(bcl_netconn_t *c, apr_size_t n);

#endif
