#include <apr_optional.h>
#include <httpd.h>
#include <http_log.h>
#include <mod_watchdog.h>
#include "bcl_logtags.h"
#include "bcl_maintenance.h"
#include "bcl_runtime.h"
#include "mod_backchannel_logout.h"

#define WATCHDOG_NAME "_bcl_maintenance_"

typedef struct {
    server_rec *s;
    unsigned runs;       /* touched by the watchdog thread only */
} maintenance_t;

static apr_status_t maintenance_run(int state, void *data, apr_pool_t *pool)
{
    maintenance_t *m = data;
    (void)pool;
    if (state != AP_WATCHDOG_STATE_RUNNING)
        return APR_SUCCESS;
    bcl_runtime_maintain(m->s, m->runs % BCL_SWEEP_EVERY == 0);
    m->runs++;
    return APR_SUCCESS;
}

void bcl_maintenance_start(server_rec *s, apr_pool_t *pconf)
{
    APR_OPTIONAL_FN_TYPE(ap_watchdog_get_instance) *get_instance = APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_get_instance);
    APR_OPTIONAL_FN_TYPE(ap_watchdog_register_callback) *register_cb = APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_register_callback);
    ap_watchdog_t *wd = NULL;
    maintenance_t *m;
    apr_status_t rv;

    if (get_instance == NULL || register_cb == NULL) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, BCL_TAG_MAINTENANCE ": mod_watchdog is not loaded: no periodic "
                     "maintenance (expired records are swept when the store is full; the journal is flushed by each "
                     "revocation and compacted at startup only)");
        return;
    }
    /* A singleton child watchdog: one thread in one child process at a
     * time. (Parent watchdogs are refused under the forking MPMs.) */
    rv = get_instance(&wd, WATCHDOG_NAME, 0, 1, pconf);
    if (rv == APR_SUCCESS) {
        m = apr_pcalloc(pconf, sizeof(*m));
        m->s = s;
        rv = register_cb(wd, apr_time_from_sec(BCL_MAINTENANCE_INTERVAL), m, maintenance_run);
    }
    if (rv != APR_SUCCESS)
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, BCL_TAG_MAINTENANCE ": cannot start the periodic maintenance");
    else
        ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s, BCL_TAG_MAINTENANCE ": periodic maintenance every %d s",
                     BCL_MAINTENANCE_INTERVAL);
}
