/* `SetHandler backchannel-logout-status`: the module's counters and the
 * store's usage as Prometheus text (default) or JSON (?format=json), and a
 * few lines in mod_status's page when mod_status is loaded. */
#ifndef BCL_STATUS_H
#define BCL_STATUS_H

#include <httpd.h>

#define BCL_STATUS_HANDLER "backchannel-logout-status"

int bcl_status_handler(request_rec *r);

/* register_hooks: the mod_status hook (optional: a no-op without mod_status). */
void bcl_status_register_hooks(void);

#endif
