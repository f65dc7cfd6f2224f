/* Shared declarations of the module's httpd glue. */
#ifndef MOD_BACKCHANNEL_LOGOUT_H
#define MOD_BACKCHANNEL_LOGOUT_H

#include <httpd.h>
#include <http_config.h>
#include <http_log.h>

extern module AP_MODULE_DECLARE_DATA backchannel_logout_module;

/* The file that declares the module gets this from AP_DECLARE_MODULE. */
#if defined(APLOG_USE_MODULE) && !defined(BCL_MODULE_DECLARING_FILE)
APLOG_USE_MODULE(backchannel_logout);
#endif

#define BCL_RECEIVER_HANDLER "backchannel-logout"

#endif
