/* The number parser every directive setter shares (bcl_config.c,
 * bcl_keys_conf.c), in its own file so that neither setter file reaches
 * into the other. */
#ifndef BCL_CONF_NUMBER_H
#define BCL_CONF_NUMBER_H

#include <httpd.h>
#include <http_config.h>

/* Parses a whole decimal number within [min, max] for `directive`; returns
 * NULL or the error message httpd shows. */
const char *bcl_conf_parse_number(cmd_parms *cmd, const char *directive, const char *arg,
                                  apr_int64_t min, apr_int64_t max, apr_int64_t *out);

#endif
