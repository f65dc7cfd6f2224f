/* The guard's response side: the output filter that makes, keeps and drops
 * bindings from what the app's response sets (the rules below). The
 * request side is bcl_guard.c; the note between them, bcl_guard_note.h. */
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
            /* bound under every form a backend reads it as, like the
             * request's copies; a value with ',' as a whole only (as the
             * backends that split at ';' read it): its part before the ','
             * may be shared by every user ("v1,<token>") */
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
            /* what precedes a ',' is not this session's to unbind */
            if (strcmp(note->names[i], name) != 0 || note->cut_only[i])
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
            /* never the part before a ',' of a value that runs on */
            if (strcmp(note->names[k], note->names[i]) == 0 && !note->cut_only[k])
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
