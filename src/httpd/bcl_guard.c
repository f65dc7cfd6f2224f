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
#include "bcl_logtags.h"
#include "bcl_metrics.h"
#include "bcl_runtime.h"
#include "mod_backchannel_logout.h"

#define MAX_GUARDED_COOKIES 8
/* A value stands for several byte strings (bcl_cookie_value_forms): one key
 * per form. More than this in one request is refused. */
#define MAX_COOKIE_KEYS 32

/* What the fixup learned, for the response filter. Entry i is one hash of
 * one copy of cookie names[i] the request carried. */
typedef struct {
    int count;
    const char *names[MAX_COOKIE_KEYS];       /* the configured name of each key */
    bcl_hkey_t keys[MAX_COOKIE_KEYS];         /* hashes of every form of the request's cookie values */
    int live;                                 /* a cookie is bound to a live session */
    bcl_identity_t id;                        /* that session's identity */
    int expired_by_us;                        /* we sent expiring Set-Cookies (pass mode) */
    int nseen;                                /* the request's copies of session cookies: a */
    bcl_cookie_copy_t seen[MAX_GUARDED_COOKIES]; /* refusal expires their names and spellings */
    /* The response side's rules need, per entry: */
    int copies[MAX_COOKIE_KEYS];              /* copies of names[i] in the request, in every spelling,
                                               * empty ones included (not entries: one copy gives
                                               * one entry per form of its value) */
    int looked_up[MAX_COOKIE_KEYS];           /* states[i] and ids[i] are the store's answer */
    bcl_session_state_t states[MAX_COOKIE_KEYS];
    bcl_identity_t ids[MAX_COOKIE_KEYS];      /* keys[i]'s binding when states[i] != UNBOUND */
    /* the expiring Set-Cookie values the guard added, to tell them from the app's */
    int n_expiry;
    const char *expiry_names[MAX_GUARDED_COOKIES * 2];
    const char *expiry_values[MAX_GUARDED_COOKIES * 2];
} guard_note_t;

/* The per-entry arrays must follow keys[] wherever its size goes. */
#define BCL_NOTE_LEN(field, type) (sizeof(((guard_note_t *)0)->field) / sizeof(type))
_Static_assert(BCL_NOTE_LEN(copies, int) == BCL_NOTE_LEN(keys, bcl_hkey_t)
               && BCL_NOTE_LEN(looked_up, int) == BCL_NOTE_LEN(keys, bcl_hkey_t)
               && BCL_NOTE_LEN(states, bcl_session_state_t) == BCL_NOTE_LEN(keys, bcl_hkey_t)
               && BCL_NOTE_LEN(ids, bcl_identity_t) == BCL_NOTE_LEN(keys, bcl_hkey_t)
               && BCL_NOTE_LEN(names, const char *) == BCL_NOTE_LEN(keys, bcl_hkey_t),
               "guard_note_t: every per-entry array has one slot per key");

static const bcl_runtime_t *guard_runtime(request_rec *r)
{
    bcl_server_conf_t *sc = ap_get_module_config(r->server->module_config, &backchannel_logout_module);
    return sc->rt != NULL && sc->rt->store != NULL ? sc->rt : NULL;
}

/* The keys, with the child's hasher (bcl_hasher.h): the same keys as
 * bcl_hkey_*, which serve where there is none (never in a child). */
static int key_cookie(const bcl_runtime_t *rt, bcl_hkey_t *out, const char *name, const char *v, apr_size_t len)
{
    return rt->hasher ? bcl_hasher_cookie(rt->hasher, out, name, v, len) : bcl_hkey_cookie(out, name, v, len);
}

static int key_sid(const bcl_runtime_t *rt, bcl_hkey_t *out, const char *iss, const char *sid)
{
    return rt->hasher ? bcl_hasher_sid(rt->hasher, out, iss, sid) : bcl_hkey_sid(out, iss, sid);
}

static int key_sub(const bcl_runtime_t *rt, bcl_hkey_t *out, const char *iss, const char *sub)
{
    return rt->hasher ? bcl_hasher_sub(rt->hasher, out, iss, sub) : bcl_hkey_sub(out, iss, sub);
}

