/* Administrative revocation: SetHandler backchannel-logout-admin
 * (docs/admin.md). An operator ends a user's, a session's or every session
 * of an issuer at the proxy, now. Revocations go through the same rules
 * and the same store as a back-channel logout (bcl_rules_admin_logout):
 * same records, same journal, same fleet sharing.
 *
 * Access: httpd's own Require lines run first (access and auth hooks);
 * this handler then also demands a credential of its own, so that a
 * location left at "Require all granted" is never open: an httpd-
 * authenticated user (r->user), or a bearer token listed in
 * BCLAdminTokenFile. Only application/json bodies are taken: a cross-site
 * HTML form cannot send one (the CSRF defence). */
#include <stdlib.h>
#include <apr_strings.h>
#include <apr_general.h>
#include <apr_escape.h>
#include <jansson.h>
#include <httpd.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>
#include "bcl_admin.h"
#include "bcl_admin_req.h"
#include "bcl_config.h"
#include "bcl_logtags.h"
#include "bcl_metrics.h"
#include "bcl_rules.h"
#include "bcl_runtime.h"
#include "mod_backchannel_logout.h"

#define TOKEN_FILE_MAX (1024 * 1024)

/* -- the token file ----------------------------------------------------------- */

const char *bcl_admin_set_token_file(cmd_parms *cmd, void *conf, const char *arg)
{
    bcl_dir_conf_t *c = conf;
    const char *path = ap_server_root_relative(cmd->pool, arg), *why = NULL;
    apr_file_t *f;
    apr_finfo_t fi;
    apr_status_t rv;
    char errbuf[120], *data;
    apr_size_t got;

    if (path == NULL)
        return apr_psprintf(cmd->pool, "BCLAdminTokenFile: invalid path %s", arg);
    rv = apr_file_open(&f, path, APR_FOPEN_READ | APR_FOPEN_BINARY, 0, cmd->temp_pool);
    if (rv == APR_SUCCESS)
        rv = apr_file_info_get(&fi, APR_FINFO_SIZE | APR_FINFO_PROT | APR_FINFO_TYPE, f);
    if (rv != APR_SUCCESS)
        return apr_psprintf(cmd->pool, "BCLAdminTokenFile: cannot read %s: %s", path,
                            apr_strerror(rv, errbuf, sizeof(errbuf)));
    /* a token anyone on the machine can read is no credential */
    if (fi.filetype != APR_REG || (fi.protection & (APR_FPROT_WREAD | APR_FPROT_WWRITE))) {
        apr_file_close(f);
        return apr_psprintf(cmd->pool, "BCLAdminTokenFile: %s is %s: make it readable by root only "
                            "(chmod 600, or 640 with a group of administrators)", path,
                            fi.filetype != APR_REG ? "not a regular file" : "readable or writable by every user");
    }
    if (fi.size > TOKEN_FILE_MAX) {
        apr_file_close(f);
        return apr_psprintf(cmd->pool, "BCLAdminTokenFile: %s is larger than 1 MiB", path);
    }
    data = apr_palloc(cmd->temp_pool, (apr_size_t)fi.size + 1);
    got = (apr_size_t)fi.size;
    rv = got > 0 ? apr_file_read_full(f, data, got, &got) : APR_SUCCESS;
    apr_file_close(f);
    if (rv != APR_SUCCESS)
        return apr_psprintf(cmd->pool, "BCLAdminTokenFile: cannot read %s: %s", path,
                            apr_strerror(rv, errbuf, sizeof(errbuf)));
    c->admin_tokens = bcl_admin_tokens_parse(cmd->pool, data, got, &why);
    memset(data, 0, got);   /* the tokens themselves are not kept */
    if (c->admin_tokens == NULL)
        return apr_psprintf(cmd->pool, "BCLAdminTokenFile: %s: %s", path, why);
    c->admin_token_file = path;
    ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, cmd->server, BCL_TAG_ADMIN_TOKENS ": %d admin token(s) from %s",
                 c->admin_tokens->nelts, path);
    return NULL;
}

