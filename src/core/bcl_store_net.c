/* What the memcache and redis stores share: server lists, connection
 * pools, one request/answer exchange with a retry on a stale connection,
 * and failure counting with a log throttle. */
#include <stdlib.h>
#include <string.h>
#include <apr_atomic.h>
#include <apr_strings.h>
#include <apr_time.h>
#include "bcl_logtags.h"
#include "bcl_store_net_impl.h"

#define BCL_NET_MAX_STALE_RETRIES 64

const char *bcl_net_parse_servers(apr_pool_t *p, const char *spec, int max, apr_array_header_t **out)
{
    char *copy = apr_pstrdup(p, spec), *last = NULL;
    apr_array_header_t *arr = apr_array_make(p, 2, sizeof(bcl_net_server_t));

    for (char *item = apr_strtok(copy, ",", &last); item != NULL; item = apr_strtok(NULL, ",", &last)) {
        char *host = NULL, *scope = NULL;
        apr_port_t port = 0;
        if (apr_parse_addr_port(&host, &scope, &port, item, p) != APR_SUCCESS || host == NULL
            || scope != NULL || port == 0)
            return apr_psprintf(p, "\"%s\" is not HOST:PORT", item);
        if (arr->nelts >= max)
            return apr_psprintf(p, "more than %d servers", max);
        bcl_net_server_t *s = apr_array_push(arr);
        s->host = host;
        s->port = port;
    }
    if (arr->nelts == 0 || spec[0] == ',' || spec[strlen(spec) - 1] == ',' || strstr(spec, ",,") != NULL)
        return apr_psprintf(p, "\"%s\" is not a list of HOST:PORT separated by commas", spec);
    *out = arr;
    return NULL;
}

int bcl_net_throttle(volatile apr_uint32_t *next, apr_uint32_t now, apr_uint32_t interval)
{
    apr_uint32_t seen = apr_atomic_read32(next);
    if (now < seen)
        return 0;
    return apr_atomic_cas32(next, now + interval, seen) == seen;
}

static apr_uint32_t now_sec(void)
{
    return (apr_uint32_t)apr_time_sec(apr_time_now());
}

void bcl_net_failed(bcl_net_store_t *ns, bcl_netsrv_t *srv, const char *what, const char *why, apr_status_t rv)
{
    bcl_net_health_t *h = ns->health;
    char err[120] = "";

    apr_atomic_inc32(&h->failures);
    apr_atomic_set32(&h->down, 1);
    if (!bcl_net_throttle(&h->log_next, now_sec(), BCL_NET_LOG_INTERVAL)) {
        apr_atomic_inc32(&h->suppressed);
        return;
    }
    /* the module's own codes (BCL_NETCONN_E*) are explained by `why` */
    if (rv != APR_SUCCESS && (rv < APR_OS_START_USERERR || rv >= APR_OS_START_USERERR + 1000))
        apr_strerror(rv, err, sizeof(err));
    bcl_log(ns->logger, BCL_LOG_ERROR, BCL_TAG_NET_FAILED,
            "%s store %s unavailable: %s failed: %s%s%s (%u more failure(s) since the last report; "
            "the next is reported after %d s)",
            ns->kind_name, bcl_netsrv_name(srv), what, why, err[0] ? ": " : "", err,
            apr_atomic_xchg32(&h->suppressed, 0), BCL_NET_LOG_INTERVAL);
}

void bcl_net_succeeded(bcl_net_store_t *ns)
{
    if (apr_atomic_read32(&ns->health->down) && apr_atomic_cas32(&ns->health->down, 0, 1) == 1) {
        /* the next failure is reported at once */
        apr_atomic_set32(&ns->health->log_next, 0);
        bcl_log(ns->logger, BCL_LOG_WARNING, BCL_TAG_NET_RECOVERED, "%s store reachable again (%u failure(s) not reported)",
                ns->kind_name, apr_atomic_xchg32(&ns->health->suppressed, 0));
    }
}

void bcl_net_bad_record(bcl_net_store_t *ns, bcl_netsrv_t *srv, const char *key)
{
    apr_atomic_inc32(&ns->health->bad_records);
    bcl_log(ns->logger, BCL_LOG_WARNING, BCL_TAG_NET_BAD_RECORD, "%s store %s: the value of %s is not a record of this module "
            "(another application writing under the same prefix=?); treated as absent",
            ns->kind_name, bcl_netsrv_name(srv), key);
}

