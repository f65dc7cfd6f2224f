/* Periodic maintenance off the request path: a mod_watchdog singleton
 * callback (one thread in one child process at a time) flushes the
 * journal, sweeps expired records and compacts the journal. */
#ifndef BCL_MAINTENANCE_H
#define BCL_MAINTENANCE_H

#include <httpd.h>

/* Seconds between two runs; expired records are swept every
 * BCL_SWEEP_EVERY runs. */
#define BCL_MAINTENANCE_INTERVAL 5
#define BCL_SWEEP_EVERY 12

/* post_config (before mod_watchdog's own, which runs last): registers the
 * callback. Without mod_watchdog, logs that maintenance only happens at
 * startup and when the store is full, and carries on. */
void bcl_maintenance_start(server_rec *s, apr_pool_t *pconf);

#endif
