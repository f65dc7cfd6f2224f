#include <string.h>
#include <apr_shm.h>
#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include "bcl_config.h"
#include "bcl_logtags.h"
#include "bcl_metrics.h"
#include "bcl_runtime.h"
#include "mod_backchannel_logout.h"

#define METRICS_MAGIC 0x42434c4du /* "BCLM" */
#define METRICS_VERSION 2u
#define METRICS_KEY "mod_backchannel_logout:metrics"

/* Kept in the process pool: survives a graceful restart. Plain data only. */
typedef struct {
    apr_shm_t *shm;
} metrics_state_t;

apr_status_t bcl_metrics_init(server_rec *s, bcl_metrics_t **out)
{
    apr_pool_t *keep = s->process->pool;
    metrics_state_t *st = NULL;
    bcl_metrics_t *m;
    apr_status_t rv;

    apr_pool_userdata_get((void **)&st, METRICS_KEY, keep);
    if (st == NULL) {
        st = apr_pcalloc(keep, sizeof(*st));
        rv = apr_shm_create(&st->shm, sizeof(bcl_metrics_t), NULL, keep);
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, BCL_TAG_STATUS ": cannot create %" APR_SIZE_T_FMT
                         " bytes of shared memory for the counters", sizeof(bcl_metrics_t));
            return rv;
        }
        m = apr_shm_baseaddr_get(st->shm);
        memset(m, 0, sizeof(*m));
        m->magic = METRICS_MAGIC;
        m->version = METRICS_VERSION;
        m->since = apr_time_sec(apr_time_now());
        apr_pool_userdata_set(st, METRICS_KEY, apr_pool_cleanup_null, keep);
    }
    m = apr_shm_baseaddr_get(st->shm);
    if (m->magic != METRICS_MAGIC || m->version != METRICS_VERSION) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, BCL_TAG_STATUS ": the counters kept from the last generation "
                     "are damaged");
        return APR_EGENERAL;
    }
    *out = m;
    return APR_SUCCESS;
}

bcl_metrics_t *bcl_metrics_of(server_rec *s)
{
    bcl_server_conf_t *sc = ap_get_module_config(s->module_config, &backchannel_logout_module);
    return sc != NULL && sc->rt != NULL ? sc->rt->metrics : NULL;
}

void bcl_metrics_key_fetch(server_rec *s, int ok)
{
    bcl_metrics_t *m = bcl_metrics_of(s);
    if (m == NULL)
        return;
    if (ok)
        BCL_METRIC_ADD(m->key_fetches_ok, 1);
    else
        BCL_METRIC_ADD(m->key_fetches_failed, 1);
}

void bcl_metrics_token_refused(server_rec *s, bcl_reason_t reason)
{
    bcl_metrics_t *m = bcl_metrics_of(s);
    if (m != NULL && (int)reason >= 0 && reason < BCL_R_COUNT)
        BCL_METRIC_ADD(m->tokens_refused[reason], 1);
}
