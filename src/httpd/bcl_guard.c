/* The guard. Per request: find the app's session cookies, hash them, ask the
 * store once, and act. Nothing here allocates beyond the request pool or
 * touches the disk. */
#include <apr_strings.h>
#include <httpd.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>
#include "bcl_config.h"
#include "bcl_cookie.h"
#include "bcl_frontchannel.h"
#include "bcl_hasher.h"
#include "bcl_guard.h"
#include "bcl_guard_note.h"
#include "bcl_logtags.h"
#include "bcl_metrics.h"
#include "bcl_runtime.h"
#include "mod_backchannel_logout.h"

static int is_secure(request_rec *r)
{
    return strcmp(ap_http_scheme(r), "https") == 0;
}

/* Adds `name` to the names a refusal expires (`expire`, `n` so far), once,
 * when a Set-Cookie can carry it; returns the new count. */
static int note_expire(request_rec *r, const char **expire, int n, const char *name, apr_size_t len)
{
    if (!bcl_cookie_name_is_token(name, len) || n == MAX_GUARDED_COOKIES * 2)
        return n;
    for (int i = 0; i < n; i++) {
        if (strlen(expire[i]) == len && memcmp(expire[i], name, len) == 0)
            return n;
    }
    expire[n] = apr_pstrmemdup(r->pool, name, len);
    return n + 1;
}

/* The request's Cookie header. httpd joins the client's lines into one
 * entry; a module (mod_headers' RequestHeader add) may add another, which
 * the backend receives as another line: every entry is checked, joined
 * with ", " as httpd joins lines. (A loop over the entries: apr_table_do
 * costs about 600 instructions per request here.) */
static const char *request_cookies(request_rec *r)
{
    const apr_array_header_t *arr = apr_table_elts(r->headers_in);
    const apr_table_entry_t *e = (const apr_table_entry_t *)arr->elts;
    const char *joined = NULL;

    for (int i = 0; i < arr->nelts; i++) {
        if (e[i].key == NULL || (e[i].key[0] != 'C' && e[i].key[0] != 'c') || ap_cstr_casecmp(e[i].key, "Cookie") != 0)
            continue;
        joined = joined ? apr_pstrcat(r->pool, joined, ", ", e[i].val, NULL) : e[i].val;
    }
    return joined;
}

/* Removes every copy of the session cookies from the request: nothing the
 * request goes on to (an ErrorDocument's internal redirect, BCLOnRevoked
 * pass) gets them. */
static void strip_session_cookies(request_rec *r, const bcl_dir_conf_t *conf)
{
    const char *cookies = request_cookies(r);
    const char *rest = cookies ? bcl_cookie_remove(r->pool, cookies, conf->session_cookies) : NULL;
    if (rest != NULL)
        apr_table_setn(r->headers_in, "Cookie", rest);
    else
        apr_table_unset(r->headers_in, "Cookie");
}

/* Removes the session cookies from the request and expires them in the
 * response, then applies BCLOnRevoked. */
static int refuse_session(request_rec *r, const bcl_dir_conf_t *conf, guard_note_t *note,
                          const char *why, bcl_guard_why_t reason)
{
    /* the log tag and the status counter both follow the reason (BCL_GUARD_WHY_*) */
    static const char *const tags[BCL_GUARD_WHY_COUNT] = {
        [BCL_GUARD_WHY_REVOKED] = BCL_TAG_SESSION_REVOKED,
        [BCL_GUARD_WHY_UNBOUND] = BCL_TAG_SESSION_UNBOUND,
        [BCL_GUARD_WHY_SUSPICIOUS] = BCL_TAG_COOKIE_SUSPICIOUS,
    };
    int action = conf->on_revoked ? conf->on_revoked : BCL_ON_REVOKED_DENY;
    const char *expire[MAX_GUARDED_COOKIES * 2];
    int nexpire = 0;

    strip_session_cookies(r, conf);
    /* the names to expire: the configured name and the spelling carried of
     * each copy (worked out here, not on every request) */
    for (int i = 0; i < note->nseen && i < MAX_GUARDED_COOKIES; i++) {
        nexpire = note_expire(r, expire, nexpire, note->seen[i].name, strlen(note->seen[i].name));
        nexpire = note_expire(r, expire, nexpire, note->seen[i].raw_name, note->seen[i].raw_nlen);
    }
    for (int i = 0; i < nexpire && note->n_expiry < MAX_GUARDED_COOKIES * 2; i++) {
        const char *v = bcl_cookie_expiring(r->pool, expire[i], conf->cookie_path, conf->cookie_domain,
                                            is_secure(r));
        note->expiry_names[note->n_expiry] = expire[i];
        note->expiry_values[note->n_expiry++] = v;
        apr_table_addn(r->err_headers_out, "Set-Cookie", v);
    }
    apr_table_setn(r->err_headers_out, "Cache-Control", "no-store");
    note->expired_by_us = 1;
    note->live = 0;

    bcl_metrics_t *m = bcl_metrics_of(r->server);
    if (m != NULL) {
        int act = action == BCL_ON_REVOKED_PASS ? BCL_GUARD_ACT_PASS
                  : action == BCL_ON_REVOKED_REDIRECT ? BCL_GUARD_ACT_REDIRECT : BCL_GUARD_ACT_DENY;
        BCL_METRIC_ADD(m->sessions_refused[reason][act], 1);
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "%s: session refused at the edge%s: %s; action=%s",
                  tags[reason], r->main != NULL ? " (subrequest)" : "", why,
                  action == BCL_ON_REVOKED_PASS ? "pass" : action == BCL_ON_REVOKED_REDIRECT ? "redirect" : "deny");
    switch (action) {
    case BCL_ON_REVOKED_PASS:
        return DECLINED;
    case BCL_ON_REVOKED_REDIRECT:
        apr_table_setn(r->err_headers_out, "Location", conf->revoked_url);
        return HTTP_MOVED_TEMPORARILY;
    default:
        return conf->revoked_status ? conf->revoked_status : HTTP_UNAUTHORIZED;
    }
}

