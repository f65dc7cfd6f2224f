#include <errno.h>
#include <apr_strings.h>
#include "bcl_conf_number.h"

const char *bcl_conf_parse_number(cmd_parms *cmd, const char *directive, const char *arg,
                                  apr_int64_t min, apr_int64_t max, apr_int64_t *out)
{
    char *end;
    apr_int64_t v;

    errno = 0;
    v = apr_strtoi64(arg, &end, 10);
    if (errno != 0 || end == arg || *end != '\0' || v < min || v > max)
        return apr_psprintf(cmd->pool, "%s: \"%s\" is not a whole number from %" APR_INT64_T_FMT
                            " to %" APR_INT64_T_FMT, directive, arg, min, max);
    *out = v;
    return NULL;
}
