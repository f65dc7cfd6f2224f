/* Front-channel logout: SetHandler frontchannel-logout (OpenID Connect
 * Front-Channel Logout 1.0; docs/frontchannel.md). The OP's logout page
 * loads this location in an iframe of the user's browser, with `iss` and
 * `sid` in the query (Entra ID: `sid` only). The revocation is the one a
 * back-channel logout naming that sid writes (bcl_rules_session_logout);
 * without `sid`, the sessions the browser's own cookies are bound to are
 * revoked. The guard does not run here (bcl_guard.c asks
 * bcl_frontchannel_is_handler): this handler reads the cookies itself, and
 * its expiring Set-Cookie headers must not be taken for the app's. */
#include <apr_strings.h>
#include <apr_general.h>
#include <apr_escape.h>
#include <httpd.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>
#include "bcl_config.h"
#include "bcl_cookie.h"
#include "bcl_cookie_canon.h"
#include "bcl_frontchannel.h"
#include "bcl_logtags.h"
#include "bcl_metrics.h"
#include "bcl_rules.h"
#include "bcl_runtime.h"
#include "mod_backchannel_logout.h"

/* As many copies and keys as the guard checks (bcl_guard.c). */
#define FC_MAX_COPIES 8
#define FC_MAX_KEYS 32

int bcl_frontchannel_is_handler(const request_rec *r)
{
    return r->handler != NULL && strcmp(r->handler, BCL_FRONTCHANNEL_HANDLER) == 0;
}

static const char *loggable(request_rec *r, const char *s)
{
    return s ? ap_escape_logitem(r->pool, s) : "-";
}

static int is_secure(request_rec *r)
{
    return strcmp(ap_http_scheme(r), "https") == 0;
}

/* Every answer: never cached; a short body of `type`. */
static int answer(request_rec *r, int status, const char *type, const char *body)
{
    apr_table_setn(r->err_headers_out, "Cache-Control", "no-cache, no-store");
    apr_table_setn(r->err_headers_out, "Pragma", "no-cache");
    r->status = status;
    ap_set_content_type(r, type);
    ap_set_content_length(r, (apr_off_t)strlen(body));
    if (!r->header_only)
        ap_rputs(body, r);
    return OK;
}

static int refuse(request_rec *r, int status, const char *why)
{
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, BCL_TAG_FC_REFUSED ": front-channel logout request refused: "
                  "status=%d %s", status, why);
    return answer(r, status, "text/plain; charset=utf-8", apr_pstrcat(r->pool, why, "\n", NULL));
}

/* The success page, with an expiring Set-Cookie for every session cookie
 * name (SameSite=None so that a third-party iframe may clear it, where the
 * browser lets it). */
static int logged_out(request_rec *r, const bcl_dir_conf_t *conf)
{
    static const char page[] =
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Logged out</title></head>"
        "<body><p>You have been logged out.</p></body></html>\n";
    for (int i = 0; conf->session_cookies != NULL && i < conf->session_cookies->nelts; i++) {
        const char *name = APR_ARRAY_IDX(conf->session_cookies, i, const char *);
        const char *v;
        if (!bcl_cookie_name_is_token(name, strlen(name)))
            continue;
        v = bcl_cookie_expiring(r->pool, name, conf->cookie_path, conf->cookie_domain, is_secure(r));
        if (is_secure(r))
            v = apr_pstrcat(r->pool, v, "; SameSite=None", NULL);
        apr_table_addn(r->headers_out, "Set-Cookie", v);
    }
    return answer(r, HTTP_OK, "text/html; charset=utf-8", page);
}

/* The query's iss and sid, percent-decoded; 0, or -1 with `*why`. */
static int parse_query(request_rec *r, const char **iss, const char **sid, const char **why)
{
    char *q = r->args ? apr_pstrdup(r->pool, r->args) : NULL, *pair, *state = NULL;

    *iss = *sid = NULL;
    for (pair = q ? apr_strtok(q, "&", &state) : NULL; pair; pair = apr_strtok(NULL, "&", &state)) {
        char *eq = strchr(pair, '=');
        char *value = eq ? eq + 1 : pair + strlen(pair);
        const char **slot;
        if (eq)
            *eq = '\0';
        if (ap_unescape_urlencoded(pair) != OK) {
            *why = "a parameter name has invalid percent-encoding";
            return -1;
        }
        slot = strcmp(pair, "iss") == 0 ? iss : strcmp(pair, "sid") == 0 ? sid : NULL;
        if (slot == NULL)
            continue;
        if (*slot != NULL) {
            *why = apr_psprintf(r->pool, "%s is given more than once", pair);
            return -1;
        }
        if (ap_unescape_urlencoded(value) != OK) {
            *why = apr_psprintf(r->pool, "%s has invalid percent-encoding", pair);
            return -1;
        }
        if (*value == '\0') {
            *why = apr_psprintf(r->pool, "%s is empty", pair);
            return -1;
        }
        *slot = value;
    }
    return 0;
}

