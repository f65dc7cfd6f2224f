#include <stdarg.h>
#include <stdio.h>
#include "bcl_log.h"

void bcl_log(const bcl_logger_t *logger, bcl_log_level_t level, const char *tag,
             const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    if (logger == NULL || logger->fn == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    logger->fn(logger->baton, level, tag, msg);
}