/* -- answers ------------------------------------------------------------------ */

static const char *loggable(request_rec *r, const char *s)
{
    return s ? ap_escape_logitem(r->pool, s) : "-";
}

static int answer(request_rec *r, int status, json_t *doc)
{
    char *text = json_dumps(doc, JSON_COMPACT);
    const char *body = text ? apr_pstrcat(r->pool, text, "\n", NULL) : "{}\n";

    free(text);
    json_decref(doc);
    apr_table_setn(r->err_headers_out, "Cache-Control", "no-store");
    r->status = status;
    ap_set_content_type(r, "application/json");
    ap_set_content_length(r, (apr_off_t)strlen(body));
    if (!r->header_only)
        ap_rputs(body, r);
    return OK;
}

static int refuse(request_rec *r, int status, const char *why)
{
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, BCL_TAG_ADMIN_REFUSED ": admin request refused: status=%d %s",
                  status, loggable(r, why));
    return answer(r, status, json_pack("{s:s}", "error", why));
}

static int store_failed(request_rec *r, bcl_store_status_t st, const char *what)
{
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, BCL_TAG_ADMIN_STORE_FAILED ": admin %s NOT done (%s): answering 503",
                  what, st == BCL_STORE_FULL ? "the store is full: raise BCLStore capacity" : "the store is unavailable");
    return answer(r, HTTP_SERVICE_UNAVAILABLE,
                  json_pack("{s:s}", "error", apr_psprintf(r->pool, "the store is %s: nothing was %s; try again",
                                                           st == BCL_STORE_FULL ? "full" : "unavailable",
                                                           strcmp(what, "query") == 0 ? "read" : "revoked")));
}

static const char *iso_time(request_rec *r, apr_int64_t usec)
{
    apr_time_exp_t t;
    apr_time_exp_gmt(&t, (apr_time_t)usec);
    return apr_psprintf(r->pool, "%04d-%02d-%02dT%02d:%02d:%02dZ", t.tm_year + 1900, t.tm_mon + 1, t.tm_mday,
                        t.tm_hour, t.tm_min, t.tm_sec);
}

/* -- access ------------------------------------------------------------------- */

/* Who is asking, for the audit line; NULL when there is no valid credential
 * (the 401 is then written). */
static const char *credential(request_rec *r, const bcl_dir_conf_t *conf, int *denied)
{
    const char *auth = apr_table_get(r->headers_in, "Authorization"), *token;
    int line;

    *denied = 0;
    if (r->user != NULL)
        return apr_psprintf(r->pool, "user %s from %s", loggable(r, r->user), r->useragent_ip);
    token = bcl_admin_bearer(r->pool, auth);
    line = token ? bcl_admin_token_find(conf->admin_tokens, token, strlen(token)) : 0;
    if (line > 0)
        return apr_psprintf(r->pool, "bearer token of %s line %d from %s", conf->admin_token_file, line,
                            r->useragent_ip);
    *denied = 1;
    ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, BCL_TAG_ADMIN_UNAUTH ": admin request from %s without a valid "
                  "credential (%s): 401", r->useragent_ip,
                  token ? (conf->admin_tokens ? "a bearer token not in BCLAdminTokenFile"
                                              : "a bearer token, but no BCLAdminTokenFile here")
                        : auth ? "an Authorization header that is not a bearer token" : "no httpd user, no bearer token");
    apr_table_setn(r->err_headers_out, "WWW-Authenticate",
                   token ? "Bearer realm=\"bcl-admin\", error=\"invalid_token\"" : "Bearer realm=\"bcl-admin\"");
    answer(r, HTTP_UNAUTHORIZED, json_pack("{s:s}", "error", "a credential is required: an httpd-authenticated "
                                           "user or Authorization: Bearer with a token from BCLAdminTokenFile"));
    return NULL;
}

/* -- the store ---------------------------------------------------------------- */

static bcl_store_t *store_of(request_rec *r, apr_int64_t *lifetime)
{
    bcl_server_conf_t *sc = ap_get_module_config(r->server->module_config, &backchannel_logout_module);
    if (sc->rt == NULL || sc->rt->store == NULL)
        return NULL;
    *lifetime = sc->rt->lifetime;
    return sc->rt->store;
}

