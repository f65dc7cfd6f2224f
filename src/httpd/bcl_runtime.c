/* The backend choice and the store-agnostic calls of bcl_runtime.h: the
 * one place outside the backends that knows which backends exist. */
#include <httpd.h>
#include <http_log.h>
#include <apr_atomic.h>
#include <apr_time.h>
#include "bcl_hasher.h"
#include "bcl_runtime.h"
#include "bcl_logtags.h"
#include "bcl_metrics.h"
#include "bcl_store_fleet.h"
#include "bcl_store_shm.h"

apr_status_t bcl_runtime_register(apr_pool_t *pconf)
{
    return bcl_store_shm_register(pconf);
}

const char *bcl_runtime_parse_net_store(cmd_parms *cmd, int argc, char *const argv[],
                                        struct bcl_net_conf_t **out)
{
    return bcl_store_fleet_parse(cmd, argc, argv, out);
}

apr_status_t bcl_runtime_store_init(server_rec *s, apr_pool_t *pconf, const struct bcl_net_conf_t *net,
                                    apr_uint32_t capacity, bcl_runtime_t *rt)
{
    if (net != NULL)
        return bcl_store_fleet_init(s, pconf, net, &rt->store);
    return bcl_store_shm_init(s, pconf, capacity, &rt->store);
}

apr_status_t bcl_runtime_store_journal(server_rec *s, apr_pool_t *pconf, apr_pool_t *ptemp,
                                       const struct bcl_net_conf_t *net, const char *path, bcl_runtime_t *rt)
{
    if (net != NULL)
        return APR_SUCCESS;
    return bcl_store_shm_journal(s, pconf, ptemp, path, &rt->metrics->journal, rt->store);
}

void bcl_runtime_child_init(apr_pool_t *pchild, server_rec *s, bcl_runtime_t *rt)
{
    /* Fetched once per child, through OpenSSL's configuration; freed with
     * the child pool (which goes before the module's code does) */
    if (rt != NULL) {
        rt->hasher = bcl_hasher_create(pchild, NULL);
        if (!bcl_hasher_ok(rt->hasher))
            ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, BCL_TAG_HASH_UNAVAILABLE ": SHA-256 cannot be fetched with this "
                         "OpenSSL configuration: every request with a session cookie is refused with 503");
    }
    bcl_store_shm_child_init(pchild, s);
    if (rt != NULL && rt->store != NULL)
        bcl_store_fleet_child_init(pchild, s, rt->store);
}

void bcl_runtime_maintain(server_rec *s, int sweep)
{
    bcl_store_shm_maintain(s, sweep);
}

int bcl_runtime_make_durable(server_rec *s)
{
    return bcl_store_shm_make_durable(s);
}

void bcl_runtime_report_usage(request_rec *r, bcl_store_t *store)
{
    unsigned crossed = store->ops->usage_crossings(store);
    if (crossed & 1)
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, BCL_TAG_STORE_USAGE ": the revocation store is 80%% full; "
                      "raise BCLStore shm capacity= (or memory=) before it refuses new records");
    if (crossed & 2)
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, BCL_TAG_STORE_USAGE ": the revocation store is full: new "
                      "revocations are refused (503) until records expire or capacity is raised");
}

int bcl_runtime_log_allowed(bcl_store_t *store, apr_uint32_t *suppressed)
{
    *suppressed = 0;
    if (store->ops->log_allowed == NULL)
        return 1;
    return store->ops->log_allowed(store, (apr_uint32_t)apr_time_sec(apr_time_now()), suppressed);
}

const char *bcl_runtime_journal_path(server_rec *s)
{
    return bcl_store_shm_journal_path(s);
}

int bcl_runtime_net_counts(bcl_store_t *store, bcl_runtime_net_counts_t *out)
{
    bcl_net_health_t *h = store != NULL ? bcl_store_net_health(store) : NULL;

    if (h == NULL)
        return 0;
    out->ops = apr_atomic_read32(&h->ops);
    out->failures = apr_atomic_read32(&h->failures);
    out->bad_records = apr_atomic_read32(&h->bad_records);
    out->down = apr_atomic_read32(&h->down);
    return 1;
}
