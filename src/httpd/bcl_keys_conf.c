/* Directives of fetched keys. The URL is checked when it is read (scheme,
 * loopback rule), and remembered with the section it was written in; the
 * shared cache entries are made in post_config (bcl_keys.c). */
#include <httpd.h>
#include <errno.h>
#include <apr_strings.h>
#include <http_log.h>
#include "bcl_conf_number.h"
#include "bcl_config.h"
#include "bcl_keys_conf.h"
#include "bcl_keysource.h"

#define DECLS_KEY "mod_backchannel_logout:keysrc-decls"

void bcl_fetch_conf_init(bcl_fetch_conf_t *c)
{
    memset(c, 0, sizeof(*c));
    c->timeout = BCL_UNSET;
    c->connect_timeout = BCL_UNSET;
    c->max_size = BCL_UNSET;
    c->refresh = BCL_UNSET;
    c->min_refresh = BCL_UNSET;
    c->refetch = BCL_UNSET;
}

#define PICK_PTR(f) m->f = add->f ? add->f : base->f
#define PICK_VAL(f) m->f = add->f != BCL_UNSET ? add->f : base->f

void bcl_fetch_conf_merge(bcl_fetch_conf_t *m, const bcl_fetch_conf_t *base, const bcl_fetch_conf_t *add)
{
    /* the key source is one setting: a location's BCLJWKSURI replaces an
     * inherited BCLProviderMetadataURL and the other way round */
    m->kind = add->kind ? add->kind : base->kind;
    m->url = add->kind ? add->url : base->url;
    PICK_PTR(ca_file);
    PICK_PTR(proxy);
    PICK_VAL(timeout);
    PICK_VAL(connect_timeout);
    PICK_VAL(max_size);
    PICK_VAL(refresh);
    PICK_VAL(min_refresh);
    PICK_VAL(refetch);
}

void bcl_fetch_conf_resolve(bcl_fetch_conf_t *out, const bcl_fetch_conf_t *c)
{
    *out = *c;
#define DEF(f, d) if (out->f == BCL_UNSET) out->f = (d)
    DEF(timeout, BCL_DEFAULT_HTTP_TIMEOUT);
    DEF(connect_timeout, BCL_DEFAULT_HTTP_CONNECT_TIMEOUT);
    DEF(max_size, BCL_DEFAULT_HTTP_MAX_SIZE);
    DEF(refresh, BCL_DEFAULT_KEY_REFRESH);
    DEF(min_refresh, BCL_DEFAULT_KEY_MIN_REFRESH);
    DEF(refetch, BCL_DEFAULT_KEY_REFETCH);
#undef DEF
    if (out->connect_timeout > out->timeout)
        out->connect_timeout = out->timeout;
    if (out->min_refresh > out->refresh)
        out->min_refresh = out->refresh;
}

const apr_array_header_t *bcl_keysrc_declarations(apr_pool_t *pconf)
{
    void *data = NULL;
    apr_pool_userdata_get(&data, DECLS_KEY, pconf);
    return data;
}

static const char *set_source(cmd_parms *cmd, bcl_dir_conf_t *c, bcl_keysrc_kind_t kind,
                              const char *directive, const char *other, const char *arg)
{
    apr_array_header_t *decls = (apr_array_header_t *)bcl_keysrc_declarations(cmd->pool);
    const char *err;
    int loopback;
    bcl_keysrc_decl_t *d;

    if (c->fetch.kind != BCL_KEYSRC_NONE && c->fetch.kind != kind)
        return apr_psprintf(cmd->pool, "%s: %s is already set here; use one of them (the metadata names "
                            "its jwks_uri)", directive, other);
    if (c->fetch.kind == kind)
        return apr_psprintf(cmd->pool, "%s: set twice in the same context (%s and %s)", directive,
                            c->fetch.url, arg);
    if (bcl_keysource_check_url(cmd->pool, arg, &loopback, &err) != 0)
        return apr_psprintf(cmd->pool, "%s %s: %s", directive, arg, err);
    c->fetch.kind = kind;
    c->fetch.url = arg;

    if (decls == NULL) {
        decls = apr_array_make(cmd->pool, 4, sizeof(bcl_keysrc_decl_t));
        apr_pool_userdata_set(decls, DECLS_KEY, apr_pool_cleanup_null, cmd->pool);
    }
    d = apr_array_push(decls);
    d->kind = kind;
    d->url = arg;
    d->dir_conf = c;
    d->server = cmd->server;
    d->where = cmd->directive && cmd->directive->filename
        ? apr_psprintf(cmd->pool, "%s:%d", cmd->directive->filename, cmd->directive->line_num)
        : "?";
    return NULL;
}