/* The identity key a request names: 0, or -1 (no digest: never a wrong key). */
static int key_of(bcl_admin_what_t what, const char *iss, const char *value, int *kind, bcl_hkey_t *key)
{
    switch (what) {
    case BCL_ADMIN_SUB:
        *kind = BCL_REC_REVOKED_SUB;
        return bcl_hkey_sub(key, iss, value);
    case BCL_ADMIN_SID:
        *kind = BCL_REC_REVOKED_SID;
        return bcl_hkey_sid(key, iss, value);
    default:
        *kind = BCL_REC_REVOKED_ISS;
        return bcl_hkey_iss(key, iss);
    }
}

static const char *const WHAT_NAMES[] = { "sub", "sid", "all" };
static const char *const WHAT_MEANS[] = {
    "every session of that user begun before now", "that session", "every session of that issuer begun before now"
};

static bcl_store_status_t admin_revoke(request_rec *r, const bcl_admin_req_t *q, const char *iss, apr_time_t now)
{
    apr_int64_t lifetime = 0;
    bcl_store_t *store = store_of(r, &lifetime);
    unsigned char nonce[16];
    bcl_hkey_t once, key;
    bcl_logout_t l;
    bcl_store_status_t st;
    int kind, replayed = 0;
    bcl_metrics_t *m;

    if (store == NULL || apr_generate_random_bytes(nonce, sizeof(nonce)) != APR_SUCCESS)
        return BCL_STORE_UNAVAILABLE;
    /* a jti no token can carry: the time and 128 random bits */
    if (key_of(q->what, iss, q->value, &kind, &key) != 0
        || bcl_hkey_jti(&once, iss, apr_psprintf(r->pool, "admin-revocation %" APR_TIME_T_FMT " %s", now,
                                                 apr_pescape_hex(r->pool, nonce, sizeof(nonce), 0))) != 0
        || !bcl_rules_admin_logout(&l, kind, &key, &once, now, apr_time_sec(now)))
        return BCL_STORE_UNAVAILABLE;
    st = store->ops->apply_logout(store, &l, apr_time_sec(now), lifetime, &replayed);
    bcl_runtime_report_usage(r, store);
    if (st == BCL_STORE_OK && bcl_runtime_make_durable(r->server) != 0)
        st = BCL_STORE_UNAVAILABLE;
    m = bcl_metrics_of(r->server);
    if (st != BCL_STORE_OK && m != NULL)
        BCL_METRIC_ADD(m->store_errors[BCL_STORE_OP_LOGOUT][st == BCL_STORE_FULL ? BCL_STORE_ERR_FULL
                                                                                 : BCL_STORE_ERR_UNAVAILABLE], 1);
    else if (st == BCL_STORE_OK)
        BCL_COUNT(r->server, revocations[BCL_CHANNEL_ADMIN]);
    return st;
}

/* -- requests ----------------------------------------------------------------- */

static int is_json(const char *type)
{
    const char *semi;
    apr_size_t n;
    if (type == NULL)
        return 0;
    while (*type == ' ')
        type++;
    semi = strchr(type, ';');
    n = semi ? (apr_size_t)(semi - type) : strlen(type);
    while (n > 0 && type[n - 1] == ' ')
        n--;
    return n == 16 && strncasecmp(type, "application/json", 16) == 0;
}

/* The body, at most BCL_ADMIN_BODY_MAX bytes; 0, or -1 (too large or broken). */
static int read_body(request_rec *r, char **body, apr_size_t *len)
{
    apr_size_t got = 0;
    char *buf = apr_palloc(r->pool, BCL_ADMIN_BODY_MAX + 1);

    if (ap_setup_client_block(r, REQUEST_CHUNKED_DECHUNK) != OK)
        return -1;
    if (ap_should_client_block(r)) {
        for (;;) {
            long n = ap_get_client_block(r, buf + got, BCL_ADMIN_BODY_MAX + 1 - got);
            if (n < 0)
                return -1;
            if (n == 0)
                break;
            got += (apr_size_t)n;
            if (got > BCL_ADMIN_BODY_MAX)
                return -1;
        }
    }
    buf[got] = '\0';
    *body = buf;
    *len = got;
    return 0;
}