static int key_iss(const bcl_runtime_t *rt, bcl_hkey_t *out, const char *iss)
{
    return rt->hasher ? bcl_hasher_iss(rt->hasher, out, iss) : bcl_hkey_iss(out, iss);
}

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
    const char *cookies = apr_table_get(r->headers_in, "Cookie");
    const char *rest = cookies ? bcl_cookie_remove(r->pool, cookies, conf->session_cookies) : NULL;
    int action = conf->on_revoked ? conf->on_revoked : BCL_ON_REVOKED_DENY;
    const char *expire[MAX_GUARDED_COOKIES * 2];
    int nexpire = 0;

    if (rest != NULL)
        apr_table_setn(r->headers_in, "Cookie", rest);
    else
        apr_table_unset(r->headers_in, "Cookie");
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
static int refuse_unhashable(request_rec *r, guard_note_t *note, const char *what)
{
    /* the response side must not bind or unbind by an incomplete key list */
    note->count = 0;
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
    cookies = apr_table_get(r->headers_in, "Cookie");
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
    int entry_copy[MAX_COOKIE_KEYS];      /* which copy each entry (form) is of */
    const char *odd_name = NULL;
    for (int i = 0; i < seen && i < MAX_GUARDED_COOKIES; i++) {
        const char *forms[BCL_COOKIE_MAX_FORMS];
        apr_size_t lens[BCL_COOKIE_MAX_FORMS];
        odd |= copies[i].odd;
        if (copies[i].odd && odd_name == NULL)
            odd_name = copies[i].name;
        note->nseen = i + 1;
        if (copies[i].vlen == 0)
            continue;
        int n = bcl_cookie_value_forms(r->pool, copies[i].value, copies[i].vlen, forms, lens, BCL_COOKIE_MAX_FORMS);
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
            note->names[note->count] = copies[i].name;
            note->copies[note->count] = same_name_copies(copies, seen, copies[i].name);
            entry_copy[note->count] = i;
            note->count++;
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
        return refuse_unhashable(r, note, apr_pstrcat(r->pool, "a value of session cookie ", unhashable, NULL));
    if (note->count == 0)
        return DECLINED;

    now = apr_time_sec(apr_time_now());
    if (conf->bind_mode == BCL_BIND_ENV) {
        bcl_identity_t id;
        int found = env_identity(r, rt, conf, &id);
        if (found < 0)
            return refuse_unhashable(r, note, "the session identity in the environment (BCLBindFrom env)");
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
        return open ? DECLINED : HTTP_SERVICE_UNAVAILABLE;
    }
    if (state == BCL_SESSION_REVOKED)
        return refuse_session(r, conf, note, "the session was logged out at the OP", BCL_GUARD_WHY_REVOKED);
    /* A copy is unknown when none of its value's forms is bound (one form
     * bound is enough: the app set it that way). */
    for (int c = 0; c < seen && c < MAX_GUARDED_COOKIES && !any_unbound && conf->bind_mode != BCL_BIND_ENV; c++) {
        int entries = 0, bound = 0;
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


/* ------------------------------------------------------------------------
 * The response side: bindings follow what the response sets, never what a
 * request steers.
 *
 * - A binding is made only for a value the response sets, or, when the
 *   response sets no session cookie, for the request's value of a name the
 *   request carried exactly once.
 * - A binding is dropped only when the app expires a name the request
 *   carried exactly once: with a decoy beside a stolen copy, nobody can tell
 *   which copy the app "expired".
 * - A value bound to one identity is never re-bound to another (BCL0220).
 * - The app's headers are read from headers_out and err_headers_out (CGI,
 *   FastCGI and SCGI backends put theirs in the latter), on normal
 *   and on error responses (insert_error_filter), and after an ErrorDocument
 *   redirect out of the guarded location.
 * ------------------------------------------------------------------------ */

/* Which configuration and fixup note a response is bound under. */
typedef struct {
    const bcl_dir_conf_t *conf;
    guard_note_t *note;
} bind_ctx_t;

#define BIND_DONE_NOTE "BCL_BIND_DONE"

static int wants_bind_filter(const bcl_dir_conf_t *conf)
{
    return conf->session_cookies != NULL
           && (conf->bind_mode == BCL_BIND_RESPONSE_HEADER || conf->on_revoked == BCL_ON_REVOKED_PASS);
}

static void add_bind_filter(request_rec *r)
{
    const request_rec *origin;
    const bcl_dir_conf_t *conf = NULL;
    const bcl_runtime_t *rt;
    bind_ctx_t *ctx;

    /* a subrequest's headers never reach the client: nothing to bind */
    if (r->main != NULL || apr_table_get(r->notes, BIND_DONE_NOTE) != NULL)
        return;
    /* its expiring Set-Cookie headers are not the app expiring its cookie:
     * they must not drop the binding it has just revoked */
    if (bcl_frontchannel_is_handler(r))
        return;
    /* An internal redirect (ErrorDocument, mod_rewrite) out of a guarded
     * location carries the app's err_headers_out along: bind them under the
     * nearest guarded request of the chain. */
    for (origin = r; origin != NULL; origin = origin->prev) {
        conf = ap_get_module_config(origin->per_dir_config, &backchannel_logout_module);
        if (conf->session_cookies != NULL)
            break;
    }
    if (origin == NULL || !wants_bind_filter(conf))
        return;
    ctx = apr_pcalloc(r->pool, sizeof(*ctx));
    ctx->conf = conf;
    ctx->note = ap_get_module_config(origin->request_config, &backchannel_logout_module);
    rt = guard_runtime(r);
    if (rt != NULL && rt->bind_filter != NULL)
        ap_add_output_filter_handle(rt->bind_filter, ctx, r, r->connection);
    else
        ap_add_output_filter(BCL_BIND_FILTER, ctx, r, r->connection);
}

void bcl_guard_insert_filter(request_rec *r)
{
    add_bind_filter(r);
}

void bcl_guard_insert_error_filter(request_rec *r)
{
    /* ap_send_error_response has dropped every filter the handler had:
     * the error page needs its own. */
    add_bind_filter(r);
}

#define MAX_SET_COOKIES 16

typedef struct {
    apr_pool_t *p;
    const bcl_dir_conf_t *conf;
    const guard_note_t *note;
    long long now;
    int count;                                /* one entry per form of each value set */
    const char *names[MAX_COOKIE_KEYS];
    const char *values[MAX_COOKIE_KEYS];
    apr_size_t lens[MAX_COOKIE_KEYS];
    const char *raw[MAX_COOKIE_KEYS];         /* the header value, to withhold it */
    int expired[MAX_COOKIE_KEYS];
} set_cookies_t;

static int is_our_expiry(const guard_note_t *note, const char *value)
{
    for (int k = 0; note != NULL && k < note->n_expiry; k++) {
        if (strcmp(note->expiry_values[k], value) == 0)
            return 1;
    }
    return 0;
}

static int collect_set_cookie(void *baton, const char *key, const char *value)
{
    set_cookies_t *sc = baton;
    (void)key;
    if (is_our_expiry(sc->note, value))
        return 1;
    for (int i = 0; i < sc->conf->session_cookies->nelts && sc->count < MAX_COOKIE_KEYS; i++) {
        const char *name = APR_ARRAY_IDX(sc->conf->session_cookies, i, const char *), *v;
        const char *forms[BCL_COOKIE_MAX_FORMS];
        apr_size_t lens[BCL_COOKIE_MAX_FORMS];
        int expired;
        if (bcl_set_cookie_parse(sc->p, value, name, sc->now, &v, &expired)) {
            /* bound under every form a backend reads it as, like the request's copies */
            int n = bcl_cookie_value_forms(sc->p, v, strlen(v), forms, lens, BCL_COOKIE_MAX_FORMS);
            for (int j = 0; j < n && sc->count < MAX_COOKIE_KEYS; j++) {
                if (j > 0 && lens[j] == 0)
                    continue;
                sc->names[sc->count] = name;
                sc->values[sc->count] = forms[j];
                sc->lens[sc->count] = lens[j];
                sc->raw[sc->count] = value;
                sc->expired[sc->count] = expired;
                sc->count++;
            }
            break;
        }
    }
    return 1;
}

static int sets_live(const set_cookies_t *sc, const char *name)
{
    for (int j = 0; j < sc->count; j++) {
        if (!sc->expired[j] && strcmp(sc->names[j], name) == 0)
            return 1;
    }
    return 0;
}

static int expires_name(const set_cookies_t *sc, const char *name)
{
    for (int j = 0; j < sc->count; j++) {
        if (sc->expired[j] && strcmp(sc->names[j], name) == 0)
            return 1;
    }
    return 0;
}

/* How many copies of `name` the request carried (0: none). */
static int request_copies(const guard_note_t *note, const char *name)
{
    for (int i = 0; note != NULL && i < note->count; i++) {
        if (strcmp(note->names[i], name) == 0)
            return note->copies[i];
    }
    return 0;
}

static int is_request_cookie(const guard_note_t *note, const bcl_hkey_t *key)
{
    for (int i = 0; note != NULL && i < note->count; i++) {
        if (memcmp(note->keys[i].b, key->b, BCL_KEY_LEN) == 0)
            return 1;
    }
    return 0;
}

static int same_identity(const bcl_identity_t *a, const bcl_identity_t *b)
{
    return memcmp(a->sid_key.b, b->sid_key.b, BCL_KEY_LEN) == 0
           && memcmp(a->sub_key.b, b->sub_key.b, BCL_KEY_LEN) == 0;
}

/* Keeps of table `t`'s Set-Cookie lines those `keep` approves. */
static void filter_set_cookies(request_rec *r, apr_table_t *t, int (*keep)(const void *, const char *),
                               const void *baton)
{
    const apr_array_header_t *arr = apr_table_elts(t);
    const apr_table_entry_t *e = (const apr_table_entry_t *)arr->elts;
    apr_array_header_t *kept = apr_array_make(r->pool, 4, sizeof(const char *));
    int dropped = 0;

    for (int i = 0; i < arr->nelts; i++) {
        if (e[i].key == NULL || strcasecmp(e[i].key, "Set-Cookie") != 0)
            continue;
        if (keep(baton, e[i].val))
            APR_ARRAY_PUSH(kept, const char *) = e[i].val;
        else
            dropped = 1;
    }
    if (!dropped)
        return;
    apr_table_unset(t, "Set-Cookie");
    for (int i = 0; i < kept->nelts; i++)
        apr_table_addn(t, "Set-Cookie", APR_ARRAY_IDX(kept, i, const char *));
}

static int keep_not_ours(const void *baton, const char *value)
{
    return !is_our_expiry(baton, value);
}

static int keep_not_this(const void *baton, const char *value)
{
    return strcmp(baton, value) != 0;
}

/* In pass mode the app may start a new session at once: its own Set-Cookie
 * for a name wins over our expiring one. A CGI or FastCGI app that sets any
 * cookie replaces err_headers_out's Set-Cookie lines (util_script does):
 * ours are put back where the app set no live value of that name. */
static void reconcile_our_expiry(request_rec *r, const guard_note_t *note, const set_cookies_t *sc)
{
    filter_set_cookies(r, r->headers_out, keep_not_ours, note);
    filter_set_cookies(r, r->err_headers_out, keep_not_ours, note);
    for (int k = 0; k < note->n_expiry; k++) {
        if (!sets_live(sc, note->expiry_names[k]))
            apr_table_addn(r->err_headers_out, "Set-Cookie", note->expiry_values[k]);
    }
}

static void count_binding(request_rec *r, bcl_store_status_t st)
{
    bcl_metrics_t *m = bcl_metrics_of(r->server);
    if (m == NULL)
        return;
    if (st == BCL_STORE_OK)
        BCL_METRIC_ADD(m->bindings_made, 1);
    else
        BCL_METRIC_ADD(m->store_errors[BCL_STORE_OP_BINDING][st == BCL_STORE_FULL ? BCL_STORE_ERR_FULL
                                                                                  : BCL_STORE_ERR_UNAVAILABLE], 1);
}

static void log_store_failure(request_rec *r, bcl_store_t *store, const char *name, const char *what)
{
    apr_uint32_t suppressed;
    ap_log_rerror(APLOG_MARK, bcl_runtime_log_allowed(store, &suppressed) ? APLOG_ERR : APLOG_DEBUG, 0, r,
                  BCL_TAG_STORE_FAILED ": cannot %s cookie %s: the store is full or unavailable", what, name);
}

/* What the store holds for `key`: the fixup's answer when it asked, else a
 * fresh look-up. Returns 0, or -1 when the store cannot say. */
static int current_binding(bcl_store_t *store, const guard_note_t *note, const bcl_hkey_t *key,
                           apr_int64_t now, bcl_session_state_t *state, bcl_identity_t *id)
{
    for (int i = 0; note != NULL && i < note->count; i++) {
        if (note->looked_up[i] && memcmp(note->keys[i].b, key->b, BCL_KEY_LEN) == 0) {
            *state = note->states[i];
            *id = note->ids[i];
            return 0;
        }
    }
    memset(id, 0, sizeof(*id));
    *state = BCL_SESSION_UNBOUND;
    return store->ops->cookie_state(store, key, now, state, id) == BCL_STORE_OK ? 0 : -1;
}

/* Binds `key` (a value of cookie `name`) to `want`, unless it is bound to
 * another identity already. A value bound to the same identity keeps its
 * start time (a later binding must not make it look newer than a sub
 * logout); only its lifetime is renewed. */
static void bind_checked(request_rec *r, bcl_store_t *store, const guard_note_t *note, const bcl_hkey_t *key,
                         const char *name, const bcl_identity_t *want, apr_int64_t lifetime)
{
    apr_int64_t now = apr_time_sec(apr_time_now());
    bcl_session_state_t state;
    bcl_identity_t cur;
    const bcl_identity_t *id = want;
    bcl_store_status_t st;

    if (current_binding(store, note, key, now, &state, &cur) != 0) {
        /* the rule cannot be checked: no binding rather than a re-binding */
        count_binding(r, BCL_STORE_UNAVAILABLE);
        log_store_failure(r, store, name, "check the binding of");
        return;
    }
    if (state != BCL_SESSION_UNBOUND) {
        if (!same_identity(&cur, want)) {
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, BCL_TAG_REBIND_REFUSED ": a value of cookie %s is "
                          "already bound to another session; not re-bound (%s)", name,
                          state == BCL_SESSION_REVOKED ? "that session was logged out" : "that session is live");
            return;
        }
        if (!bcl_hkey_is_zero(&want->iss_key))
            cur.iss_key = want->iss_key;   /* a binding older than cut-offs learns its issuer */
        id = &cur;
    }
    st = store->ops->bind(store, key, id, now, now + lifetime);
    count_binding(r, st);
    if (st != BCL_STORE_OK)
        log_store_failure(r, store, name, "store the binding of");
    else
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, BCL_TAG_BOUND ": cookie %s bound", name);
    bcl_runtime_report_usage(r, store);
}

/* The identity a rotated value inherits: the one every live bound copy in
 * the request shares. Returns 1 with `*id`, 0 when no copy is bound live,
 * -1 when copies are bound to different identities. */
static int inherited_identity(const guard_note_t *note, bcl_identity_t *id)
{
    int found = 0;
    for (int i = 0; note != NULL && i < note->count; i++) {
        if (!note->looked_up[i] || note->states[i] != BCL_SESSION_LIVE)
            continue;
        if (found && !same_identity(id, &note->ids[i]))
            return -1;
        *id = note->ids[i];
        found = 1;
    }
    return found;
}

/* `id`: the binding header's identity (NULL: no header, or a malformed one
 * when `header_seen`). */
static void apply_bindings(request_rec *r, bcl_store_t *store, const set_cookies_t *sc,
                           const guard_note_t *note, const bcl_identity_t *id, int header_seen,
                           apr_int64_t lifetime)
{
    const bcl_runtime_t *rt = guard_runtime(r);   /* the caller's: not NULL */
    /* After a refusal the request's cookies stay as the store has them: the
     * app never saw them, so nothing it answers may unbind or rebind them. */
    int refused = note != NULL && note->expired_by_us;
    int sets_any = 0;

    /* expiry: drops the binding of the request's only copy of that name */
    for (int j = 0; j < sc->count && !refused; j++) {
        const char *name = sc->names[j];
        int copies = request_copies(note, name), first = 1;
        if (!sc->expired[j] || copies == 0)
            continue;
        for (int k = 0; k < j && first; k++)
            first = !(sc->expired[k] && strcmp(sc->names[k], name) == 0);
        if (!first)
            continue;
        if (copies > 1) {
            ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, BCL_TAG_BIND_AMBIGUOUS ": the app expired cookie %s, "
                          "but the request carried %d copies of it: no binding dropped", name, copies);
            continue;
        }
        for (int i = 0; i < note->count; i++) {
            if (strcmp(note->names[i], name) != 0)
                continue;
            if (store->ops->unbind(store, &note->keys[i]) != BCL_STORE_OK) {
                log_store_failure(r, store, name, "drop the binding of");
                continue;
            }
            BCL_COUNT(r->server, bindings_dropped);
            ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, BCL_TAG_UNBOUND_DROPPED ": the app expired cookie %s; "
                          "binding dropped", name);
        }
    }

    /* values the response sets: the header's identity, or on rotation the
     * identity of the request's live session */
    for (int j = 0; j < sc->count; j++) {
        bcl_identity_t inherited;
        const bcl_identity_t *want = id;
        bcl_hkey_t key;

        if (sc->expired[j])
            continue;
        sets_any = 1;
        if (key_cookie(rt, &key, sc->names[j], sc->values[j], sc->lens[j]) != 0) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, BCL_TAG_HASH_NOT_BOUND ": a value of cookie %s set by "
                          "the response could not be hashed (digest failed); not bound", sc->names[j]);
            continue;
        }
        if (refused && is_request_cookie(note, &key))
            continue;
        if (want == NULL) {
            apr_int64_t now = apr_time_sec(apr_time_now());
            bcl_session_state_t state;
            int got;
            if (header_seen || refused)
                continue;           /* malformed header: no binding; refused: nothing to inherit */
            if (current_binding(store, note, &key, now, &state, &inherited) == 0 && state != BCL_SESSION_UNBOUND)
                got = 1;            /* a value the app sends again keeps its own binding */
            else
                got = inherited_identity(note, &inherited);
            if (got == 0)
                continue;
            if (got < 0) {
                /* Which session did the app rotate? A thief who sends his own
                 * session beside a stolen one must not get a fresh value the
                 * victim's logout cannot end: the value is withheld. */
                filter_set_cookies(r, r->headers_out, keep_not_this, sc->raw[j]);
                filter_set_cookies(r, r->err_headers_out, keep_not_this, sc->raw[j]);
                ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, BCL_TAG_ROTATION_WITHHELD ": the request carried "
                              "copies of the session cookies bound to different sessions; the new value of "
                              "cookie %s is not bound and not sent", sc->names[j]);
                continue;
            }
            want = &inherited;
        }
        /* On rotation the old value keeps its binding until it expires: if
         * the app does not really kill old values, a copy of one must still
         * die with the session. */
        bind_checked(r, store, note, &key, sc->names[j], want, lifetime);
    }

    /* a binding header on a response that sets no session cookie: the
     * request's value of each name it carried exactly once */
    if (id == NULL || sets_any || refused || note == NULL)
        return;
    for (int i = 0; i < note->count; i++) {
        int first = 1;
        for (int k = 0; k < i && first; k++)
            first = strcmp(note->names[k], note->names[i]) != 0;
        if (!first || expires_name(sc, note->names[i]))
            continue;
        if (note->copies[i] != 1) {
            ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, BCL_TAG_BIND_AMBIGUOUS ": the app named a session "
                          "without setting cookie %s, but the request carried %d copies of it: not bound",
                          note->names[i], note->copies[i]);
            continue;
        }
        for (int k = i; k < note->count; k++) {
            if (strcmp(note->names[k], note->names[i]) == 0)
                bind_checked(r, store, note, &note->keys[k], note->names[k], id, lifetime);
        }
    }
}

