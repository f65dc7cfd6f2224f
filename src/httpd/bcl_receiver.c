/* The receiver: request -> bytes -> core verdict -> HTTP answer and log.
 * Answers follow Back-Channel Logout 1.0, section 2.8. */
#include <apr_strings.h>
#include <jansson.h>
#include <httpd.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>
#include "bcl_alert.h"
#include "bcl_config.h"
#include "bcl_form.h"
#include "bcl_keys.h"
#include "bcl_logtags.h"
#include "bcl_metrics.h"
#include "bcl_receiver.h"
#include "bcl_runtime.h"
#include "bcl_token.h"
#include "mod_backchannel_logout.h"

/* Every answer, success or not, must not be cached (section 2.8). */
static int answer(request_rec *r, int status, const char *error, const char *description)
{
    /* err_headers_out: kept whatever the status, and sent once. */
    apr_table_setn(r->err_headers_out, "Cache-Control", "no-store");
    if (status == HTTP_OK) {
        r->status = HTTP_OK;
        ap_set_content_length(r, 0);
        return OK;
    }

    json_t *obj = json_pack("{s:s, s:s}", "error", error, "error_description", description);
    char *text = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
    const char *body = text ? apr_pstrdup(r->pool, text) : "{\"error\":\"server_error\"}";
    free(text);
    json_decref(obj);

    r->status = status;
    ap_set_content_type(r, "application/json");
    ap_set_content_length(r, (apr_off_t)strlen(body));
    if (!r->header_only)
        ap_rputs(body, r);
    return OK;
}

/* A 500 or 503: counted by cause, and visible at LogLevel warn. */
static int server_error(request_rec *r, int status, int cause, const char *issuer, const char *error,
                        const char *description)
{
    static const char *const causes[BCL_RECEIVER_ERR_COUNT] = {
        "not_configured", "configuration", "keys_unavailable", "store"
    };
    bcl_metrics_t *m = bcl_metrics_of(r->server);
    if (m != NULL)
        BCL_METRIC_ADD(m->receiver_errors[cause], 1);
    bcl_alert(r, issuer, causes[cause],
              apr_psprintf(r->pool, "the back-channel logout receiver at %s answers %d: %s",
                           ap_escape_logitem(r->pool, r->uri), status, description));
    return answer(r, status, error, description);
}

static int refuse(request_rec *r, int status, bcl_reason_t reason, const char *detail)
{
    const char *desc = apr_pstrcat(r->pool, bcl_reason_code(reason), ": ",
                                   detail ? detail : bcl_reason_text(reason), NULL);
    return answer(r, status, "invalid_request", desc);
}

static const char *loggable(request_rec *r, const char *s)
{
    return s ? ap_escape_logitem(r->pool, s) : "-";
}

static int refuse_request(request_rec *r, int status, bcl_reason_t reason, const char *detail)
{
    bcl_metrics_token_refused(r->server, reason);
    bcl_alert(r, NULL, bcl_reason_code(reason),
              apr_psprintf(r->pool, "back-channel requests to %s are refused with %d",
                           ap_escape_logitem(r->pool, r->uri), status));
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                  BCL_TAG_REQUEST_REFUSED ": back-channel request refused: status=%d reason=%s detail=\"%s\"",
                  status, bcl_reason_code(reason), loggable(r, detail ? detail : bcl_reason_text(reason)));
    return refuse(r, status, reason, detail);
}

/* Reads the whole body, at most `max` bytes. Returns OK, HTTP_REQUEST_ENTITY_TOO_LARGE,
 * or another HTTP status when the body could not be read. */
