/* Startup checks on how the directives combine: a receiver location with no
 * issuer, client ID or key; a guard with no binding; settings that would
 * refuse every token. Run from httpd's check_config hook (`apache2 -t` and
 * every start and restart), on the configuration tree, so each message
 * names the file and line. */
#ifndef BCL_CONFIG_CHECK_H
#define BCL_CONFIG_CHECK_H

#include <httpd.h>
#include <http_config.h>

/* Logs each problem (BCL0192, with file:line) and returns how many. */
int bcl_config_check(apr_pool_t *ptemp, server_rec *s, const ap_directive_t *tree);

#endif