/* Reads the binding header from both tables and removes it from both: the
 * browser never sees it. */
static const char *take_bind_header(request_rec *r, const char *name)
{
    const char *v = apr_table_get(r->headers_out, name);
    if (v == NULL)
        v = apr_table_get(r->err_headers_out, name);
    if (v != NULL)
        v = apr_pstrdup(r->pool, v);
    apr_table_unset(r->headers_out, name);
    apr_table_unset(r->err_headers_out, name);
    return v;
}

apr_status_t bcl_guard_bind_filter(ap_filter_t *f, apr_bucket_brigade *bb)
{
    request_rec *r = f->r;
    const bind_ctx_t *ctx = f->ctx;
    const bcl_dir_conf_t *conf = ctx != NULL ? ctx->conf
                                 : ap_get_module_config(r->per_dir_config, &backchannel_logout_module);
    guard_note_t *note = ctx != NULL ? ctx->note
                         : ap_get_module_config(r->request_config, &backchannel_logout_module);
    const bcl_runtime_t *rt = guard_runtime(r);
    set_cookies_t sc;
    const char *header;

    ap_remove_output_filter(f);
    apr_table_setn(r->notes, BIND_DONE_NOTE, "1");
    if (rt == NULL || conf->session_cookies == NULL)
        return ap_pass_brigade(f->next, bb);

    /* The headers as they will leave: ap_http_header_filter sends both
     * tables (on an error page, ap_send_error_response has already replaced
     * headers_out by err_headers_out). */
    /* entries below sc.count are written before they are read: only the
     * head is set (the arrays are ~1 KB) */
    sc.count = 0;
    sc.p = r->pool;
    sc.conf = conf;
    sc.note = note;
    sc.now = (long long)apr_time_sec(apr_time_now());
    apr_table_do(collect_set_cookie, &sc, r->headers_out, "Set-Cookie", NULL);
    apr_table_do(collect_set_cookie, &sc, r->err_headers_out, "Set-Cookie", NULL);

    if (note != NULL && note->expired_by_us)
        reconcile_our_expiry(r, note, &sc);
    if (conf->bind_mode != BCL_BIND_RESPONSE_HEADER)
        return ap_pass_brigade(f->next, bb);

    header = take_bind_header(r, conf->bind_header);
    if (header != NULL) {
        const char *iss, *sid, *sub, *err;
        bcl_identity_t id;
        if (bcl_binding_header_parse(r->pool, header, &iss, &sid, &sub, &err) != 0) {
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, BCL_TAG_BIND_BAD_HEADER ": the app's %s header is malformed "
                          "(%s); no binding made", conf->bind_header, err);
            apply_bindings(r, rt->store, &sc, note, NULL, 1, rt->lifetime);
        } else {
            memset(&id, 0, sizeof(id));
            if ((sid != NULL && key_sid(rt, &id.sid_key, iss, sid) != 0)
                || (sub != NULL && key_sub(rt, &id.sub_key, iss, sub) != 0)
                || key_iss(rt, &id.iss_key, iss) != 0) {
                /* like a malformed header: no binding, expiries still apply */
                ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, BCL_TAG_HASH_NOT_BOUND ": the identity in the app's %s "
                              "header could not be hashed (digest failed); no binding made", conf->bind_header);
                apply_bindings(r, rt->store, &sc, note, NULL, 1, rt->lifetime);
                return ap_pass_brigade(f->next, bb);
            }
            id.began_server = apr_time_now();
            apply_bindings(r, rt->store, &sc, note, &id, 1, rt->lifetime);
        }
    } else if (sc.count > 0) {
        /* rotation inherits the live session's binding; expiry drops it */
        apply_bindings(r, rt->store, &sc, note, NULL, 0, rt->lifetime);
    }
    return ap_pass_brigade(f->next, bb);
}
