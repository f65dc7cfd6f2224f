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
#include "bcl_guard.h"
#include "bcl_logtags.h"
#include "bcl_store_fleet.h"
#include "bcl_metrics.h"
#include "bcl_store_shm.h"
#include "mod_backchannel_logout.h"

#define MAX_GUARDED_COOKIES 8

/* What the fixup learned, for the response filter. */
typedef struct {
    int count;
    const char *names[MAX_GUARDED_COOKIES];
    bcl_hkey_t keys[MAX_GUARDED_COOKIES];     /* hashes of the request's cookie values */
    int live;                                 /* a cookie is bound to a live session */
    bcl_identity_t id;                        /* that session's identity */
    int expired_by_us;                        /* we sent expiring Set-Cookies (pass mode) */
} guard_note_t;

static const bcl_runtime_t *guard_runtime(request_rec *r)
{
    bcl_server_conf_t *sc = ap_get_module_config(r->server->module_config, &backchannel_logout_module);
    return sc->rt != NULL && sc->rt->store != NULL ? sc->rt : NULL;
}

static int is_secure(request_rec *r)
{
    return strcmp(ap_http_scheme(r), "https") == 0;
}

/* Removes the session cookies from the request and expires them in the
 * response, then applies BCLOnRevoked. */
static int refuse_session(request_rec *r, const bcl_dir_conf_t *conf, guard_note_t *note,
                          const char *why, const char *tag)
{
    const char *cookies = apr_table_get(r->headers_in, "Cookie");
    const char *rest = cookies ? bcl_cookie_remove(r->pool, cookies, conf->session_cookies) : NULL;
    int action = conf->on_revoked ? conf->on_revoked : BCL_ON_REVOKED_DENY;

    if (rest != NULL)
        apr_table_setn(r->headers_in, "Cookie", rest);
    else
        apr_table_unset(r->headers_in, "Cookie");
    for (int i = 0; i < note->count; i++)
        apr_table_addn(r->err_headers_out, "Set-Cookie",
                       bcl_cookie_expiring(r->pool, note->names[i], conf->cookie_path, conf->cookie_domain,
                                           is_secure(r)));
    apr_table_setn(r->err_headers_out, "Cache-Control", "no-store");
    note->expired_by_us = 1;
    note->live = 0;

    bcl_metrics_t *m = bcl_metrics_of(r->server);
    if (m != NULL) {
        int why = strcmp(tag, BCL_TAG_SESSION_UNBOUND) == 0 ? BCL_GUARD_WHY_UNBOUND : BCL_GUARD_WHY_REVOKED;
        int act = action == BCL_ON_REVOKED_PASS ? BCL_GUARD_ACT_PASS
                  : action == BCL_ON_REVOKED_REDIRECT ? BCL_GUARD_ACT_REDIRECT : BCL_GUARD_ACT_DENY;
        BCL_METRIC_ADD(m->sessions_refused[why][act], 1);
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "%s: session refused at the edge: %s; action=%s",
                  tag, why, action == BCL_ON_REVOKED_PASS ? "pass" : action == BCL_ON_REVOKED_REDIRECT ? "redirect" : "deny");
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

/* The identity an auth module in front put into the environment. */
static int env_identity(request_rec *r, const bcl_dir_conf_t *conf, bcl_identity_t *id)
{
    const char *iss = apr_table_get(r->subprocess_env, conf->env_iss);
    const char *sid = apr_table_get(r->subprocess_env, conf->env_sid);
    const char *sub = apr_table_get(r->subprocess_env, conf->env_sub);
    const char *iat = apr_table_get(r->subprocess_env, conf->env_iat);

    memset(id, 0, sizeof(*id));
    if (iss == NULL || *iss == '\0' || ((sid == NULL || !*sid) && (sub == NULL || !*sub)))
        return 0;
    if (sid != NULL && *sid)
        bcl_hkey_sid(&id->sid_key, iss, sid);
    if (sub != NULL && *sub)
        bcl_hkey_sub(&id->sub_key, iss, sub);
    id->began_op = iat ? apr_atoi64(iat) : 0;
    return 1;
}

int bcl_guard_fixup(request_rec *r)
{
    const bcl_dir_conf_t *conf = ap_get_module_config(r->per_dir_config, &backchannel_logout_module);
    const char *cookies;
    bcl_session_state_t state = BCL_SESSION_UNBOUND;
    bcl_store_status_t st = BCL_STORE_OK;
    const bcl_runtime_t *rt;
    bcl_store_t *store;
    guard_note_t *note;
    apr_int64_t now;

    if (conf->session_cookies == NULL || r->main != NULL)
        return DECLINED;
    cookies = apr_table_get(r->headers_in, "Cookie");
    rt = guard_runtime(r);
    if (cookies == NULL || rt == NULL)
        return DECLINED;
    store = rt->store;
    note = apr_pcalloc(r->pool, sizeof(*note));
    ap_set_module_config(r->request_config, &backchannel_logout_module, note);

    int seen = 0;
    for (int i = 0; i < conf->session_cookies->nelts && seen < MAX_GUARDED_COOKIES; i++) {
        const char *name = APR_ARRAY_IDX(conf->session_cookies, i, const char *);
        const char *values[MAX_GUARDED_COOKIES];
        apr_size_t lens[MAX_GUARDED_COOKIES];
        int n = bcl_cookie_find_all(cookies, name, values, lens, MAX_GUARDED_COOKIES - seen);
        seen += n;
        for (int j = 0; j < n; j++) {
            if (lens[j] == 0)
                continue;
            note->names[note->count] = name;
            bcl_hkey_cookie(&note->keys[note->count], name, values[j], lens[j]);
            note->count++;
        }
    }
    if (seen == 0)
        return DECLINED;
    /* As many copies of session cookies as we check, or more: refuse rather
     * than let an unchecked copy through. */
    if (seen >= MAX_GUARDED_COOKIES)
        return refuse_session(r, conf, note, "too many session cookies in one request", BCL_TAG_SESSION_REVOKED);
    if (note->count == 0)
        return DECLINED;

    now = apr_time_sec(apr_time_now());
    if (conf->bind_mode == BCL_BIND_ENV) {
        bcl_identity_t id;
        if (env_identity(r, conf, &id))
            st = store->ops->identity_state(store, &id, now, &state);
    } else {
        for (int i = 0; i < note->count && st == BCL_STORE_OK && state != BCL_SESSION_REVOKED; i++) {
            bcl_session_state_t s = BCL_SESSION_UNBOUND;
            bcl_identity_t id;
            st = store->ops->cookie_state(store, &note->keys[i], now, &s, &id);
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
        int level = bcl_store_fleet_log_allowed(store, &suppressed) ? APLOG_ERR : APLOG_DEBUG;
        bcl_metrics_t *m = bcl_metrics_of(r->server);
        if (m != NULL)
            BCL_METRIC_ADD(m->guard_store_unavailable[open ? 1 : 0], 1);
        ap_log_rerror(APLOG_MARK, level, 0, r, BCL_TAG_STORE_DOWN ": the revocation store is unavailable; "
                      "request %s (BCLStoreUnavailable %s); %u similar request(s) not logged since the last report",
                      open ? "let through" : "refused", open ? "open" : "closed", suppressed);
        return open ? DECLINED : HTTP_SERVICE_UNAVAILABLE;
    }
    if (state == BCL_SESSION_REVOKED)
        return refuse_session(r, conf, note, "the session was logged out at the OP", BCL_TAG_SESSION_REVOKED);
    if (state == BCL_SESSION_UNBOUND && conf->unbound == BCL_UNBOUND_DENY)
        return refuse_session(r, conf, note, "the session is unknown to the store (BCLUnboundSession deny)",
                              BCL_TAG_SESSION_UNBOUND);
    BCL_COUNT(r->server, sessions_passed);
    if (state == BCL_SESSION_UNBOUND)
        BCL_COUNT(r->server, sessions_passed_unbound);
    return DECLINED;
}

void bcl_guard_insert_filter(request_rec *r)
{
    const bcl_dir_conf_t *conf = ap_get_module_config(r->per_dir_config, &backchannel_logout_module);
    if (conf->session_cookies != NULL && r->main == NULL
        && (conf->bind_mode == BCL_BIND_RESPONSE_HEADER || conf->on_revoked == BCL_ON_REVOKED_PASS))
        ap_add_output_filter(BCL_BIND_FILTER, NULL, r, r->connection);
}

typedef struct {
    apr_pool_t *p;
    const bcl_dir_conf_t *conf;
    long long now;
    int count;
    const char *names[MAX_GUARDED_COOKIES];
    const char *values[MAX_GUARDED_COOKIES];
    int expired[MAX_GUARDED_COOKIES];
} set_cookies_t;

static int collect_set_cookie(void *baton, const char *key, const char *value)
{
    set_cookies_t *sc = baton;
    (void)key;
    for (int i = 0; i < sc->conf->session_cookies->nelts && sc->count < MAX_GUARDED_COOKIES; i++) {
        const char *name = APR_ARRAY_IDX(sc->conf->session_cookies, i, const char *), *v;
        int expired;
        if (bcl_set_cookie_parse(sc->p, value, name, sc->now, &v, &expired)) {
            sc->names[sc->count] = name;
            sc->values[sc->count] = v;
            sc->expired[sc->count] = expired;
            sc->count++;
            break;
        }
    }
    return 1;
}

static int name_index(const guard_note_t *note, const char *name)
{
    for (int i = 0; note != NULL && i < note->count; i++) {
        if (strcmp(note->names[i], name) == 0)
            return i;
    }
    return -1;
}

/* Binds each cookie the response sets (or, when it sets none, the request's
 * cookies) to `id`, and drops the binding of each cookie it expires. */
static int is_request_cookie(const guard_note_t *note, const bcl_hkey_t *key)
{
    for (int i = 0; note != NULL && i < note->count; i++) {
        if (memcmp(note->keys[i].b, key->b, BCL_KEY_LEN) == 0)
            return 1;
    }
    return 0;
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

static void apply_bindings(request_rec *r, bcl_store_t *store, const set_cookies_t *sc,
                           const guard_note_t *note, const bcl_identity_t *id, apr_int64_t lifetime,
                           int bind_request_cookies)
{
    apr_int64_t now = apr_time_sec(apr_time_now());
    /* After a refusal the request's cookies stay as the store has them: the
     * app never saw them, so nothing it answers may unbind or rebind them. */
    int refused = note != NULL && note->expired_by_us;
    int bound = 0;

    for (int i = 0; i < sc->count; i++) {
        int old = refused ? -1 : name_index(note, sc->names[i]);
        if (sc->expired[i]) {
            if (old >= 0) {
                store->ops->unbind(store, &note->keys[old]);
                BCL_COUNT(r->server, bindings_dropped);
                ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, BCL_TAG_UNBOUND_DROPPED ": the app expired cookie %s; "
                              "binding dropped", sc->names[i]);
            }
            continue;
        }
        if (id == NULL)
            continue;
        bcl_hkey_t key;
        bcl_hkey_cookie(&key, sc->names[i], sc->values[i], strlen(sc->values[i]));
        if (refused && is_request_cookie(note, &key))
            continue;
        /* On rotation the old value keeps its binding until it expires: if
         * the app does not really kill old values, a copy of one must still
         * die with the session. */
        apr_uint32_t suppressed;
        bcl_store_status_t st = store->ops->bind(store, &key, id, now, now + lifetime);
        count_binding(r, st);
        if (st != BCL_STORE_OK)
            ap_log_rerror(APLOG_MARK, bcl_store_fleet_log_allowed(store, &suppressed) ? APLOG_ERR : APLOG_DEBUG, 0, r,
                          BCL_TAG_STORE_FAILED ": cannot store the binding of cookie %s: the store is full or unavailable",
                          sc->names[i]);
        else
            ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, BCL_TAG_BOUND ": cookie %s bound", sc->names[i]);
        bcl_store_report_usage(r, store);
        bound = 1;
    }
    /* The request's cookie already bound to this identity keeps its start
     * time: re-binding must not make a session look newer than a sub logout. */
    if (note != NULL && note->live && id != NULL && memcmp(&note->id.sid_key, &id->sid_key, BCL_KEY_LEN) == 0
        && memcmp(&note->id.sub_key, &id->sub_key, BCL_KEY_LEN) == 0)
        bind_request_cookies = 0;
    for (int i = 0; id != NULL && bind_request_cookies && !bound && !refused && note != NULL && i < note->count; i++) {
        bcl_store_status_t st = store->ops->bind(store, &note->keys[i], id, now, now + lifetime);
        count_binding(r, st);
        if (st == BCL_STORE_OK)
            ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, BCL_TAG_BOUND ": cookie %s bound", note->names[i]);
    }
}