/* The identity an auth module in front put into the environment: 1 with
 * `*id`, 0 when there is none, -1 when its keys cannot be computed. */
static int env_identity(request_rec *r, const bcl_runtime_t *rt, const bcl_dir_conf_t *conf, bcl_identity_t *id)
{
    const char *iss = apr_table_get(r->subprocess_env, conf->env_iss);
    const char *sid = apr_table_get(r->subprocess_env, conf->env_sid);
    const char *sub = apr_table_get(r->subprocess_env, conf->env_sub);
    const char *iat = apr_table_get(r->subprocess_env, conf->env_iat);

    memset(id, 0, sizeof(*id));
    if (iss == NULL || *iss == '\0' || ((sid == NULL || !*sid) && (sub == NULL || !*sub)))
        return 0;
    if (sid != NULL && *sid && key_sid(rt, &id->sid_key, iss, sid) != 0)
        return -1;
    if (sub != NULL && *sub && key_sub(rt, &id->sub_key, iss, sub) != 0)
        return -1;
    /* the issuer's cut-off key: computed with BCLIssuer when it is that one */
    if (conf->issuer != NULL && strcmp(iss, conf->issuer) == 0)
        id->iss_key = conf->issuer_cutoff;
    else if (key_iss(rt, &id->iss_key, iss) != 0)
        return -1;
    id->began_op = iat ? apr_atoi64(iat) : 0;
    return 1;
}

/* How many copies of configured cookie `name` the request carried, in every
 * spelling, empty ones included. */
static int same_name_copies(const bcl_cookie_copy_t *copies, int n, const char *name)
{
    int count = 0;
    for (int i = 0; i < n && i < MAX_GUARDED_COOKIES; i++)
        count += strcmp(copies[i].name, name) == 0;
    return count;
}

static const char *odd_reasons(apr_pool_t *p, int odd)
{
    const char *s = NULL;
    if (odd & BCL_COOKIE_ODD_NAME)
        s = "a name spelled otherwise than configured";
    if (odd & BCL_COOKIE_ODD_VALUE)
        s = apr_pstrcat(p, s ? s : "", s ? ", " : "", "a value with quotes, escapes, odd %XX or bytes outside cookie-octet", NULL);
    if (odd & BCL_COOKIE_ODD_SPLIT)
        s = apr_pstrcat(p, s ? s : "", s ? ", " : "", "a cookie inside another cookie's value", NULL);
    if (odd & BCL_COOKIE_ODD_MULTI)
        s = apr_pstrcat(p, s ? s : "", s ? ", " : "", "several copies with different values", NULL);
    return s ? s : "unknown";
}

/* A key that cannot be computed is never replaced by a stand-in: the
 * request is refused with 503, whatever BCLStoreUnavailable says (the store
 * may be fine; this server cannot ask it). Not as a revoked session: the
 * session may be live, and expiring its cookies for a fault of ours would
 * log the user out. */
static int refuse_unhashable(request_rec *r, const bcl_dir_conf_t *conf, guard_note_t *note, const char *what)
{
    /* the response side must not bind or unbind by an incomplete key list */
    note->count = 0;
    /* unchecked: an ErrorDocument the 503 leads to must not get them */
    strip_session_cookies(r, conf);
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, BCL_TAG_HASH_REFUSED ": %s could not be hashed (digest failed); "
                  "request refused with 503", what);
    return HTTP_SERVICE_UNAVAILABLE;
}

