/* The administrative revocation endpoint: SetHandler
 * backchannel-logout-admin, and its directive BCLAdminTokenFile. */
#ifndef BCL_ADMIN_H
#define BCL_ADMIN_H

#include <httpd.h>
#include <http_config.h>

#define BCL_ADMIN_HANDLER "backchannel-logout-admin"

int bcl_admin_handler(request_rec *r);

/* BCLAdminTokenFile PATH: read while the configuration is read. */
const char *bcl_admin_set_token_file(cmd_parms *cmd, void *conf, const char *arg);

#endif