static bcl_store_t *store_of(request_rec *r, apr_int64_t *lifetime)
{
    bcl_server_conf_t *sc = ap_get_module_config(r->server->module_config, &backchannel_logout_module);
    if (sc->rt == NULL || sc->rt->store == NULL)
        return NULL;
    *lifetime = sc->rt->lifetime;
    return sc->rt->store;
}

static void count_store_error(request_rec *r, bcl_store_status_t st)
{
    bcl_metrics_t *m = bcl_metrics_of(r->server);
    if (m != NULL)
        BCL_METRIC_ADD(m->store_errors[BCL_STORE_OP_LOGOUT][st == BCL_STORE_FULL ? BCL_STORE_ERR_FULL
                                                                                 : BCL_STORE_ERR_UNAVAILABLE], 1);
}

/* Revokes the session of `id` as a back-channel logout would, durably.
 * BCL_STORE_OK only once it is stored (and on disk, for a durable store). */
static bcl_store_status_t revoke_identity(request_rec *r, const char *issuer, const bcl_identity_t *id)
{
    apr_int64_t lifetime = 0;
    bcl_store_t *store = store_of(r, &lifetime);
    apr_time_t now = apr_time_now();
    unsigned char nonce[16];
    bcl_hkey_t once;
    bcl_logout_t l;
    bcl_store_status_t st;
    int replayed = 0;

    if (store == NULL || apr_generate_random_bytes(nonce, sizeof(nonce)) != APR_SUCCESS)
        return BCL_STORE_UNAVAILABLE;
    /* a key no token's jti can take: the time and 128 random bits */
    if (bcl_hkey_jti(&once, issuer, apr_psprintf(r->pool, "frontchannel-logout %" APR_TIME_T_FMT " %s", now,
                                                 apr_pescape_hex(r->pool, nonce, sizeof(nonce), 0))) != 0)
        return BCL_STORE_UNAVAILABLE;   /* no key can be computed: never a wrong one (503) */
    if (!bcl_rules_session_logout(&l, id, &once, now, apr_time_sec(now)))
        return BCL_STORE_OK;
    st = store->ops->apply_logout(store, &l, apr_time_sec(now), lifetime, &replayed);
    bcl_runtime_report_usage(r, store);
    if (st == BCL_STORE_OK && bcl_runtime_make_durable(r->server) != 0)
        st = BCL_STORE_UNAVAILABLE;
    if (st != BCL_STORE_OK)
        count_store_error(r, st);
    else
        BCL_COUNT(r->server, revocations[BCL_CHANNEL_FRONT]);
    return st;
}

static int store_failed(request_rec *r, bcl_store_status_t st, const char *issuer, const char *sid)
{
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, BCL_TAG_FC_STORE_FAILED ": front-channel logout NOT stored (%s): "
                  "answering 503; iss=%s sid=%s", st == BCL_STORE_FULL ? "the store is full: raise BCLStore capacity"
                  : "the store is unavailable", loggable(r, issuer), loggable(r, sid));
    return answer(r, HTTP_SERVICE_UNAVAILABLE, "text/plain; charset=utf-8",
                  "The logout could not be recorded; please try again.\n");
}

static int same_identity(const bcl_identity_t *a, const bcl_identity_t *b)
{
    return memcmp(&a->sid_key, &b->sid_key, sizeof(a->sid_key)) == 0
           && memcmp(&a->sub_key, &b->sub_key, sizeof(a->sub_key)) == 0;
}

/* Without sid: the sessions this browser's session cookies are bound to,
 * found the way the guard finds them (every copy, every form of its value). */
