#include <httpd.h>
#include <http_log.h>
#include "bcl_log_httpd.h"
#include "mod_backchannel_logout.h"   /* APLOG_USE_MODULE: the module's LogLevel applies */

void bcl_log_to_server(void *baton, bcl_log_level_t level, const char *tag, const char *msg)
{
    static const int levels[] = { APLOG_ERR, APLOG_WARNING, APLOG_INFO, APLOG_DEBUG };
    int l = (int)level >= 0 && (int)level < (int)(sizeof(levels) / sizeof(levels[0])) ? levels[level] : APLOG_ERR;
    ap_log_error(APLOG_MARK, l, 0, (server_rec *)baton, "%s: %s", tag, msg);
}

bcl_logger_t bcl_server_logger(server_rec *s)
{
    bcl_logger_t logger = { bcl_log_to_server, s };
    return logger;
}
