#include <errno.h>
#include <string.h>
#include <apr_file_io.h>
#include <apr_strings.h>
#include "bcl_config.h"
#include "bcl_admin.h"
#include "bcl_conf_number.h"
#include "bcl_table.h"
#include <http_log.h>
#include "bcl_log_httpd.h"
#include "bcl_logtags.h"
#include "bcl_runtime.h"
#include "mod_backchannel_logout.h"

void *bcl_dir_conf_create(apr_pool_t *p, char *dir)
{
    bcl_dir_conf_t *c = apr_pcalloc(p, sizeof(*c));
    (void)dir;
    c->require_encryption = BCL_UNSET;
    c->require_sid = BCL_UNSET;
    c->require_exp = BCL_UNSET;
    c->clock_skew = BCL_UNSET;
    c->max_token_size = BCL_UNSET;
    c->unbound = BCL_UNSET;
    c->store_unavailable = BCL_UNSET;
    c->suspicious_cookie = BCL_UNSET;
    bcl_fetch_conf_init(&c->fetch);
    return c;
}


void *bcl_server_conf_create(apr_pool_t *p, server_rec *s)
{
    bcl_server_conf_t *c = apr_pcalloc(p, sizeof(*c));
    (void)s;
    c->capacity = BCL_DEFAULT_CAPACITY;
    c->lifetime = BCL_DEFAULT_LIFETIME;
    return c;
}

/* The store is global: virtual hosts share the main server's settings and runtime. */
void *bcl_server_conf_merge(apr_pool_t *p, void *base, void *add)
{
    (void)p; (void)add;
    return base;
}

#define MERGE_PTR(f) m->f = add->f ? add->f : base->f
#define MERGE_VAL(f) m->f = add->f != BCL_UNSET ? add->f : base->f

void *bcl_dir_conf_merge(apr_pool_t *p, void *base_, void *add_)
{
    const bcl_dir_conf_t *base = base_, *add = add_;
    bcl_dir_conf_t *m = apr_palloc(p, sizeof(*m));

    MERGE_PTR(issuer);
    m->issuer_cutoff = add->issuer != NULL ? add->issuer_cutoff : base->issuer_cutoff;
    MERGE_PTR(admin_token_file);
    MERGE_PTR(admin_tokens);
    MERGE_PTR(client_ids);
    MERGE_PTR(jwks_file);
    MERGE_PTR(jwks);
    MERGE_PTR(secret);
    MERGE_PTR(decryption);
    m->allowed_algs = add->allowed_algs ? add->allowed_algs : base->allowed_algs;
    MERGE_VAL(require_encryption);
    MERGE_VAL(require_sid);
    MERGE_VAL(require_exp);
    MERGE_VAL(clock_skew);
    MERGE_VAL(max_token_size);
    MERGE_PTR(session_cookies);
    m->bind_mode = add->bind_mode ? add->bind_mode : base->bind_mode;
    m->bind_header = add->bind_mode ? add->bind_header : base->bind_header;
    m->env_iss = add->bind_mode ? add->env_iss : base->env_iss;
    m->env_sid = add->bind_mode ? add->env_sid : base->env_sid;
    m->env_sub = add->bind_mode ? add->env_sub : base->env_sub;
    m->env_iat = add->bind_mode ? add->env_iat : base->env_iat;
    m->on_revoked = add->on_revoked ? add->on_revoked : base->on_revoked;
    m->revoked_status = add->on_revoked ? add->revoked_status : base->revoked_status;
    m->revoked_url = add->on_revoked ? add->revoked_url : base->revoked_url;
    MERGE_VAL(unbound);
    MERGE_VAL(store_unavailable);
    MERGE_VAL(suspicious_cookie);
    MERGE_PTR(cookie_path);
    MERGE_PTR(cookie_domain);
    bcl_fetch_conf_merge(&m->fetch, &base->fetch, &add->fetch);
    return m;
}