static int logout_by_cookies(request_rec *r, const bcl_dir_conf_t *conf, const char *issuer)
{
    const char *cookies = apr_table_get(r->headers_in, "Cookie");
    bcl_identity_t found[FC_MAX_KEYS];
    const char *found_name[FC_MAX_KEYS];
    bcl_cookie_copy_t copies[FC_MAX_COPIES];
    apr_int64_t lifetime = 0;
    bcl_store_t *store = store_of(r, &lifetime);
    apr_int64_t now = apr_time_sec(apr_time_now());
    int seen = 0, keys = 0, nfound = 0;

    if (cookies != NULL && conf->session_cookies != NULL)
        seen = bcl_cookie_copies(cookies, conf->session_cookies, copies, FC_MAX_COPIES);
    if (seen > 0 && store == NULL)
        return store_failed(r, BCL_STORE_UNAVAILABLE, issuer, NULL);
    /* each copy's value as cut at ',' and as read up to ';' (value_semi) */
    for (int k2 = 0; k2 < seen * 2 && k2 < FC_MAX_COPIES * 2; k2++) {
        int i = k2 / 2;
        const char *val = k2 % 2 ? copies[i].value_semi : copies[i].value;
        apr_size_t vlen = k2 % 2 ? copies[i].vlen_semi : copies[i].vlen;
        const char *forms[BCL_COOKIE_MAX_FORMS];
        apr_size_t lens[BCL_COOKIE_MAX_FORMS];
        int n = vlen ? bcl_cookie_value_forms(r->pool, val, vlen, forms, lens, BCL_COOKIE_MAX_FORMS) : 0;
        for (int j = 0; j < n && keys < FC_MAX_KEYS; j++) {
            bcl_session_state_t state = BCL_SESSION_UNBOUND;
            bcl_identity_t id;
            bcl_hkey_t key;
            bcl_store_status_t st;
            int dup = 0;
            memset(&id, 0, sizeof(id));
            if (lens[j] == 0)
                continue;
            keys++;
            if (bcl_hkey_cookie(&key, copies[i].name, forms[j], lens[j]) != 0)
                return store_failed(r, BCL_STORE_UNAVAILABLE, issuer, NULL);
            st = store->ops->cookie_state(store, &key, now, &state, &id);
            if (st != BCL_STORE_OK)
                return store_failed(r, st, issuer, NULL);
            if (state == BCL_SESSION_UNBOUND)
                continue;
            for (int k = 0; k < nfound && !dup; k++)
                dup = same_identity(&found[k], &id);
            if (!dup) {
                found_name[nfound] = copies[i].name;
                found[nfound++] = id;
            }
        }
    }
    if (nfound == 0) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, BCL_TAG_FC_NOTHING ": front-channel logout without sid and "
                      "without a bound session cookie (%d cookie(s) of BCLSessionCookie sent): nothing revoked; "
                      "iss=%s", seen, loggable(r, issuer));
        return logged_out(r, conf);
    }
    for (int k = 0; k < nfound; k++) {
        bcl_store_status_t st = revoke_identity(r, issuer, &found[k]);
        if (st != BCL_STORE_OK)
            return store_failed(r, st, issuer, NULL);
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, BCL_TAG_FC_COOKIE_REVOKED ": front-channel logout without sid: "
                      "the session cookie %s's session revoked (%s); iss=%s", loggable(r, found_name[k]),
                      bcl_hkey_is_zero(&found[k].sid_key) ? "bound by sub alone: every session of that sub with "
                      "no known sid" : "its sid", loggable(r, issuer));
    }
    return logged_out(r, conf);
}

int bcl_frontchannel_handler(request_rec *r)
{
    const bcl_dir_conf_t *conf;
    const char *iss, *sid, *why = NULL;
    bcl_identity_t id;
    bcl_store_status_t st;

    if (!bcl_frontchannel_is_handler(r))
        return DECLINED;
    conf = ap_get_module_config(r->per_dir_config, &backchannel_logout_module);
    if (conf->issuer == NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, BCL_TAG_FC_NOT_CONFIGURED ": the front-channel logout location "
                      "%s is not configured: BCLIssuer is missing", loggable(r, r->uri));
        return answer(r, HTTP_INTERNAL_SERVER_ERROR, "text/plain; charset=utf-8",
                      "The logout endpoint is not configured.\n");
    }
    if (r->method_number != M_GET) {   /* M_GET covers HEAD */
        apr_table_setn(r->err_headers_out, "Allow", "GET, HEAD");
        return refuse(r, HTTP_METHOD_NOT_ALLOWED, apr_psprintf(r->pool, "method %s is not allowed; use GET",
                                                               loggable(r, r->method)));
    }
    if (parse_query(r, &iss, &sid, &why) != 0)
        return refuse(r, HTTP_BAD_REQUEST, why);
    if (iss != NULL && strcmp(iss, conf->issuer) != 0)
        return refuse(r, HTTP_BAD_REQUEST, apr_psprintf(r->pool, "iss %s is not this location's issuer %s",
                                                        loggable(r, iss), loggable(r, conf->issuer)));
    if (sid == NULL)
        return logout_by_cookies(r, conf, conf->issuer);

    memset(&id, 0, sizeof(id));
    st = bcl_hkey_sid(&id.sid_key, conf->issuer, sid) == 0 ? revoke_identity(r, conf->issuer, &id)
                                                            : BCL_STORE_UNAVAILABLE;
    if (st != BCL_STORE_OK)
        return store_failed(r, st, conf->issuer, sid);
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, BCL_TAG_FC_SID_REVOKED ": front-channel logout: session revoked: "
                  "iss=%s sid=%s%s", loggable(r, conf->issuer), loggable(r, sid),
                  iss == NULL ? " (no iss in the request: the location's issuer)" : "");
    return logged_out(r, conf);
}