/* In pass mode the app may start a new session at once: its own Set-Cookie
 * for a name must win over our expiring one. */
static void drop_our_expiry_for(request_rec *r, const set_cookies_t *sc)
{
    const apr_array_header_t *arr = apr_table_elts(r->err_headers_out);
    const apr_table_entry_t *e = (const apr_table_entry_t *)arr->elts;
    apr_table_t *kept = apr_table_make(r->pool, 4);

    for (int i = 0; i < arr->nelts; i++) {
        int drop = 0;
        if (strcasecmp(e[i].key, "Set-Cookie") == 0) {
            for (int j = 0; j < sc->count && !drop; j++) {
                apr_size_t n = strlen(sc->names[j]);
                drop = !sc->expired[j] && strncmp(e[i].val, sc->names[j], n) == 0 && e[i].val[n] == '='
                       && strstr(e[i].val, "Max-Age=0") != NULL;
            }
        }
        if (!drop && strcasecmp(e[i].key, "Set-Cookie") == 0)
            apr_table_addn(kept, e[i].key, e[i].val);
    }
    apr_table_unset(r->err_headers_out, "Set-Cookie");
    const apr_array_header_t *ka = apr_table_elts(kept);
    const apr_table_entry_t *ke = (const apr_table_entry_t *)ka->elts;
    for (int i = 0; i < ka->nelts; i++)
        apr_table_addn(r->err_headers_out, "Set-Cookie", ke[i].val);
}

