#include <string.h>
#include <apr_strings.h>
#include "bcl_netconn.h"

struct bcl_netsrv_t {
    const char *host;
    apr_port_t port;
    const char *name;
    apr_interval_time_t timeout;
    bcl_netconn_setup_fn *setup;
    void *baton;
    apr_reslist_t *conns;     /* NULL until bcl_netsrv_child_init */
    apr_pool_t *pool;
};

bcl_netsrv_t *bcl_netsrv_create(apr_pool_t *p, const char *host, apr_port_t port,
                                apr_interval_time_t timeout, bcl_netconn_setup_fn *setup, void *baton)
{
    bcl_netsrv_t *s = apr_pcalloc(p, sizeof(*s));
    s->host = apr_pstrdup(p, host);
    s->port = port;
    s->name = strchr(host, ':') ? apr_psprintf(p, "[%s]:%u", host, (unsigned)port)
                                : apr_psprintf(p, "%s:%u", host, (unsigned)port);
    s->timeout = timeout;
    s->setup = setup;
    s->baton = baton;
    return s;
}

const char *bcl_netsrv_name(const bcl_netsrv_t *s)
{
    return s->name;
}

static apr_status_t conn_open(bcl_netsrv_t *s, bcl_netconn_t **out, const char **why)
{
    apr_pool_t *p;
    apr_sockaddr_t *sa;
    bcl_netconn_t *c;
    apr_status_t rv;

    /* an unmanaged pool: connections are made by any thread of the child,
     * and a pool of their own needs no lock on a shared parent */
    if ((rv = apr_pool_create_unmanaged_ex(&p, NULL, NULL)) != APR_SUCCESS) {
        *why = "out of memory";
        return rv;
    }
    c = apr_pcalloc(p, sizeof(*c));
    c->p = p;
    c->srv = s;
    if ((rv = apr_sockaddr_info_get(&sa, s->host, APR_UNSPEC, s->port, 0, p)) != APR_SUCCESS) {
        *why = "cannot resolve the host";
        goto fail;
    }
    if ((rv = apr_socket_create(&c->sock, sa->family, SOCK_STREAM, APR_PROTO_TCP, p)) != APR_SUCCESS) {
        *why = "cannot create a socket";
        goto fail;
    }
    apr_socket_timeout_set(c->sock, s->timeout);
    apr_socket_opt_set(c->sock, APR_TCP_NODELAY, 1);
    if ((rv = apr_socket_connect(c->sock, sa)) != APR_SUCCESS) {
        *why = APR_STATUS_IS_TIMEUP(rv) ? "connect timed out" : "cannot connect";
        goto fail;
    }
    if (s->setup != NULL && (rv = s->setup(c, s->baton, why)) != APR_SUCCESS)
        goto fail;
    c->len = 0;
    *out = c;
    return APR_SUCCESS;
fail:
    apr_pool_destroy(p);
    return rv;
}

static apr_status_t conn_construct(void **res, void *params, apr_pool_t *pool)
{
    bcl_netsrv_t *s = params;
    const char *why = NULL;
    bcl_netconn_t *c;
    apr_status_t rv;
    (void)pool;
    rv = conn_open(s, &c, &why);
    if (rv == APR_SUCCESS)
        *res = c;
    return rv;
}

static apr_status_t conn_destruct(void *res, void *params, apr_pool_t *pool)
{
    bcl_netconn_t *c = res;
    (void)params; (void)pool;
    apr_socket_close(c->sock);
    apr_pool_destroy(c->p);
    return APR_SUCCESS;
}

apr_status_t bcl_netsrv_child_init(bcl_netsrv_t *s, apr_pool_t *pchild, int max)
{
    apr_status_t rv;
    if (max < 1)
        max = 1;
    s->pool = pchild;
    /* idle connections live 60 s; a request waits at most `timeout` for one */
    rv = apr_reslist_create(&s->conns, 0, max, max, apr_time_from_sec(60), conn_construct, conn_destruct, s, pchild);
    if (rv == APR_SUCCESS)
        apr_reslist_timeout_set(s->conns, s->timeout);
    return rv;
}

apr_status_t bcl_netconn_acquire(bcl_netsrv_t *s, bcl_netconn_t **c, const char **why)
{
    void *res = NULL;
    apr_status_t rv;

    if (s->conns == NULL) {
        *why = "no connection pool in this process";
        return APR_EINIT;
    }
    rv = apr_reslist_acquire(s->conns, &res);
    if (rv != APR_SUCCESS) {
        /* the constructor's reason does not pass through the reslist: its
         * status does (see bcl_netconn_setup_fn for the setup's codes) */
        if (APR_STATUS_IS_TIMEUP(rv))
            *why = "timed out (connecting, or waiting for a free connection)";
        else if (rv == BCL_NETCONN_EAUTH)
            *why = "the server refused the credentials (AUTH)";
        else if (rv == BCL_NETCONN_ESELECT)
            *why = "the server refused the database number (SELECT)";
        else
            *why = "cannot connect";
        return rv;
    }
    *c = res;
    (*c)->uses++;
    (*c)->broken = 0;
    return APR_SUCCESS;
}

void bcl_netconn_release(bcl_netconn_t *c)
{
    if (c->broken || c->len != 0)
        apr_reslist_invalidate(c->srv->conns, c);
    else
        apr_reslist_release(c->srv->conns, c);
}

apr_status_t bcl_netconn_send(bcl_netconn_t *c, const char *data, apr_size_t len)
{
    while (len > 0) {
        apr_size_t n = len;
        apr_status_t rv = apr_socket_send(c->sock, data, &n);
        if (rv != APR_SUCCESS) {
            c->broken = 1;
            return rv;
        }
        data += n;
        len -= n;
    }
    return APR_SUCCESS;
}

apr_status_t bcl_netconn_recv(bcl_netconn_t *c)
{
    apr_size_t n = sizeof(c->buf) - c->len;
    apr_status_t rv;

    if (n == 0) {
        c->broken = 1;
        return APR_ENOSPC;
    }
    rv = apr_socket_recv(c->sock, c->buf + c->len, &n);
    if (rv == APR_SUCCESS && n == 0)
        rv = APR_EOF;
    if (APR_STATUS_IS_EOF(rv) && n > 0)
        rv = APR_SUCCESS;
    if (rv != APR_SUCCESS) {
        c->broken = 1;
        return rv;
    }
    c->len += n;
    return APR_SUCCESS;
}

void bcl_netconn_consume(bcl_netconn_t *c, apr_size_t n)
{
    if (n >= c->len) {
        c->len = 0;
        return;
    }
    memmove(c->buf, c->buf + n, c->len - n);
    c->len -= n;
}