int bcl_net_exchange(bcl_net_store_t *ns, bcl_netsrv_t *srv, const char *what,
                     const char *req, apr_size_t len, bcl_net_parse_fn *parse, void *baton)
{
    const char *why = NULL;
    apr_status_t rv = APR_SUCCESS;

    apr_atomic_inc32(&ns->health->ops);
    /* after a server restart every idle connection in the pool is stale and
     * fails at once: go on until a new connection has been tried */
    for (int attempt = 0; attempt < BCL_NET_MAX_STALE_RETRIES; attempt++) {
        bcl_netconn_t *c;
        int reused, st;

        why = NULL;
        if ((rv = bcl_netconn_acquire(srv, &c, &why)) != APR_SUCCESS)
            break;
        reused = c->uses > 1;
        if ((rv = bcl_netconn_send(c, req, len)) != APR_SUCCESS) {
            why = "sending";
        } else {
            while ((st = parse(c, baton, &why)) == BCL_NET_MORE) {
                if ((rv = bcl_netconn_recv(c)) != APR_SUCCESS)
                    break;
            }
            if (rv == APR_SUCCESS && st == BCL_NET_DONE) {
                bcl_netconn_release(c);
                bcl_net_succeeded(ns);
                return 0;
            }
            if (rv != APR_SUCCESS) {
                why = APR_STATUS_IS_TIMEUP(rv) ? "waiting for the answer timed out"
                    : APR_STATUS_IS_EOF(rv) ? "the server closed the connection" : "reading the answer";
            } else if (st == BCL_NET_BAD && why == NULL) {
                why = "the answer is not in the protocol";
            }
            /* REFUSED: `why` was set by the parser; the connection is fine */
            if (st == BCL_NET_REFUSED && rv == APR_SUCCESS) {
                bcl_netconn_release(c);
                break;
            }
        }
        c->broken = 1;
        bcl_netconn_release(c);
        /* a timeout is not a stale connection: do not wait twice */
        if (!reused || APR_STATUS_IS_TIMEUP(rv))
            break;
    }
    bcl_net_failed(ns, srv, what, why ? why : "unknown error", rv);
    return -1;
}

static apr_status_t child_init_all(bcl_net_store_t *ns, apr_pool_t *pchild, int max_conns)
{
    for (int i = 0; i < ns->nsrv; i++) {
        apr_status_t rv = bcl_netsrv_child_init(ns->srv[i], pchild, max_conns);
        if (rv != APR_SUCCESS)
            return rv;
    }
    return APR_SUCCESS;
}

/* The stores' ops tables are told apart by name; the context of both is a
 * bcl_net_store_t. */
static int is_net_store(const bcl_store_t *s)
{
    return s != NULL && s->ops != NULL
        && (strcmp(s->ops->name, "memcache") == 0 || strcmp(s->ops->name, "redis") == 0);
}

apr_status_t bcl_store_net_child_init(bcl_store_t *s, apr_pool_t *pchild, int max_conns)
{
    return is_net_store(s) ? child_init_all(s->ctx, pchild, max_conns) : APR_SUCCESS;
}

bcl_net_health_t *bcl_store_net_health(bcl_store_t *s)
{
    return is_net_store(s) ? ((bcl_net_store_t *)s->ctx)->health : NULL;
}

bcl_net_store_t *bcl_net_store_new(apr_pool_t *p, const bcl_net_conf_t *conf, bcl_net_health_t *health,
                                   const bcl_logger_t *logger)
{
    bcl_net_store_t *ns = apr_pcalloc(p, sizeof(*ns));
    ns->conf = conf;
    ns->health = health;
    ns->logger = logger;
    ns->nsrv = conf->servers->nelts;
    ns->srv = apr_pcalloc(p, sizeof(*ns->srv) * (apr_size_t)ns->nsrv);
    return ns;
}

void bcl_store_net_set_race(bcl_store_t *s, bcl_store_race_fn *fn, void *arg)
{
    bcl_net_store_t *ns = s->ctx;
    ns->race = fn;
    ns->race_arg = arg;
}

bcl_store_status_t bcl_store_net_stats(bcl_store_t *s, int64_t now, bcl_table_stats_t *out)
{
    (void)s; (void)now;
    memset(out, 0, sizeof(*out));
    return BCL_STORE_OK;
}

unsigned bcl_store_net_usage_crossings(bcl_store_t *s)
{
    (void)s;
    return 0;
}

int bcl_store_net_log_allowed(bcl_store_t *s, apr_uint32_t now, apr_uint32_t *suppressed)
{
    bcl_net_health_t *h = bcl_store_net_health(s);

    *suppressed = 0;
    if (h == NULL)
        return 1;
    if (!bcl_net_throttle(&h->guard_log_next, now, BCL_NET_LOG_INTERVAL)) {
        apr_atomic_inc32(&h->guard_suppressed);
        return 0;
    }
    *suppressed = apr_atomic_xchg32(&h->guard_suppressed, 0);
    return 1;
}
