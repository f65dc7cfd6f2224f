/* The one adapter from the core's injected logger (bcl_log.h) to httpd's
 * error log: every piece of glue that hands the core a logger uses it, so
 * a core line looks like any other "BCLnnnn: ..." line of the module. */
#ifndef BCL_LOG_HTTPD_H
#define BCL_LOG_HTTPD_H

#include <httpd.h>
#include "bcl_log.h"

/* A bcl_log_fn whose baton is a server_rec *. */
void bcl_log_to_server(void *baton, bcl_log_level_t level, const char *tag, const char *msg);

/* A logger writing to `s`'s error log. */
bcl_logger_t bcl_server_logger(server_rec *s);

#endif