int bcl_guard_fixup(request_rec *r)
{
    const bcl_dir_conf_t *conf = ap_get_module_config(r->per_dir_config, &backchannel_logout_module);
    const char *cookies;
    bcl_session_state_t state = BCL_SESSION_UNBOUND;
    int any_unbound = 0;    /* one copy the store does not know, beside bound ones */
    bcl_store_status_t st = BCL_STORE_OK;
    const bcl_runtime_t *rt;
    bcl_store_t *store;
    guard_note_t *note;
    apr_int64_t now;

    /* Subrequests (mod_include's include virtual, mod_rewrite's look-ups,
     * mod_dir, mod_negotiation) are checked too: their content must not
     * reach a logged-out session through a page outside the guard. */
    if (conf->session_cookies == NULL)
        return DECLINED;
    /* the front-channel logout handler reads the cookies itself: a cookie
     * already revoked must not stop it from revoking a sid it is given */
    if (bcl_frontchannel_is_handler(r))
        return DECLINED;
    cookies = request_cookies(r);
    rt = guard_runtime(r);
    if (cookies == NULL || rt == NULL)
        return DECLINED;
    store = rt->store;
    /* not zeroed whole (~3.5 KB): every per-entry slot below `count` (and
     * every copy below `nseen`) is written before it is read */
    note = apr_palloc(r->pool, sizeof(*note));
    note->count = note->live = note->expired_by_us = note->nseen = note->n_expiry = 0;
    memset(&note->id, 0, sizeof(note->id));
    ap_set_module_config(r->request_config, &backchannel_logout_module, note);

    /* every copy, in every spelling some backend reads as a configured
     * cookie; every form of its value (bcl_cookie_canon.h) */
    bcl_cookie_copy_t *copies = note->seen;
    int seen = bcl_cookie_copies(cookies, conf->session_cookies, copies, MAX_GUARDED_COOKIES);
    /* env mode looks the identity up, never the cookie: its values are
     * counted (an empty one is no session), not hashed */
    int hash_values = conf->bind_mode != BCL_BIND_ENV;
    int odd = 0, overflow = 0;
    const char *unhashable = NULL;        /* a cookie whose key could not be computed */
    int entry_copy[MAX_COOKIE_KEYS];      /* which reading of which copy each entry (form) is of: 2 * copy + reading */
    const char *odd_name = NULL;
    for (int i = 0; i < seen && i < MAX_GUARDED_COOKIES; i++) {
        const char *forms[BCL_COOKIE_MAX_FORMS];
        apr_size_t lens[BCL_COOKIE_MAX_FORMS];
        odd |= copies[i].odd;
        if (copies[i].odd && odd_name == NULL)
            odd_name = copies[i].name;
        note->nseen = i + 1;
        /* the value as cut at ',', then as a parser that splits at ';'
         * only reads it (PHP's session id "abc,def"): entries of one copy */
        const char *vals[2] = { copies[i].value, copies[i].value_semi };
        apr_size_t vlens[2] = { copies[i].vlen, copies[i].vlen_semi };
        for (int rd = 0; rd < 2 && !overflow; rd++) {
            int n = vlens[rd] ? bcl_cookie_value_forms(r->pool, vals[rd], vlens[rd], forms, lens,
                                                       BCL_COOKIE_MAX_FORMS) : 0;
            for (int j = 0; j < n; j++) {
                if (lens[j] == 0)           /* `""`: no session, like an empty value */
                    continue;
                if (note->count == MAX_COOKIE_KEYS) {
                    overflow = 1;
                    break;
                }
                if (hash_values
                    && key_cookie(rt, &note->keys[note->count], copies[i].name, forms[j], lens[j]) != 0) {
                    if (unhashable == NULL)
                        unhashable = copies[i].name;
                    continue;
                }
                note->looked_up[note->count] = 0;
                note->cut_only[note->count] = rd == 0 && copies[i].value_semi != NULL;
                note->names[note->count] = copies[i].name;
                note->copies[note->count] = same_name_copies(copies, seen, copies[i].name);
                entry_copy[note->count] = 2 * i + rd;
                note->count++;
            }
        }
    }
    if (seen == 0)
        return DECLINED;
    /* As many copies of session cookies as we check, or more: refuse rather
     * than let an unchecked copy through. */
    if (seen >= MAX_GUARDED_COOKIES || overflow)
        return refuse_session(r, conf, note, "too many session cookies in one request",
                              BCL_GUARD_WHY_REVOKED);
    if (odd) {
        const char *what = odd_reasons(r->pool, odd);
        if (conf->suspicious_cookie != BCL_SUSPICIOUS_ALLOW)
            return refuse_session(r, conf, note, apr_pstrcat(r->pool, "cookie ", odd_name, " in a form no browser "
                                                             "sends back (", what, "; BCLSuspiciousCookie deny)", NULL),
                                  BCL_GUARD_WHY_SUSPICIOUS);
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, BCL_TAG_COOKIE_ODD_ALLOWED ": cookie %s in an unusual form (%s) "
                      "is checked in every form (BCLSuspiciousCookie allow)", odd_name, what);
    }
    if (unhashable != NULL)
        return refuse_unhashable(r, conf, note, apr_pstrcat(r->pool, "a value of session cookie ", unhashable, NULL));
    if (note->count == 0)
        return DECLINED;

    now = apr_time_sec(apr_time_now());
    if (conf->bind_mode == BCL_BIND_ENV) {
        bcl_identity_t id;
        int found = env_identity(r, rt, conf, &id);
        if (found < 0)
            return refuse_unhashable(r, conf, note, "the session identity in the environment (BCLBindFrom env)");
        if (found)
            st = store->ops->identity_state(store, &id, now, &state);
    } else {
        for (int i = 0; i < note->count && st == BCL_STORE_OK && state != BCL_SESSION_REVOKED; i++) {
            bcl_session_state_t s = BCL_SESSION_UNBOUND;
            bcl_identity_t id;
            memset(&id, 0, sizeof(id));
            id.iss_key = conf->issuer_cutoff;  /* for a binding that names no issuer */
            st = store->ops->cookie_state(store, &note->keys[i], now, &s, &id);
            if (st == BCL_STORE_OK) {
                note->looked_up[i] = 1;
                note->states[i] = s;
                if (s != BCL_SESSION_UNBOUND)
                    note->ids[i] = id;
            }
            if (s == BCL_SESSION_LIVE && !note->live) {
                note->live = 1;
                note->id = id;
            }
            if (s > state)
                state = s;
        }
    }

    if (st != BCL_STORE_OK) {
        /* a store that is down fails every request: one line per interval
         * (network stores), each saying how many were not logged */
        apr_uint32_t suppressed = 0;
        int open = conf->store_unavailable == BCL_STORE_OPEN;
        int level = bcl_runtime_log_allowed(store, &suppressed) ? APLOG_ERR : APLOG_DEBUG;
        bcl_metrics_t *m = bcl_metrics_of(r->server);
        if (m != NULL)
            BCL_METRIC_ADD(m->guard_store_unavailable[open ? 1 : 0], 1);
        ap_log_rerror(APLOG_MARK, level, 0, r, BCL_TAG_STORE_DOWN ": the revocation store is unavailable; "
                      "request %s (BCLStoreUnavailable %s); %u similar request(s) not logged since the last report",
                      open ? "let through" : "refused", open ? "open" : "closed", suppressed);
        if (open)
            return DECLINED;
        /* unchecked: an ErrorDocument the 503 leads to must not get them */
        strip_session_cookies(r, conf);
        return HTTP_SERVICE_UNAVAILABLE;
    }
    if (state == BCL_SESSION_REVOKED)
        return refuse_session(r, conf, note, "the session was logged out at the OP", BCL_GUARD_WHY_REVOKED);
    /* A copy is unknown when none of its value's forms is bound (one form
     * bound is enough: the app set it that way). For a value that runs over
     * ',' to ';', the forms of that whole value (what PHP, Werkzeug and
     * Node read; what the app set and the guard bound): the part before
     * the ',' bound to some session does not vouch for it. */
    for (int c = 0; c < 2 * seen && c < 2 * MAX_GUARDED_COOKIES && !any_unbound && conf->bind_mode != BCL_BIND_ENV;
         c++) {
        int entries = 0, bound = 0;
        if (c % 2 == 0 && copies[c / 2].value_semi != NULL)
            continue;
        for (int i = 0; i < note->count; i++) {
            if (entry_copy[i] != c)
                continue;
            entries++;
            bound |= note->looked_up[i] && note->states[i] != BCL_SESSION_UNBOUND;
        }
        any_unbound = entries > 0 && !bound;
    }
    /* Under deny, an unknown copy is refused even beside a bound one: the
     * app may well use the unknown one (PHP takes the first). */
    if ((state == BCL_SESSION_UNBOUND || any_unbound) && conf->unbound == BCL_UNBOUND_DENY)
        return refuse_session(r, conf, note, "the session is unknown to the store (BCLUnboundSession deny)",
                              BCL_GUARD_WHY_UNBOUND);
    if (r->main == NULL) {
        BCL_COUNT(r->server, sessions_passed);
        if (state == BCL_SESSION_UNBOUND)
            BCL_COUNT(r->server, sessions_passed_unbound);
    }
    return DECLINED;
}