static int handle_post(request_rec *r, const bcl_dir_conf_t *conf, const char *who)
{
    const char *why = NULL, *iss;
    char *body;
    apr_size_t len;
    bcl_admin_req_t q;
    bcl_store_status_t st;
    apr_time_t now;

    if (!is_json(apr_table_get(r->headers_in, "Content-Type")))
        return refuse(r, HTTP_UNSUPPORTED_MEDIA_TYPE, "the body must be Content-Type: application/json");
    if (read_body(r, &body, &len) != 0) {
        r->connection->keepalive = AP_CONN_CLOSE;
        return refuse(r, HTTP_BAD_REQUEST, apr_psprintf(r->pool, "the body is larger than %d bytes or could not "
                                                        "be read", BCL_ADMIN_BODY_MAX));
    }
    if (bcl_admin_request_parse(r->pool, body, len, &q, &why) != 0)
        return refuse(r, HTTP_BAD_REQUEST, why);
    iss = q.iss ? q.iss : conf->issuer;
    if (iss == NULL)
        return refuse(r, HTTP_BAD_REQUEST, "\"iss\" is required: this location has no BCLIssuer");

    now = apr_time_now();
    st = admin_revoke(r, &q, iss, now);
    if (st != BCL_STORE_OK)
        return store_failed(r, st, "revocation");
    ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r, BCL_TAG_ADMIN_REVOKED ": admin revocation by %s: %s%s%s iss=%s "
                  "(%s)", who, WHAT_NAMES[q.what], q.value ? "=" : "", q.value ? loggable(r, q.value) : "",
                  loggable(r, iss), WHAT_MEANS[q.what]);
    json_t *doc = json_pack("{s:s, s:s, s:s, s:I, s:s}", "revoked", WHAT_NAMES[q.what], "iss", iss,
                            "since", iso_time(r, now), "since_unix", (json_int_t)apr_time_sec(now),
                            "means", WHAT_MEANS[q.what]);
    if (q.value)
        json_object_set_new(doc, WHAT_NAMES[q.what], json_string(q.value));
    return answer(r, HTTP_OK, doc);
}

/* ?sub= or ?sid=, and optionally iss=; 0, or -1 with `*why`. */
static int parse_query(request_rec *r, bcl_admin_req_t *q, const char **why)
{
    char *s = r->args ? apr_pstrdup(r->pool, r->args) : NULL, *pair, *state = NULL;
    int named = 0;

    memset(q, 0, sizeof(*q));
    for (pair = s ? apr_strtok(s, "&", &state) : NULL; pair; pair = apr_strtok(NULL, "&", &state)) {
        char *eq = strchr(pair, '=');
        char *value = eq ? eq + 1 : pair + strlen(pair);
        const char **slot;
        if (eq)
            *eq = '\0';
        if (ap_unescape_urlencoded(pair) != OK || ap_unescape_urlencoded(value) != OK) {
            *why = "the query has invalid percent-encoding";
            return -1;
        }
        if (strcmp(pair, "iss") == 0) {
            slot = &q->iss;
        } else if (strcmp(pair, "sub") == 0 || strcmp(pair, "sid") == 0) {
            slot = named ? NULL : &q->value;
            q->what = pair[1] == 'u' ? BCL_ADMIN_SUB : BCL_ADMIN_SID;
            if (slot == NULL) {
                *why = "the query must name exactly one of sub or sid";
                return -1;
            }
            named = 1;
        } else {
            *why = apr_psprintf(r->pool, "unknown parameter %s (allowed: sub, sid, iss)", apr_pstrndup(r->pool, pair, 64));
            return -1;
        }
        if (*slot != NULL) {
            *why = apr_psprintf(r->pool, "%s is given more than once", pair);
            return -1;
        }
        if (*value == '\0' || strlen(value) > BCL_ADMIN_VALUE_MAX) {
            *why = apr_psprintf(r->pool, "%s must have 1 to %d characters", pair, BCL_ADMIN_VALUE_MAX);
            return -1;
        }
        json_t *utf8 = json_string(value);   /* NULL: not UTF-8, cannot be answered in JSON */
        if (utf8 == NULL) {
            *why = apr_psprintf(r->pool, "%s is not UTF-8", pair);
            return -1;
        }
        json_decref(utf8);
        *slot = value;
    }
    if (!named) {
        *why = "the query must name one of sub or sid (?sub=... or ?sid=...)";
        return -1;
    }
    return 0;
}