apr_status_t bcl_guard_bind_filter(ap_filter_t *f, apr_bucket_brigade *bb)
{
    request_rec *r = f->r;
    const bcl_dir_conf_t *conf = ap_get_module_config(r->per_dir_config, &backchannel_logout_module);
    guard_note_t *note = ap_get_module_config(r->request_config, &backchannel_logout_module);
    const bcl_runtime_t *rt = guard_runtime(r);
    bcl_store_t *store;
    apr_int64_t lifetime;
    set_cookies_t sc;
    const char *header = NULL;

    ap_remove_output_filter(f);
    if (rt == NULL || conf->session_cookies == NULL)
        return ap_pass_brigade(f->next, bb);
    store = rt->store;
    lifetime = rt->lifetime;

    memset(&sc, 0, sizeof(sc));
    sc.p = r->pool;
    sc.conf = conf;
    sc.now = (long long)apr_time_sec(apr_time_now());
    apr_table_do(collect_set_cookie, &sc, r->headers_out, "Set-Cookie", NULL);

    if (note != NULL && note->expired_by_us)
        drop_our_expiry_for(r, &sc);
    if (conf->bind_mode != BCL_BIND_RESPONSE_HEADER)
        return ap_pass_brigade(f->next, bb);

    /* the binding header is for us only: the browser never sees it */
    header = apr_table_get(r->headers_out, conf->bind_header);
    if (header == NULL)
        header = apr_table_get(r->err_headers_out, conf->bind_header);
    if (header != NULL)
        header = apr_pstrdup(r->pool, header);
    apr_table_unset(r->headers_out, conf->bind_header);
    apr_table_unset(r->err_headers_out, conf->bind_header);

    if (header != NULL) {
        const char *iss, *sid, *sub, *err;
        bcl_identity_t id;
        if (bcl_binding_header_parse(r->pool, header, &iss, &sid, &sub, &err) != 0) {
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, BCL_TAG_BIND_BAD_HEADER ": the app's %s header is malformed "
                          "(%s); no binding made", conf->bind_header, err);
            apply_bindings(r, store, &sc, note, NULL, lifetime, 0);
        } else {
            memset(&id, 0, sizeof(id));
            if (sid != NULL)
                bcl_hkey_sid(&id.sid_key, iss, sid);
            if (sub != NULL)
                bcl_hkey_sub(&id.sub_key, iss, sub);
            id.began_server = apr_time_now();
            apply_bindings(r, store, &sc, note, &id, lifetime, 1);
        }
    } else if (sc.count > 0) {
        /* rotation inherits the live session's binding; expiry drops it */
        apply_bindings(r, store, &sc, note, note != NULL && note->live ? &note->id : NULL, lifetime, 0);
    }
    return ap_pass_brigade(f->next, bb);
}
