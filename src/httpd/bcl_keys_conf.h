/* Configuration of keys fetched from the OP: BCLJWKSURI,
 * BCLProviderMetadataURL and the settings of their fetches. Embedded in the
 * per-directory configuration (bcl_dir_conf_t.fetch). */
#ifndef BCL_KEYS_CONF_H
#define BCL_KEYS_CONF_H

#include <httpd.h>
#include <http_config.h>

typedef enum { BCL_KEYSRC_NONE = 0, BCL_KEYSRC_JWKS, BCL_KEYSRC_METADATA } bcl_keysrc_kind_t;

typedef struct {
    bcl_keysrc_kind_t kind;     /* which of the two directives set `url` */
    const char *url;
    const char *ca_file;        /* BCLCAFile */
    const char *proxy;          /* BCLHTTPProxy: NULL unset, "" none, else a URL */
    /* BCL_UNSET (-1) = inherit / default */
    apr_int64_t timeout;        /* BCLHTTPTimeout, seconds */
    apr_int64_t connect_timeout;/* BCLHTTPConnectTimeout, seconds */
    apr_int64_t max_size;       /* BCLHTTPMaxSize, bytes */
    apr_int64_t refresh;        /* BCLKeyRefreshInterval, seconds */
    apr_int64_t min_refresh;    /* BCLKeyMinRefreshInterval, seconds */
    apr_int64_t refetch;        /* BCLKeyRefetchInterval, seconds */
} bcl_fetch_conf_t;

#define BCL_DEFAULT_HTTP_TIMEOUT 5
#define BCL_DEFAULT_HTTP_CONNECT_TIMEOUT 3
#define BCL_DEFAULT_HTTP_MAX_SIZE (256 * 1024)
#define BCL_DEFAULT_KEY_REFRESH 3600
#define BCL_DEFAULT_KEY_MIN_REFRESH 60
#define BCL_DEFAULT_KEY_REFETCH 30

void bcl_fetch_conf_init(bcl_fetch_conf_t *c);
void bcl_fetch_conf_merge(bcl_fetch_conf_t *m, const bcl_fetch_conf_t *base, const bcl_fetch_conf_t *add);
/* `c` with every unset value replaced by its default. */
void bcl_fetch_conf_resolve(bcl_fetch_conf_t *out, const bcl_fetch_conf_t *c);

/* Every BCLJWKSURI / BCLProviderMetadataURL read in this configuration,
 * in order: where it was written, so that post_config can give each URL its
 * settings and one shared cache entry. Kept as userdata of pconf. */
typedef struct {
    bcl_keysrc_kind_t kind;
    const char *url;
    void *dir_conf;             /* the bcl_dir_conf_t of the section it was written in */
    server_rec *server;         /* the server or virtual host of that section */
    const char *where;          /* "file:line" for messages */
} bcl_keysrc_decl_t;

const apr_array_header_t *bcl_keysrc_declarations(apr_pool_t *pconf);

#define BCL_KEYS_DIRECTIVES_CONTEXT (RSRC_CONF | ACCESS_CONF)

const char *bcl_set_jwks_uri(cmd_parms *cmd, void *conf, const char *arg);
const char *bcl_set_metadata_url(cmd_parms *cmd, void *conf, const char *arg);
const char *bcl_set_ca_file(cmd_parms *cmd, void *conf, const char *arg);
const char *bcl_set_http_timeout(cmd_parms *cmd, void *conf, const char *arg);
const char *bcl_set_http_connect_timeout(cmd_parms *cmd, void *conf, const char *arg);
const char *bcl_set_http_max_size(cmd_parms *cmd, void *conf, const char *arg);
const char *bcl_set_http_proxy(cmd_parms *cmd, void *conf, const char *arg);
const char *bcl_set_key_refresh(cmd_parms *cmd, void *conf, const char *arg);
const char *bcl_set_key_min_refresh(cmd_parms *cmd, void *conf, const char *arg);
const char *bcl_set_key_refetch(cmd_parms *cmd, void *conf, const char *arg);

/* The command_rec entries, spliced into bcl_directives[]. */
#define BCL_KEYS_DIRECTIVES \
    AP_INIT_TAKE1("BCLJWKSURI", bcl_set_jwks_uri, NULL, BCL_KEYS_DIRECTIVES_CONTEXT, \
                  "URL of the OP's JWKS: keys fetched, cached, refreshed and shared by all children"), \
    AP_INIT_TAKE1("BCLProviderMetadataURL", bcl_set_metadata_url, NULL, BCL_KEYS_DIRECTIVES_CONTEXT, \
                  "URL of the OP's discovery document: supplies the issuer and the jwks_uri"), \
    AP_INIT_TAKE1("BCLCAFile", bcl_set_ca_file, NULL, BCL_KEYS_DIRECTIVES_CONTEXT, \
                  "CA bundle (PEM) for fetching keys and metadata; TLS is always verified"), \
    AP_INIT_TAKE1("BCLHTTPTimeout", bcl_set_http_timeout, NULL, BCL_KEYS_DIRECTIVES_CONTEXT, \
                  "seconds allowed for one key or metadata fetch (default 5)"), \
    AP_INIT_TAKE1("BCLHTTPConnectTimeout", bcl_set_http_connect_timeout, NULL, BCL_KEYS_DIRECTIVES_CONTEXT, \
                  "seconds allowed to connect to the OP (default 3)"), \
    AP_INIT_TAKE1("BCLHTTPMaxSize", bcl_set_http_max_size, NULL, BCL_KEYS_DIRECTIVES_CONTEXT, \
                  "largest key or metadata document accepted, in bytes (default 262144)"), \
    AP_INIT_TAKE1("BCLHTTPProxy", bcl_set_http_proxy, NULL, BCL_KEYS_DIRECTIVES_CONTEXT, \
                  "proxy URL for key fetches, or 'none' (default: the https_proxy/no_proxy environment)"), \
    AP_INIT_TAKE1("BCLKeyRefreshInterval", bcl_set_key_refresh, NULL, BCL_KEYS_DIRECTIVES_CONTEXT, \
                  "seconds fetched keys are used before a refetch, at most (default 3600)"), \
    AP_INIT_TAKE1("BCLKeyMinRefreshInterval", bcl_set_key_min_refresh, NULL, BCL_KEYS_DIRECTIVES_CONTEXT, \
                  "seconds fetched keys are used at least, whatever the OP's Cache-Control (default 60)"), \
    AP_INIT_TAKE1("BCLKeyRefetchInterval", bcl_set_key_refetch, NULL, BCL_KEYS_DIRECTIVES_CONTEXT, \
                  "least seconds between two refetches caused by an unknown kid (default 30)")

#endif