const bcl_policy_t *bcl_conf_policy(apr_pool_t *p, const bcl_dir_conf_t *c,
                                    const bcl_keyset_t **keys, const char **missing)
{
    bcl_policy_t *policy;

    if (c->issuer == NULL && c->fetch.kind != BCL_KEYSRC_METADATA) {
        *missing = "BCLIssuer (or BCLProviderMetadataURL)";
        return NULL;
    }
    if (c->client_ids == NULL) {
        *missing = "BCLClientID";
        return NULL;
    }
    if (c->jwks == NULL && c->secret == NULL && c->fetch.kind == BCL_KEYSRC_NONE) {
        *missing = "BCLJWKSFile, BCLJWKSURI, BCLProviderMetadataURL or BCLClientSecret";
        return NULL;
    }
    policy = apr_palloc(p, sizeof(*policy));
    policy->issuer = c->issuer;
    policy->client_ids = c->client_ids;
    policy->allowed_algs = c->allowed_algs ? c->allowed_algs : BCL_DEFAULT_ALGS;
    policy->require_encryption = c->require_encryption == 1;
    policy->require_sid = c->require_sid == 1;
    policy->require_exp = c->require_exp != 0;
    policy->clock_skew = c->clock_skew != BCL_UNSET ? c->clock_skew : BCL_DEFAULT_CLOCK_SKEW;
    *keys = bcl_keyset_combine(p, c->jwks, c->secret, c->decryption);
    return policy;
}

apr_off_t bcl_conf_max_token_size(const bcl_dir_conf_t *c)
{
    return c->max_token_size != BCL_UNSET ? c->max_token_size : BCL_DEFAULT_MAX_TOKEN_SIZE;
}

/* Key files are read while the configuration is read: a bad file stops
 * httpd -t with its name, and requests never touch the disk. */
static const char *read_config_file(cmd_parms *cmd, const char *directive, const char *arg,
                                    const char **path, char **data, apr_size_t *len)
{
    apr_file_t *f;
    apr_finfo_t fi;
    apr_status_t rv;
    char errbuf[120];
    apr_size_t got;

    *path = ap_server_root_relative(cmd->pool, arg);
    if (*path == NULL)
        return apr_psprintf(cmd->pool, "%s: invalid path %s", directive, arg);
    rv = apr_file_open(&f, *path, APR_FOPEN_READ | APR_FOPEN_BINARY, 0, cmd->temp_pool);
    if (rv == APR_SUCCESS)
        rv = apr_file_info_get(&fi, APR_FINFO_SIZE, f);
    if (rv != APR_SUCCESS)
        return apr_psprintf(cmd->pool, "%s: cannot read %s: %s", directive, *path,
                            apr_strerror(rv, errbuf, sizeof(errbuf)));
    if (fi.size > 1024 * 1024) {
        apr_file_close(f);
        return apr_psprintf(cmd->pool, "%s: %s is larger than 1 MiB", directive, *path);
    }
    *data = apr_palloc(cmd->temp_pool, (apr_size_t)fi.size + 1);
    got = (apr_size_t)fi.size;
    rv = fi.size > 0 ? apr_file_read_full(f, *data, got, &got) : APR_SUCCESS;
    apr_file_close(f);
    if (rv != APR_SUCCESS)
        return apr_psprintf(cmd->pool, "%s: cannot read %s: %s", directive, *path,
                            apr_strerror(rv, errbuf, sizeof(errbuf)));
    (*data)[got] = '\0';
    *len = got;
    return NULL;
}

static const char *set_issuer(cmd_parms *cmd, void *conf, const char *arg)
{
    bcl_dir_conf_t *c = conf;
    if (*arg == '\0')
        return "BCLIssuer: the issuer must not be empty";
    /* the key of its cut-off (SetHandler backchannel-logout-admin), which
     * the guard also applies to bindings made before bindings named their
     * issuer: computed once here, never per request */
    if (bcl_hkey_iss(&c->issuer_cutoff, arg) != 0)
        return apr_psprintf(cmd->pool, "BCLIssuer: %s: SHA-256 is not available", arg);
    c->issuer = arg;
    return NULL;
}