static int read_body(request_rec *r, apr_off_t max, char **body, apr_size_t *len)
{
    const char *cl = apr_table_get(r->headers_in, "Content-Length");
    apr_size_t cap = (apr_size_t)max, got = 0;
    char *buf;
    int rc;

    if (cl != NULL) {
        char *end;
        apr_off_t declared;
        if (apr_strtoff(&declared, cl, &end, 10) == APR_SUCCESS && *end == '\0' && declared > max)
            return HTTP_REQUEST_ENTITY_TOO_LARGE;
    }
    if ((rc = ap_setup_client_block(r, REQUEST_CHUNKED_DECHUNK)) != OK)
        return rc;
    buf = apr_palloc(r->pool, cap + 1);
    if (ap_should_client_block(r)) {
        for (;;) {
            char scratch[1024];
            apr_size_t room = cap - got;
            long n = ap_get_client_block(r, room ? buf + got : scratch, room ? room : sizeof(scratch));
            if (n < 0)
                return HTTP_BAD_REQUEST;
            if (n == 0)
                break;
            if (room == 0)
                return HTTP_REQUEST_ENTITY_TOO_LARGE;
            got += (apr_size_t)n;
        }
    }
    buf[got] = '\0';
    *body = buf;
    *len = got;
    return OK;
}

static void log_verdict(request_rec *r, const bcl_verdict_t *v)
{
    if (v->reason == BCL_OK) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      BCL_TAG_ACCEPTED ": logout token accepted: iss=%s sub=%s sid=%s jti=%s alg=%s%s",
                      loggable(r, v->iss), loggable(r, v->sub), loggable(r, v->sid), loggable(r, v->jti),
                      loggable(r, v->alg), v->encrypted ? " encrypted" : "");
    } else {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      BCL_TAG_TOKEN_REFUSED ": logout token refused: reason=%s detail=\"%s\" iss=%s jti=%s alg=%s kid=%s",
                      bcl_reason_code(v->reason), loggable(r, v->detail), loggable(r, v->iss),
                      loggable(r, v->jti), loggable(r, v->alg), loggable(r, v->kid));
    }
}

/* The revocation is stored before the OP hears 200; if it cannot be, the
 * OP hears 503 and may retry (section 2.8). */
static int store_logout(request_rec *r, const bcl_policy_t *policy, const bcl_verdict_t *v)
{
    bcl_server_conf_t *sc = ap_get_module_config(r->server->module_config, &backchannel_logout_module);
    bcl_store_t *store = sc->rt ? sc->rt->store : NULL;
    apr_time_t now = apr_time_now();
    bcl_store_status_t st = BCL_STORE_UNAVAILABLE;
    bcl_logout_t l;
    int replayed = 0;

    memset(&l, 0, sizeof(l));
    l.has_sid = v->sid != NULL;
    if (bcl_hkey_jti(&l.jti_key, v->iss, v->jti) != 0
        || (v->sid != NULL && bcl_hkey_sid(&l.sid_key, v->iss, v->sid) != 0)
        || (v->sub != NULL && bcl_hkey_sub(&l.sub_key, v->iss, v->sub) != 0)) {
        /* never a stand-in key: nothing is stored, the OP may retry */
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      BCL_TAG_KEY_FAILED ": accepted logout token NOT stored: its keys could not be computed "
                      "(digest failed); answering 503 so the OP may retry; iss=%s jti=%s",
                      loggable(r, v->iss), loggable(r, v->jti));
        return server_error(r, HTTP_SERVICE_UNAVAILABLE, BCL_RECEIVER_ERR_STORE, v->iss, "temporarily_unavailable",
                            "store: the logout's keys could not be computed");
    }
    l.accepted_server = now;
    l.token_iat = v->iat;
    /* remembered as long as the token could be accepted again; every store
     * keeps a jti at most BCLRevocationLifetime (bcl_rules_jti_expires), so
     * a token with a far-future exp cannot hold a record for longer */
    l.jti_expires = (v->exp ? v->exp : v->iat + BCL_NO_EXP_MAX_AGE) + policy->clock_skew + 1;
    /* Such a token could be accepted again once its jti is forgotten; its
     * sub logout then must not end sessions begun after the first one. For
     * it alone, the logout's moment on this server's clock is no later than
     * its iat (plus the allowed skew). Ordinary tokens (exp within the
     * lifetime) keep the moment they were accepted, as the contract says:
     * an OP clock behind ours must not shrink what a logout ends. */
    if (store != NULL && l.jti_expires > apr_time_sec(now) + sc->rt->lifetime
        && l.accepted_server > apr_time_from_sec(v->iat + policy->clock_skew + 1))
        l.accepted_server = apr_time_from_sec(v->iat + policy->clock_skew + 1);

    if (store != NULL) {
        st = store->ops->apply_logout(store, &l, apr_time_sec(now), sc->rt->lifetime, &replayed);
        bcl_runtime_report_usage(r, store);
        /* 200 only once the revocation is on disk (a replay too: the first
         * attempt's sync may have failed); synced outside the store's lock */
        if (st == BCL_STORE_OK && bcl_runtime_make_durable(r->server) != 0)
            st = BCL_STORE_UNAVAILABLE;
    }
    if (st != BCL_STORE_OK) {
        bcl_metrics_t *m = bcl_metrics_of(r->server);
        if (m != NULL)
            BCL_METRIC_ADD(m->store_errors[BCL_STORE_OP_LOGOUT][st == BCL_STORE_FULL ? BCL_STORE_ERR_FULL
                                                                                     : BCL_STORE_ERR_UNAVAILABLE], 1);
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      BCL_TAG_STORE_FAILED ": accepted logout token NOT stored (%s): answering 503 so the OP may retry; "
                      "iss=%s jti=%s", st == BCL_STORE_FULL ? "the store is full: raise BCLStore capacity" : "the store is unavailable",
                      loggable(r, v->iss), loggable(r, v->jti));
        return server_error(r, HTTP_SERVICE_UNAVAILABLE, BCL_RECEIVER_ERR_STORE, v->iss, "temporarily_unavailable",
                            st == BCL_STORE_FULL ? "store: the revocation store is full"
                                                 : "store: the revocation store is unavailable");
    }
    if (replayed)
        BCL_COUNT(r->server, tokens_replayed);
    else {
        BCL_COUNT(r->server, tokens_accepted);
        BCL_COUNT(r->server, revocations[BCL_CHANNEL_BACK]);
    }
    if (replayed)
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, BCL_TAG_REPLAY ": logout token already applied (same jti); "
                      "nothing changed: iss=%s jti=%s", loggable(r, v->iss), loggable(r, v->jti));
    return answer(r, HTTP_OK, NULL, NULL);
}