/* One revocation record as JSON: its time, or null. */
static json_t *record_time(request_rec *r, const bcl_record_t *rec, int found)
{
    return found ? json_string(iso_time(r, rec->t_server)) : json_null();
}

static int handle_get(request_rec *r, const bcl_dir_conf_t *conf, const char *who)
{
    const char *why = NULL, *iss;
    bcl_admin_req_t q;
    apr_int64_t lifetime = 0, now = apr_time_sec(apr_time_now());
    bcl_store_t *store = store_of(r, &lifetime);
    bcl_hkey_t key, cut;
    bcl_record_t rec, crec;
    int kind, ckind, found = 0, cfound = 0;
    bcl_store_status_t st = BCL_STORE_UNAVAILABLE;
    json_t *doc;

    if (parse_query(r, &q, &why) != 0)
        return refuse(r, HTTP_BAD_REQUEST, why);
    iss = q.iss ? q.iss : conf->issuer;
    if (iss == NULL)
        return refuse(r, HTTP_BAD_REQUEST, "iss is required: this location has no BCLIssuer");
    if (store != NULL && store->ops->revocation != NULL && key_of(q.what, iss, q.value, &kind, &key) == 0
        && key_of(BCL_ADMIN_ALL, iss, NULL, &ckind, &cut) == 0) {
        st = store->ops->revocation(store, kind, &key, now, &rec, &found);
        if (st == BCL_STORE_OK)
            st = store->ops->revocation(store, ckind, &cut, now, &crec, &cfound);
    }
    if (st != BCL_STORE_OK)
        return store_failed(r, st, "query");
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, BCL_TAG_ADMIN_QUERY ": admin query by %s: %s=%s iss=%s: %s%s", who,
                  WHAT_NAMES[q.what], loggable(r, q.value), loggable(r, iss), found ? "revoked" : "not revoked",
                  cfound ? " (the issuer has a cut-off)" : "");
    doc = json_pack("{s:s, s:s, s:b, s:o, s:o}", WHAT_NAMES[q.what], q.value, "iss", iss, "revoked", found,
                    "since", record_time(r, &rec, found), "issuer_cutoff", record_time(r, &crec, cfound));
    if (found)
        json_object_set_new(doc, "since_unix", json_integer((json_int_t)apr_time_sec(rec.t_server)));
    if (found)
        json_object_set_new(doc, "means", json_string(WHAT_MEANS[q.what]));
    return answer(r, HTTP_OK, doc);
}

int bcl_admin_handler(request_rec *r)
{
    const bcl_dir_conf_t *conf;
    const char *who;
    int denied;

    if (r->handler == NULL || strcmp(r->handler, BCL_ADMIN_HANDLER) != 0)
        return DECLINED;
    conf = ap_get_module_config(r->per_dir_config, &backchannel_logout_module);
    who = credential(r, conf, &denied);
    if (denied)
        return OK;
    if (r->method_number == M_GET)   /* and HEAD */
        return handle_get(r, conf, who);
    if (r->method_number == M_POST)
        return handle_post(r, conf, who);
    apr_table_setn(r->err_headers_out, "Allow", "GET, HEAD, POST");
    return refuse(r, HTTP_METHOD_NOT_ALLOWED, apr_psprintf(r->pool, "method %s is not allowed; use POST to revoke, "
                                                           "GET to ask", r->method));
}
