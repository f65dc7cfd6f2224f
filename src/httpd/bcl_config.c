#include <errno.h>
#include <string.h>
#include <apr_file_io.h>
#include <apr_strings.h>
#include "bcl_config.h"
#include <http_log.h>
#include "bcl_logtags.h"
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
    return c;
}

#define MERGE_PTR(f) m->f = add->f ? add->f : base->f
#define MERGE_VAL(f) m->f = add->f != BCL_UNSET ? add->f : base->f

void *bcl_dir_conf_merge(apr_pool_t *p, void *base_, void *add_)
{
    const bcl_dir_conf_t *base = base_, *add = add_;
    bcl_dir_conf_t *m = apr_palloc(p, sizeof(*m));

    MERGE_PTR(issuer);
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
    return m;
}

const bcl_policy_t *bcl_conf_policy(apr_pool_t *p, const bcl_dir_conf_t *c,
                                    const bcl_keyset_t **keys, const char **missing)
{
    bcl_policy_t *policy;

    if (c->issuer == NULL) {
        *missing = "BCLIssuer";
        return NULL;
    }
    if (c->client_ids == NULL) {
        *missing = "BCLClientID";
        return NULL;
    }
    if (c->jwks == NULL && c->secret == NULL) {
        *missing = "BCLJWKSFile or BCLClientSecret";
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

static void log_to_server(void *baton, bcl_log_level_t level, const char *tag, const char *msg)
{
    static const int levels[] = { APLOG_ERR, APLOG_WARNING, APLOG_INFO, APLOG_DEBUG };
    ap_log_error(APLOG_MARK, levels[level], 0, (server_rec *)baton, "%s: %s", tag, msg);
}

static const char *set_issuer(cmd_parms *cmd, void *conf, const char *arg)
{
    bcl_dir_conf_t *c = conf;
    if (*arg == '\0')
        return "BCLIssuer: the issuer must not be empty";
    c->issuer = arg;
    (void)cmd;
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
    bcl_logger_t logger = { log_to_server, cmd->server };
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

/* Parses a whole decimal number within [min, max]. */
static const char *parse_number(cmd_parms *cmd, const char *directive, const char *arg,
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

static const char *set_clock_skew(cmd_parms *cmd, void *conf, const char *arg)
{
    apr_int64_t v;
    const char *err = parse_number(cmd, "BCLClockSkew", arg, 0, 3600, &v);
    if (err == NULL)
        ((bcl_dir_conf_t *)conf)->clock_skew = (long)v;
    return err;
}

static const char *set_max_token_size(cmd_parms *cmd, void *conf, const char *arg)
{
    apr_int64_t v;
    const char *err = parse_number(cmd, "BCLMaxTokenSize", arg, 256, 1024 * 1024, &v);
    if (err == NULL)
        ((bcl_dir_conf_t *)conf)->max_token_size = (apr_off_t)v;
    return err;
}

#define BCL_CONTEXT (RSRC_CONF | ACCESS_CONF)

const command_rec bcl_directives[] = {
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
    { NULL }
};