int bcl_receiver_handler(request_rec *r)
{
    const bcl_dir_conf_t *conf;
    const bcl_policy_t *policy;
    bcl_policy_t fetched_policy;
    const bcl_keyset_t *keys = NULL;
    bcl_keys_use_t *keys_use = NULL;
    const char *missing = NULL, *token;
    apr_size_t body_len, token_len;
    bcl_verdict_t verdict;
    char *body;
    int rc;

    if (r->handler == NULL || strcmp(r->handler, BCL_RECEIVER_HANDLER) != 0)
        return DECLINED;

    conf = ap_get_module_config(r->per_dir_config, &backchannel_logout_module);
    policy = bcl_conf_policy(r->pool, conf, &keys, &missing);
    if (policy == NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      BCL_TAG_NOT_CONFIGURED ": the back-channel logout receiver at %s is not configured: %s is missing",
                      loggable(r, r->uri), missing);
        return server_error(r, HTTP_INTERNAL_SERVER_ERROR, BCL_RECEIVER_ERR_NOT_CONFIGURED, NULL, "server_error",
                            "the receiver is not configured");
    }

    if (r->method_number != M_POST) {
        apr_table_setn(r->err_headers_out, "Allow", "POST");
        return refuse_request(r, HTTP_METHOD_NOT_ALLOWED, BCL_R_METHOD,
                              apr_psprintf(r->pool, "method %s is not allowed; use POST", r->method));
    }
    if (!bcl_form_content_type_ok(apr_table_get(r->headers_in, "Content-Type")))
        return refuse_request(r, HTTP_BAD_REQUEST, BCL_R_CONTENT_TYPE, NULL);

    rc = read_body(r, bcl_conf_max_token_size(conf), &body, &body_len);
    if (rc == HTTP_REQUEST_ENTITY_TOO_LARGE) {
        r->connection->keepalive = AP_CONN_CLOSE;
        return refuse_request(r, rc, BCL_R_TOO_LARGE,
                              apr_psprintf(r->pool, "request body exceeds %" APR_OFF_T_FMT " bytes (BCLMaxTokenSize)",
                                           bcl_conf_max_token_size(conf)));
    }
    if (rc != OK)
        return refuse_request(r, HTTP_BAD_REQUEST, BCL_R_BODY, NULL);

    switch (bcl_form_logout_token(r->pool, body, body_len, &token, &token_len)) {
    case BCL_FORM_OK:
        break;
    case BCL_FORM_DUPLICATE:
        return refuse_request(r, HTTP_BAD_REQUEST, BCL_R_DUPLICATE_TOKEN, NULL);
    case BCL_FORM_MALFORMED:
        return refuse_request(r, HTTP_BAD_REQUEST, BCL_R_FORM, "logout_token has invalid percent-encoding");
    case BCL_FORM_EMPTY:
        return refuse_request(r, HTTP_BAD_REQUEST, BCL_R_NO_TOKEN, "logout_token is empty");
    default:
        return refuse_request(r, HTTP_BAD_REQUEST, BCL_R_NO_TOKEN, NULL);
    }

    if (conf->fetch.kind != BCL_KEYSRC_NONE) {
        /* keys fetched from the OP: completes the keys (and the discovered issuer) */
        const char *error = NULL, *why = NULL;
        fetched_policy = *policy;
        policy = &fetched_policy;
        rc = bcl_keys_for_request(r, conf, &fetched_policy, &keys, &keys_use, &error, &why);
        if (rc != OK)
            return server_error(r, rc, rc == HTTP_SERVICE_UNAVAILABLE ? BCL_RECEIVER_ERR_KEYS
                                : BCL_RECEIVER_ERR_CONFIGURATION, NULL, error, why);
    }

    bcl_token_validate(r->pool, token, token_len, keys, policy,
                       (long long)apr_time_sec(apr_time_now()), &verdict);
    if (keys_use != NULL && verdict.reason == BCL_R_UNKNOWN_KID) {
        /* the OP may have rotated its keys: one rate-limited refetch, then once more */
        if (bcl_keys_refetch_for_kid(r, keys_use, verdict.kid)) {
            const char *error = NULL, *why = NULL;
            rc = bcl_keys_for_request(r, conf, &fetched_policy, &keys, &keys_use, &error, &why);
            if (rc != OK)
                return server_error(r, rc, rc == HTTP_SERVICE_UNAVAILABLE ? BCL_RECEIVER_ERR_KEYS
                                    : BCL_RECEIVER_ERR_CONFIGURATION, verdict.iss, error, why);
            bcl_token_validate(r->pool, token, token_len, keys, policy,
                               (long long)apr_time_sec(apr_time_now()), &verdict);
        }
    }
    if (keys_use != NULL && !bcl_keys_ever_fetched(keys_use)
        && (verdict.reason == BCL_R_UNKNOWN_KID || verdict.reason == BCL_R_NO_KEY
            || verdict.reason == BCL_R_SIGNATURE)) {
        log_verdict(r, &verdict);
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, BCL_TAG_KEYS_UNAVAILABLE ": the token needs keys from %s and none "
                      "were ever fetched: answering 503 so the OP may retry", conf->fetch.url);
        return server_error(r, HTTP_SERVICE_UNAVAILABLE, BCL_RECEIVER_ERR_KEYS, verdict.iss, "temporarily_unavailable",
                            "keys: the OP's signing keys could not be fetched yet");
    }
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, BCL_TAG_TOKEN_DEBUG ": logout token of %" APR_SIZE_T_FMT
                  " bytes, reason=%s", token_len, bcl_reason_code(verdict.reason));
    log_verdict(r, &verdict);
    if (verdict.reason != BCL_OK) {
        bcl_metrics_token_refused(r->server, verdict.reason);
        bcl_alert(r, verdict.iss, bcl_reason_code(verdict.reason),
                  apr_psprintf(r->pool, "logout tokens are refused at %s: %s", ap_escape_logitem(r->pool, r->uri),
                               verdict.detail ? ap_escape_logitem(r->pool, verdict.detail)
                                              : bcl_reason_text(verdict.reason)));
        return refuse(r, HTTP_BAD_REQUEST, verdict.reason, verdict.detail);
    }
    return store_logout(r, policy, &verdict);
}
