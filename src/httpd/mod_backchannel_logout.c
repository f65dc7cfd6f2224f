/* mod_backchannel_logout: OpenID Connect Back-Channel Logout 1.0 at the
 * reverse proxy. This file wires the parts into httpd; the decisions are
 * made in src/core. */
#define BCL_MODULE_DECLARING_FILE
#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>
#include <http_main.h>
#include <http_core.h>
#include <openssl/opensslv.h>
#include <cjose/version.h>
#include <jansson.h>
#include "bcl_config.h"
#include "bcl_config_check.h"
#include "bcl_frontchannel.h"
#include "bcl_admin.h"
#include "bcl_logtags.h"
#include "bcl_guard.h"
#include "bcl_keys.h"
#include "bcl_maintenance.h"
#include "bcl_metrics.h"
#include "bcl_receiver.h"
#include "bcl_status.h"
#include "bcl_runtime.h"
#include "mod_backchannel_logout.h"

static int bcl_pre_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp)
{
    (void)plog; (void)ptemp;
    if (bcl_runtime_register(pconf) != APR_SUCCESS || bcl_keys_register(pconf) != APR_SUCCESS)
        return HTTP_INTERNAL_SERVER_ERROR;
    return OK;
}

/* Runs for `apache2 -t` and before every start and restart. */
static int bcl_check_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s)
{
    (void)pconf; (void)plog;
    if (bcl_config_check(ptemp, s, ap_conftree) != 0) {
        ap_log_error(APLOG_MARK, APLOG_CRIT | APLOG_STARTUP, 0, s, BCL_TAG_CONFIG_REFUSED ": the configuration "
                     "above is refused: mod_backchannel_logout would not work as configured");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return OK;
}

static int bcl_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s)
{
    bcl_server_conf_t *sc = ap_get_module_config(s->module_config, &backchannel_logout_module);
    (void)plog;

    /* httpd runs post_config once just to check the configuration: no store then */
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG)
        return OK;
    sc->rt = apr_pcalloc(pconf, sizeof(*sc->rt));
    sc->rt->lifetime = sc->lifetime;
    sc->rt->bind_filter = ap_get_output_filter_handle(BCL_BIND_FILTER);
    if (bcl_metrics_init(s, &sc->rt->metrics) != APR_SUCCESS)
        return HTTP_INTERNAL_SERVER_ERROR;
    if (bcl_runtime_store_init(s, pconf, sc->net, sc->capacity, sc->rt) != APR_SUCCESS)
        return HTTP_INTERNAL_SERVER_ERROR;
    if (bcl_keys_post_config(s, pconf, ptemp, &sc->rt->keys) != APR_SUCCESS)
        return HTTP_INTERNAL_SERVER_ERROR;
    if (bcl_runtime_store_journal(s, pconf, ptemp, sc->net, sc->journal_path, sc->rt) != APR_SUCCESS)
        return HTTP_INTERNAL_SERVER_ERROR;
    bcl_maintenance_start(s, pconf);
    ap_log_error(APLOG_MARK, APLOG_INFO, 0, s,
                 BCL_TAG_STARTUP ": mod_backchannel_logout %s initialised (cjose %s, jansson %s, %s)",
                 BCL_VERSION, cjose_version(), JANSSON_VERSION, OPENSSL_VERSION_TEXT);
    return OK;
}

static void bcl_child_init(apr_pool_t *p, server_rec *s)
{
    bcl_server_conf_t *sc = ap_get_module_config(s->module_config, &backchannel_logout_module);
    bcl_runtime_child_init(p, s, sc->rt);
    bcl_keys_child_init(p, s, sc->rt ? sc->rt->keys : NULL);
}

static void bcl_register_hooks(apr_pool_t *p)
{
    /* after mod_env and auth modules have set the environment the guard
     * reads, and after mod_headers' RequestHeader (also a LAST fixup) has
     * edited the Cookie header the backend receives */
    static const char *const after_env[] = { "mod_env.c", "mod_setenvif.c", "mod_rewrite.c", "mod_headers.c", NULL };
    /* the key fetcher's thread (mod_watchdog) must find the mutex re-attached */
    static const char *const before_watchdog[] = { "mod_watchdog.c", NULL };
    (void)p;
    ap_hook_pre_config(bcl_pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_check_config(bcl_check_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(bcl_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(bcl_child_init, NULL, before_watchdog, APR_HOOK_MIDDLE);
    ap_hook_handler(bcl_receiver_handler, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(bcl_frontchannel_handler, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(bcl_admin_handler, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(bcl_status_handler, NULL, NULL, APR_HOOK_MIDDLE);
    bcl_status_register_hooks();
    ap_hook_fixups(bcl_guard_fixup, after_env, NULL, APR_HOOK_LAST);
    ap_hook_insert_filter(bcl_guard_insert_filter, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_insert_error_filter(bcl_guard_insert_error_filter, NULL, NULL, APR_HOOK_MIDDLE);
    ap_register_output_filter(BCL_BIND_FILTER, bcl_guard_bind_filter, NULL, AP_FTYPE_CONTENT_SET);
}

AP_DECLARE_MODULE(backchannel_logout) = {
    STANDARD20_MODULE_STUFF,
    bcl_dir_conf_create,
    bcl_dir_conf_merge,
    bcl_server_conf_create,
    bcl_server_conf_merge,
    bcl_directives,
    bcl_register_hooks,
#if defined(AP_MODULE_FLAG_ALWAYS_MERGE)
    AP_MODULE_FLAG_NONE
#endif
};