static const char *add_client_id(cmd_parms *cmd, void *conf, const char *arg)
{
    bcl_dir_conf_t *c = conf;
    if (*arg == '\0')
        return "BCLClientID: a client ID must not be empty";
    if (c->client_ids == NULL)
        c->client_ids = apr_array_make(cmd->pool, 2, sizeof(const char *));
    APR_ARRAY_PUSH(c->client_ids, const char *) = arg;
    return NULL;
}

static const char *set_jwks_file(cmd_parms *cmd, void *conf, const char *arg)
{
    bcl_dir_conf_t *c = conf;
    bcl_logger_t logger = bcl_server_logger(cmd->server);
    const char *path, *err = NULL, *msg;
    char *data;
    apr_size_t len;

    if ((msg = read_config_file(cmd, "BCLJWKSFile", arg, &path, &data, &len)) != NULL)
        return msg;
    c->jwks = bcl_keyset_create(cmd->pool);
    if (bcl_keyset_add_jwks(c->jwks, data, len, &logger, &err) != 0)
        return apr_psprintf(cmd->pool, "BCLJWKSFile: %s: %s", path, err);
    c->jwks_file = path;
    ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, cmd->server, BCL_TAG_KEYS_LOADED ": %d signature key(s) from %s",
                 bcl_keyset_count(c->jwks), path);
    return NULL;
}

static const char *set_client_secret(cmd_parms *cmd, void *conf, const char *arg)
{
    bcl_dir_conf_t *c = conf;
    const char *err = NULL;

    c->secret = bcl_keyset_create(cmd->pool);
    if (bcl_keyset_set_client_secret(c->secret, arg, strlen(arg), &err) != 0)
        return apr_psprintf(cmd->pool, "BCLClientSecret: %s", err);
    return NULL;
}

static const char *add_decryption_key(cmd_parms *cmd, void *conf, const char *arg)
{
    bcl_dir_conf_t *c = conf;
    const char *path, *err = NULL, *msg;
    char *data;
    apr_size_t len;

    if ((msg = read_config_file(cmd, "BCLDecryptionKey", arg, &path, &data, &len)) != NULL)
        return msg;
    if (c->decryption == NULL)
        c->decryption = bcl_keyset_create(cmd->pool);
    if (bcl_keyset_add_decryption_key(c->decryption, data, len, &err) != 0)
        return apr_psprintf(cmd->pool, "BCLDecryptionKey: %s: %s", path, err);
    return NULL;
}

static const char *add_signing_alg(cmd_parms *cmd, void *conf, const char *arg)
{
    bcl_dir_conf_t *c = conf;
    int alg = bcl_alg_from_name(arg);

    if (strcasecmp(arg, "none") == 0)
        return "BCLSigningAlg: \"none\" is never allowed: logout tokens must be signed";
    if (alg < 0)
        return apr_psprintf(cmd->pool, "BCLSigningAlg: unknown algorithm \"%s\" (supported: RS256 RS384 RS512 "
                            "PS256 PS384 PS512 ES256 ES384 ES512 HS256 HS384 HS512 EdDSA)", arg);
    c->allowed_algs |= BCL_ALG_BIT(alg);
    return NULL;
}

static const char *set_flag(int *field, int flag)
{
    *field = flag ? 1 : 0;
    return NULL;
}

static const char *set_require_encryption(cmd_parms *cmd, void *conf, int flag)
{
    (void)cmd;
    return set_flag(&((bcl_dir_conf_t *)conf)->require_encryption, flag);
}

static const char *set_require_sid(cmd_parms *cmd, void *conf, int flag)
{
    (void)cmd;
    return set_flag(&((bcl_dir_conf_t *)conf)->require_sid, flag);
}

static const char *set_require_exp(cmd_parms *cmd, void *conf, int flag)
{
    (void)cmd;
    return set_flag(&((bcl_dir_conf_t *)conf)->require_exp, flag);
}

static const char *set_clock_skew(cmd_parms *cmd, void *conf, const char *arg)
{
    apr_int64_t v;
    const char *err = bcl_conf_parse_number(cmd, "BCLClockSkew", arg, 0, 3600, &v);
    if (err == NULL)
        ((bcl_dir_conf_t *)conf)->clock_skew = (long)v;
    return err;
}