const char *bcl_set_jwks_uri(cmd_parms *cmd, void *conf, const char *arg)
{
    return set_source(cmd, conf, BCL_KEYSRC_JWKS, "BCLJWKSURI", "BCLProviderMetadataURL", arg);
}

const char *bcl_set_metadata_url(cmd_parms *cmd, void *conf, const char *arg)
{
    return set_source(cmd, conf, BCL_KEYSRC_METADATA, "BCLProviderMetadataURL", "BCLJWKSURI", arg);
}

const char *bcl_set_ca_file(cmd_parms *cmd, void *conf, const char *arg)
{
    bcl_dir_conf_t *c = conf;
    const char *path = ap_server_root_relative(cmd->pool, arg);
    apr_finfo_t fi;
    apr_status_t rv;
    char buf[120];

    if (path == NULL)
        return apr_psprintf(cmd->pool, "BCLCAFile: invalid path %s", arg);
    rv = apr_stat(&fi, path, APR_FINFO_TYPE, cmd->temp_pool);
    if (rv != APR_SUCCESS)
        return apr_psprintf(cmd->pool, "BCLCAFile: cannot read %s: %s", path, apr_strerror(rv, buf, sizeof(buf)));
    if (fi.filetype != APR_REG)
        return apr_psprintf(cmd->pool, "BCLCAFile: %s is not a file", path);
    c->fetch.ca_file = path;
    return NULL;
}

const char *bcl_set_http_timeout(cmd_parms *cmd, void *conf, const char *arg)
{
    return bcl_conf_parse_number(cmd, "BCLHTTPTimeout", arg, 1, 60, &((bcl_dir_conf_t *)conf)->fetch.timeout);
}

const char *bcl_set_http_connect_timeout(cmd_parms *cmd, void *conf, const char *arg)
{
    return bcl_conf_parse_number(cmd, "BCLHTTPConnectTimeout", arg, 1, 60, &((bcl_dir_conf_t *)conf)->fetch.connect_timeout);
}

const char *bcl_set_http_max_size(cmd_parms *cmd, void *conf, const char *arg)
{
    return bcl_conf_parse_number(cmd, "BCLHTTPMaxSize", arg, 1024, 16 * 1024 * 1024, &((bcl_dir_conf_t *)conf)->fetch.max_size);
}

const char *bcl_set_http_proxy(cmd_parms *cmd, void *conf, const char *arg)
{
    bcl_dir_conf_t *c = conf;
    apr_uri_t u;

    if (strcasecmp(arg, "none") == 0) {
        c->fetch.proxy = "";
        return NULL;
    }
    if (apr_uri_parse(cmd->pool, arg, &u) != APR_SUCCESS || u.scheme == NULL || u.hostname == NULL
        || (strcasecmp(u.scheme, "http") != 0 && strcasecmp(u.scheme, "https") != 0
            && strncasecmp(u.scheme, "socks", 5) != 0))
        return apr_psprintf(cmd->pool, "BCLHTTPProxy: \"%s\" is not a proxy URL (http://HOST:PORT, "
                            "https://..., socks5://...) or 'none'", arg);
    c->fetch.proxy = arg;
    return NULL;
}

const char *bcl_set_key_refresh(cmd_parms *cmd, void *conf, const char *arg)
{
    return bcl_conf_parse_number(cmd, "BCLKeyRefreshInterval", arg, 1, 7 * 86400, &((bcl_dir_conf_t *)conf)->fetch.refresh);
}

const char *bcl_set_key_min_refresh(cmd_parms *cmd, void *conf, const char *arg)
{
    return bcl_conf_parse_number(cmd, "BCLKeyMinRefreshInterval", arg, 1, 86400, &((bcl_dir_conf_t *)conf)->fetch.min_refresh);
}

const char *bcl_set_key_refetch(cmd_parms *cmd, void *conf, const char *arg)
{
    return bcl_conf_parse_number(cmd, "BCLKeyRefetchInterval", arg, 1, 86400, &((bcl_dir_conf_t *)conf)->fetch.refetch);
}
