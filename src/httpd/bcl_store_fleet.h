/* The httpd side of the network stores (BCLStore memcache / redis): the
 * directive's arguments, the server-wide health counters in shared memory
 * (which also hold the throttle of the guard's "store unavailable" lines)
 * and the per-child connection pools. The stores themselves are in src/core
 * (bcl_store_net.h). */
#ifndef BCL_STORE_FLEET_H
#define BCL_STORE_FLEET_H

#include <httpd.h>
#include <http_config.h>
#include "bcl_store_net.h"

/* BCLStore memcache|redis ...: fills `*out`; returns NULL or the error. */
const char *bcl_store_fleet_parse(cmd_parms *cmd, int argc, char *const argv[], bcl_net_conf_t **out);

/* post_config: the store, with health counters in shared memory kept
 * across graceful restarts. */
apr_status_t bcl_store_fleet_init(server_rec *s, apr_pool_t *pconf, const bcl_net_conf_t *conf,
                                  bcl_store_t **store);

/* child_init: this child's connection pools (one connection per thread at most). */
void bcl_store_fleet_child_init(apr_pool_t *pchild, server_rec *s, bcl_store_t *store);

#endif