static const char *set_max_token_size(cmd_parms *cmd, void *conf, const char *arg)
{
    apr_int64_t v;
    const char *err = bcl_conf_parse_number(cmd, "BCLMaxTokenSize", arg, 256, 1024 * 1024, &v);
    if (err == NULL)
        ((bcl_dir_conf_t *)conf)->max_token_size = (apr_off_t)v;
    return err;
}

static const char *add_session_cookie(cmd_parms *cmd, void *conf, const char *arg)
{
    bcl_dir_conf_t *c = conf;
    if (*arg == '\0' || strpbrk(arg, "=;, \t") != NULL)
        return apr_psprintf(cmd->pool, "BCLSessionCookie: \"%s\" is not a cookie name", arg);
    if (c->session_cookies == NULL)
        c->session_cookies = apr_array_make(cmd->pool, 2, sizeof(const char *));
    APR_ARRAY_PUSH(c->session_cookies, const char *) = arg;
    return NULL;
}

/* BCLBindFrom response-header HEADER
 * BCLBindFrom env [iss=VAR] [sid=VAR] [sub=VAR] [iat=VAR] */
static const char *set_bind_from(cmd_parms *cmd, void *conf, int argc, char *const argv[])
{
    bcl_dir_conf_t *c = conf;

    if (argc >= 1 && strcasecmp(argv[0], "response-header") == 0) {
        if (argc > 2)
            return "BCLBindFrom response-header takes at most one header name (default BCL-Session)";
        const char *h = argc == 2 ? argv[1] : BCL_DEFAULT_BIND_HEADER;
        if (*h == '\0' || h[strspn(h, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")] != '\0'
            || strcasecmp(h, "Set-Cookie") == 0 || strcasecmp(h, "Cookie") == 0)
            return apr_psprintf(cmd->pool, "BCLBindFrom response-header: \"%s\" is not a usable header name "
                                "(letters, digits, '-' and '_'; not Set-Cookie)", h);
        c->bind_mode = BCL_BIND_RESPONSE_HEADER;
        c->bind_header = h;
        return NULL;
    }
    if (argc >= 1 && strcasecmp(argv[0], "env") == 0) {
        c->bind_mode = BCL_BIND_ENV;
        c->env_iss = "OIDC_CLAIM_iss";
        c->env_sid = "OIDC_CLAIM_sid";
        c->env_sub = "OIDC_CLAIM_sub";
        c->env_iat = "OIDC_CLAIM_iat";
        for (int i = 1; i < argc; i++) {
            const char *eq = strchr(argv[i], '=');
            const char *var = eq ? eq + 1 : NULL;
            if (var == NULL || *var == '\0')
                return apr_psprintf(cmd->pool, "BCLBindFrom env: \"%s\" is not CLAIM=VARIABLE", argv[i]);
            if (strncasecmp(argv[i], "iss=", 4) == 0) c->env_iss = var;
            else if (strncasecmp(argv[i], "sid=", 4) == 0) c->env_sid = var;
            else if (strncasecmp(argv[i], "sub=", 4) == 0) c->env_sub = var;
            else if (strncasecmp(argv[i], "iat=", 4) == 0) c->env_iat = var;
            else
                return apr_psprintf(cmd->pool, "BCLBindFrom env: unknown claim in \"%s\" (iss, sid, sub, iat)", argv[i]);
        }
        return NULL;
    }
    return "BCLBindFrom: use 'response-header [HEADER]' (default header BCL-Session) or 'env [iss=VAR] [sid=VAR] [sub=VAR] [iat=VAR]'";
}

static const char *set_on_revoked(cmd_parms *cmd, void *conf, const char *action, const char *arg)
{
    bcl_dir_conf_t *c = conf;

    if (strcasecmp(action, "pass") == 0 && arg == NULL) {
        c->on_revoked = BCL_ON_REVOKED_PASS;
    } else if (strcasecmp(action, "deny") == 0) {
        apr_int64_t status = HTTP_UNAUTHORIZED;
        if (arg != NULL) {
            const char *err = bcl_conf_parse_number(cmd, "BCLOnRevoked deny", arg, 400, 599, &status);
            if (err)
                return err;
        }
        c->on_revoked = BCL_ON_REVOKED_DENY;
        c->revoked_status = (int)status;
    } else if (strcasecmp(action, "redirect") == 0 && arg != NULL) {
        c->on_revoked = BCL_ON_REVOKED_REDIRECT;
        c->revoked_url = arg;
    } else {
        return "BCLOnRevoked: use 'pass', 'deny [STATUS]' or 'redirect URL'";
    }
    return NULL;
}

static const char *set_unbound(cmd_parms *cmd, void *conf, const char *arg)
{
    bcl_dir_conf_t *c = conf;
    (void)cmd;
    if (strcasecmp(arg, "allow") == 0) c->unbound = BCL_UNBOUND_ALLOW;
    else if (strcasecmp(arg, "deny") == 0) c->unbound = BCL_UNBOUND_DENY;
    else return "BCLUnboundSession: use 'allow' or 'deny'";
    return NULL;
}

static const char *set_store_unavailable(cmd_parms *cmd, void *conf, const char *arg)
{
    bcl_dir_conf_t *c = conf;
    (void)cmd;
    if (strcasecmp(arg, "closed") == 0) c->store_unavailable = BCL_STORE_CLOSED;
    else if (strcasecmp(arg, "open") == 0) c->store_unavailable = BCL_STORE_OPEN;
    else return "BCLStoreUnavailable: use 'closed' or 'open'";
    return NULL;
}

static const char *set_suspicious_cookie(cmd_parms *cmd, void *conf, const char *arg)
{
    bcl_dir_conf_t *c = conf;
    (void)cmd;
    if (strcasecmp(arg, "deny") == 0) c->suspicious_cookie = BCL_SUSPICIOUS_DENY;
    else if (strcasecmp(arg, "allow") == 0) c->suspicious_cookie = BCL_SUSPICIOUS_ALLOW;
    else return "BCLSuspiciousCookie: use 'deny' or 'allow'";
    return NULL;
}

static const char *set_cookie_path(cmd_parms *cmd, void *conf, const char *arg)
{
    (void)cmd;
    if (*arg != '/' || strpbrk(arg, ";\r\n") != NULL)
        return "BCLCookiePath: a path starting with / and without ';'";
    ((bcl_dir_conf_t *)conf)->cookie_path = arg;
    return NULL;
}

static const char *set_cookie_domain(cmd_parms *cmd, void *conf, const char *arg)
{
    (void)cmd;
    if (*arg == '\0' || strpbrk(arg, "; \t\r\n") != NULL)
        return "BCLCookieDomain: a domain without ';' or spaces";
    ((bcl_dir_conf_t *)conf)->cookie_domain = arg;
    return NULL;
}

/* "64M", "512K", "1G" or a number of bytes. */
static const char *parse_bytes(cmd_parms *cmd, const char *directive, const char *arg, apr_uint64_t *out)
{
    char *end;
    apr_int64_t v;
    apr_uint64_t unit = 1;

    errno = 0;
    v = apr_strtoi64(arg, &end, 10);
    if (*end != '\0' && end[1] == '\0') {
        switch (*end) {
        case 'k': case 'K': unit = 1024; end++; break;
        case 'm': case 'M': unit = 1024 * 1024; end++; break;
        case 'g': case 'G': unit = 1024 * 1024 * 1024; end++; break;
        default: break;
        }
    }
    if (errno != 0 || end == arg || *end != '\0' || v <= 0 || (apr_uint64_t)v > (UINT64_C(1) << 40) / unit)
        return apr_psprintf(cmd->pool, "%s: \"%s\" is not a size (bytes, or a number with K, M or G)",
                            directive, arg);
    *out = (apr_uint64_t)v * unit;
    return NULL;
}

/* BCLStore shm [capacity=N | memory=SIZE] [file=PATH] | memcache ... | redis ... (bcl_store_fleet.c) */
static const char *set_store(cmd_parms *cmd, void *conf, int argc, char *const argv[])
{
    bcl_server_conf_t *sc = ap_get_module_config(cmd->server->module_config, &backchannel_logout_module);
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    (void)conf;

    if (err != NULL)
        return err;
    if (argc >= 1 && (strcasecmp(argv[0], "memcache") == 0 || strcasecmp(argv[0], "redis") == 0)) {
        if ((err = bcl_runtime_parse_net_store(cmd, argc, argv, &sc->net)) != NULL)
            return err;
        sc->store_set = 1;
        sc->journal_path = NULL;
        sc->memory = 0;
        return NULL;
    }
    if (argc < 1 || strcasecmp(argv[0], "shm") != 0)
        return "BCLStore: use 'shm [capacity=N | memory=SIZE] [file=PATH]', "
               "'memcache HOST:PORT[,HOST:PORT...] [OPTIONS]' or 'redis HOST:PORT [OPTIONS]'";
    sc->net = NULL;
    sc->journal_path = NULL;
    sc->memory = 0;
    for (int i = 1; i < argc; i++) {
        apr_int64_t v;
        if (strncasecmp(argv[i], "capacity=", 9) == 0) {
            if ((err = bcl_conf_parse_number(cmd, "BCLStore shm capacity", argv[i] + 9, 16, 100000000, &v)) != NULL)
                return err;
            sc->capacity = (apr_uint32_t)v;
            sc->memory = 0;
        } else if (strncasecmp(argv[i], "memory=", 7) == 0) {
            apr_uint64_t bytes = 0;
            uint32_t n;
            if ((err = parse_bytes(cmd, "BCLStore shm memory", argv[i] + 7, &bytes)) != NULL)
                return err;
            n = bcl_table_capacity_for(bytes);
            if (n < 16 || n > 100000000)
                return apr_psprintf(cmd->pool, "BCLStore shm memory=%s holds %u records: it must hold 16 to "
                                    "100000000 (about 2 KB to 10 GB)", argv[i] + 7, n);
            sc->capacity = n;
            sc->memory = bytes;
        } else if (strncasecmp(argv[i], "file=", 5) == 0) {
            const char *path = argv[i] + 5;
            if (*path == '\0')
                return "BCLStore shm file=: the journal's path must not be empty";
            apr_finfo_t fi;
            const char *slash;
            sc->journal_path = ap_server_root_relative(cmd->pool, path);
            if (sc->journal_path == NULL)
                return apr_psprintf(cmd->pool, "BCLStore shm file=: invalid path %s", path);
            slash = strrchr(sc->journal_path, '/');
            if (slash != NULL && slash != sc->journal_path) {
                const char *dir = apr_pstrndup(cmd->temp_pool, sc->journal_path, (apr_size_t)(slash - sc->journal_path));
                if (apr_stat(&fi, dir, APR_FINFO_TYPE, cmd->temp_pool) != APR_SUCCESS || fi.filetype != APR_DIR)
                    return apr_psprintf(cmd->pool, "BCLStore shm file=%s: the directory %s does not exist "
                                        "(create it; httpd does not)", path, dir);
            }
        } else {
            return apr_psprintf(cmd->pool, "BCLStore shm: unknown option \"%s\" (capacity=N, memory=SIZE, "
                                "file=PATH)", argv[i]);
        }
    }
    sc->store_set = 1;
    return NULL;
}

static const char *set_lifetime(cmd_parms *cmd, void *conf, const char *arg)
{
    bcl_server_conf_t *sc = ap_get_module_config(cmd->server->module_config, &backchannel_logout_module);
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    (void)conf;
    if (err != NULL)
        return err;
    return bcl_conf_parse_number(cmd, "BCLRevocationLifetime", arg, 60, 366LL * 86400, &sc->lifetime);
}

#define BCL_CONTEXT (RSRC_CONF | ACCESS_CONF)

const command_rec bcl_directives[] = {
    AP_INIT_TAKE1("BCLAdminTokenFile", bcl_admin_set_token_file, NULL, BCL_CONTEXT,
                  "A file of bearer tokens (one per line, readable by root only) for SetHandler "
                  "backchannel-logout-admin"),
    AP_INIT_TAKE1("BCLIssuer", set_issuer, NULL, BCL_CONTEXT,
                  "the only accepted iss of logout tokens"),
    AP_INIT_ITERATE("BCLClientID", add_client_id, NULL, BCL_CONTEXT,
                    "accepted audiences (client IDs)"),
    AP_INIT_TAKE1("BCLJWKSFile", set_jwks_file, NULL, BCL_CONTEXT,
                  "file with the OP's signing keys (JWKS)"),
    AP_INIT_TAKE1("BCLClientSecret", set_client_secret, NULL, BCL_CONTEXT,
                  "client secret: the key of HS256/384/512 logout tokens"),
    AP_INIT_TAKE1("BCLDecryptionKey", add_decryption_key, NULL, BCL_CONTEXT,
                  "RSA private key (PEM or JWK) for encrypted logout tokens; repeatable"),
    BCL_KEYS_DIRECTIVES,
    AP_INIT_ITERATE("BCLSigningAlg", add_signing_alg, NULL, BCL_CONTEXT,
                    "allowed signature algorithms (default RS256)"),
    AP_INIT_FLAG("BCLRequireEncryption", set_require_encryption, NULL, BCL_CONTEXT,
                 "refuse logout tokens that are not encrypted (default Off)"),
    AP_INIT_FLAG("BCLRequireSid", set_require_sid, NULL, BCL_CONTEXT,
                 "refuse logout tokens without sid (default Off)"),
    AP_INIT_FLAG("BCLRequireExp", set_require_exp, NULL, BCL_CONTEXT,
                 "refuse logout tokens without exp (default On)"),
    AP_INIT_TAKE1("BCLClockSkew", set_clock_skew, NULL, BCL_CONTEXT,
                  "seconds of leeway for iat and exp (default 60)"),
    AP_INIT_TAKE1("BCLMaxTokenSize", set_max_token_size, NULL, BCL_CONTEXT,
                  "largest accepted request body in bytes (default 16384)"),
    AP_INIT_ITERATE("BCLSessionCookie", add_session_cookie, NULL, BCL_CONTEXT,
                    "the app's session cookie name(s); turns the guard on"),
    AP_INIT_TAKE_ARGV("BCLBindFrom", set_bind_from, NULL, BCL_CONTEXT,
                      "response-header HEADER | env [iss=VAR] [sid=VAR] [sub=VAR] [iat=VAR]"),
    AP_INIT_TAKE12("BCLOnRevoked", set_on_revoked, NULL, BCL_CONTEXT,
                   "pass | deny [STATUS] | redirect URL"),
    AP_INIT_TAKE1("BCLUnboundSession", set_unbound, NULL, BCL_CONTEXT,
                  "allow | deny: a session cookie the store knows nothing about"),
    AP_INIT_TAKE1("BCLStoreUnavailable", set_store_unavailable, NULL, BCL_CONTEXT,
                  "closed | open: when the store cannot be reached"),
    AP_INIT_TAKE1("BCLSuspiciousCookie", set_suspicious_cookie, NULL, BCL_CONTEXT,
                  "deny | allow: a session cookie in a form no browser sends back (escapes, odd name, differing copies)"),
    AP_INIT_TAKE1("BCLCookiePath", set_cookie_path, NULL, BCL_CONTEXT,
                  "Path of the expiring Set-Cookie (default /)"),
    AP_INIT_TAKE1("BCLCookieDomain", set_cookie_domain, NULL, BCL_CONTEXT,
                  "Domain of the expiring Set-Cookie (default none)"),
    AP_INIT_TAKE_ARGV("BCLStore", set_store, NULL, RSRC_CONF,
                      "shm [capacity=N | memory=SIZE] [file=PATH] | memcache HOST:PORT[,...] [OPTIONS] | "
                      "redis HOST:PORT [OPTIONS]: where revocations are kept (global)"),
    AP_INIT_TAKE1("BCLRevocationLifetime", set_lifetime, NULL, RSRC_CONF,
                  "seconds a revocation (and a binding) is remembered (default 86400)"),
    { 0 }
};
