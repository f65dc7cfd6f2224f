/* mod_backchannel_logout: OpenID Connect Back-Channel Logout 1.0 at the
 * reverse proxy. This file wires the parts into httpd; the decisions are
 * made in src/core. */
#define BCL_MODULE_DECLARING_FILE
#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <http_protocol.h>
#include <openssl/opensslv.h>
#include <cjose/version.h>
#include <jansson.h>
#include "bcl_config.h"
#include "bcl_logtags.h"
#include "bcl_receiver.h"
#include "mod_backchannel_logout.h"

static int bcl_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s)
{
    (void)pconf; (void)plog; (void)ptemp;
    ap_log_error(APLOG_MARK, APLOG_INFO, 0, s,
                 BCL_TAG_STARTUP ": mod_backchannel_logout %s initialised (cjose %s, jansson %s, %s)",
                 BCL_VERSION, cjose_version(), JANSSON_VERSION, OPENSSL_VERSION_TEXT);
    return OK;
}

static void bcl_register_hooks(apr_pool_t *p)
{
    (void)p;
    ap_hook_post_config(bcl_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(bcl_receiver_handler, NULL, NULL, APR_HOOK_MIDDLE);
}

AP_DECLARE_MODULE(backchannel_logout) = {
    STANDARD20_MODULE_STUFF,
    bcl_dir_conf_create,
    bcl_dir_conf_merge,
    NULL,
    NULL,
    bcl_directives,
    bcl_register_hooks,
#if defined(AP_MODULE_FLAG_ALWAYS_MERGE)
    AP_MODULE_FLAG_NONE
#endif
};
