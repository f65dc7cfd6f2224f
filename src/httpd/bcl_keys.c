/* The fetched-key cache: one entry per URL in shared memory, made in
 * post_config; the background fetcher (mod_watchdog); the status accessor.
 * The request side is in bcl_keys_request.c, the fetch in bcl_keys_fetch.c. */
#include <httpd.h>
#include <stdlib.h>
#include <unistd.h>
#include <apr_atomic.h>
#include <apr_hash.h>
#include <apr_optional.h>
#include <apr_lib.h>
#include <apr_strings.h>
#include <http_log.h>
#include <mod_watchdog.h>
#include <util_mutex.h>
#include "bcl_fetch.h"
#include "bcl_keys_internal.h"
#include "bcl_logtags.h"
#include "bcl_runtime.h"
#include "mod_backchannel_logout.h"

#define BCL_WATCHDOG_NAME "_bcl_keys_"
#define ALIGN8(n) (((n) + 7) & ~(apr_size_t)7)

apr_status_t bcl_keys_register(apr_pool_t *pconf)
{
    return ap_mutex_register(pconf, BCL_KEYS_MUTEX_TYPE, NULL, APR_LOCK_DEFAULT, 0);
}

int bcl_keys_lock(bcl_keys_rt_t *rt)
{
    return apr_global_mutex_lock(rt->mutex) == APR_SUCCESS ? 0 : -1;
}

void bcl_keys_unlock(bcl_keys_rt_t *rt)
{
    apr_global_mutex_unlock(rt->mutex);
}

static const char *source_key(apr_pool_t *p, bcl_keysrc_kind_t kind, const char *url)
{
    return apr_pstrcat(p, kind == BCL_KEYSRC_METADATA ? "m " : "j ", url, NULL);
}

bcl_key_source_t *bcl_keys_find(bcl_keys_rt_t *rt, bcl_keysrc_kind_t kind, const char *url)
{
    char buf[BCL_KEYSOURCE_MAX_URL + 3];
    if (rt == NULL || url == NULL || strlen(url) > BCL_KEYSOURCE_MAX_URL)
        return NULL;
    buf[0] = kind == BCL_KEYSRC_METADATA ? 'm' : 'j';
    buf[1] = ' ';
    apr_cpystrn(buf + 2, url, sizeof(buf) - 2);
    return apr_hash_get(rt->by_url, buf, APR_HASH_KEY_STRING);
}

static int same_settings(const bcl_fetch_conf_t *a, const bcl_fetch_conf_t *b)
{
#define STR_EQ(x, y) ((x) == (y) || ((x) && (y) && strcmp((x), (y)) == 0))
    return STR_EQ(a->ca_file, b->ca_file) && STR_EQ(a->proxy, b->proxy) && a->timeout == b->timeout
        && a->connect_timeout == b->connect_timeout && a->max_size == b->max_size
        && a->refresh == b->refresh && a->min_refresh == b->min_refresh && a->refetch == b->refetch;
#undef STR_EQ
}

/* The settings in effect where the URL was written: that section's own
 * values over those of its server or virtual host. */
static void effective(apr_pool_t *p, const bcl_keysrc_decl_t *d, bcl_fetch_conf_t *out, const char **issuer)
{
    const bcl_dir_conf_t *dc = d->dir_conf;
    const bcl_dir_conf_t *sdc = ap_get_module_config(d->server->lookup_defaults, &backchannel_logout_module);
    bcl_fetch_conf_t merged;
    (void)p;

    if (sdc == NULL || sdc == dc) {
        merged = dc->fetch;
    } else {
        bcl_fetch_conf_merge(&merged, &sdc->fetch, &dc->fetch);
    }
    bcl_fetch_conf_resolve(out, &merged);
    *issuer = dc->issuer ? dc->issuer : (sdc ? sdc->issuer : NULL);
}

static void add_issuer(apr_array_header_t *issuers, const char *issuer)
{
    if (issuer == NULL)
        return;
    for (int i = 0; i < issuers->nelts; i++)
        if (strcmp(APR_ARRAY_IDX(issuers, i, const char *), issuer) == 0)
            return;
    APR_ARRAY_PUSH(issuers, const char *) = issuer;
}

static apr_status_t fetch_global_cleanup(void *data)
{
    (void)data;
    bcl_fetch_global_cleanup();
    return APR_SUCCESS;
}

/* The background fetcher: every second, fetch each URL whose time is due.
 * Runs in one child at a time (a singleton watchdog). */
static apr_status_t watchdog_tick(int state, void *data, apr_pool_t *pool)
{
    bcl_keys_rt_t *rt = data;
    apr_pool_t *tick;

    if (state == AP_WATCHDOG_STATE_STOPPING)
        return APR_SUCCESS;
    apr_atomic_inc32(&rt->inflight);
    if (apr_atomic_read32(&rt->stopping) || apr_pool_create(&tick, pool) != APR_SUCCESS) {
        apr_atomic_dec32(&rt->inflight);
        return APR_SUCCESS;
    }
    for (int i = 0; i < rt->sources->nelts; i++) {
        bcl_key_source_t *src = APR_ARRAY_IDX(rt->sources, i, bcl_key_source_t *);
        apr_time_t now = apr_time_now();
        const char *why;
        int due, changed;

        if (bcl_keys_lock(rt) != 0)
            continue;
        due = src->slot->next_refresh <= now && src->slot->claimed_until <= now;
        why = src->slot->generation == 0 && src->slot->failures == 0 ? "startup"
            : src->slot->failures > 0 ? "retry" : "scheduled refresh";
        bcl_keys_unlock(rt);
        if (due && !apr_atomic_read32(&rt->stopping)) {
            bcl_keys_refresh(rt, src, rt->s, tick, why, 0, &changed);
            apr_pool_clear(tick);
        }
    }
    apr_pool_destroy(tick);
    apr_atomic_dec32(&rt->inflight);
    return APR_SUCCESS;
}

static void start_watchdog(server_rec *s, apr_pool_t *pconf, bcl_keys_rt_t *rt)
{
    APR_OPTIONAL_FN_TYPE(ap_watchdog_get_instance) *get_instance =
        APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_get_instance);
    APR_OPTIONAL_FN_TYPE(ap_watchdog_register_callback) *register_callback =
        APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_register_callback);
    ap_watchdog_t *wd = NULL;
    apr_status_t rv;

    if (get_instance == NULL || register_callback == NULL) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, BCL_TAG_KEYS_NO_WATCHDOG ": mod_watchdog is not loaded: keys "
                     "are fetched when a logout token needs them (the first tokens wait for the OP); load "
                     "mod_watchdog to fetch them ahead of need");
        return;
    }
    /* a child-process singleton: one fetcher for the whole server */
    rv = get_instance(&wd, BCL_WATCHDOG_NAME, 0, 1, pconf);
    if (rv == APR_SUCCESS)
        rv = register_callback(wd, AP_WD_TM_INTERVAL, rt, watchdog_tick);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s, BCL_TAG_KEYS_NO_WATCHDOG ": cannot start the background "
                     "key fetcher: keys are fetched when a logout token needs them");
        return;
    }
    rt->watchdog = 1;
}

static void log_source(server_rec *s, apr_pool_t *p, const bcl_key_source_t *src)
{
    int loopback = 0;
    const char *err;

    bcl_keysource_check_url(p, src->url, &loopback, &err);
    if (loopback)
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, BCL_TAG_KEYS_CONFIG ": %s %s (%s) is plain http:// "
                     "on a loopback host: allowed for local testing only; an OP elsewhere must use https://",
                     src->kind == BCL_KEYSRC_METADATA ? "BCLProviderMetadataURL" : "BCLJWKSURI", src->url, src->where);
    ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, BCL_TAG_KEYS_CONFIG ": key source %s (%s, %s): timeout %" APR_INT64_T_FMT
                 " s (connect %" APR_INT64_T_FMT " s), max %" APR_INT64_T_FMT " bytes, refresh %" APR_INT64_T_FMT
                 "-%" APR_INT64_T_FMT " s, unknown-kid refetch at most every %" APR_INT64_T_FMT " s, CA %s, proxy %s",
                 src->url, src->kind == BCL_KEYSRC_METADATA ? "metadata" : "jwks", src->where,
                 src->conf.timeout, src->conf.connect_timeout, src->conf.max_size, src->conf.min_refresh,
                 src->conf.refresh, src->conf.refetch, src->conf.ca_file ? src->conf.ca_file : "system",
                 src->conf.proxy == NULL ? "from environment" : *src->conf.proxy ? src->conf.proxy : "none");
}

/* ---- keys kept across a graceful restart --------------------------------
 * The segment belongs to one configuration generation (the set of URLs and
 * their size limits may change). When that generation's pool is cleared, the
 * documents are copied out to the heap; the next generation's post_config
 * seeds the entries whose URL it still uses, so a reload does not leave the
 * receiver without keys (503) until the first fetch. */
#define CARRY_KEY "mod_backchannel_logout:keys-carried"

/* Everything carried lives in its own subpool of the process pool, found by
 * userdata with no destructor: when httpd destroys the process pool at stop
 * (after it has unloaded this module) only APR's code runs. No cleanup or
 * destructor of this module may be registered there. */
typedef struct {
    apr_pool_t *pool;
    int n;
    struct carried_entry {
        bcl_keysrc_kind_t kind;
        const char *url;
        bcl_keys_slot_t slot;
        char *doc;
    } *e;
} carried_t;

static carried_t *carried_get(server_rec *s)
{
    void *data = NULL;
    apr_pool_userdata_get(&data, CARRY_KEY, s->process->pool);
    return data;
}

/* Drops what the last generation carried (the subpool goes with it). */
static void carried_drop(server_rec *s)
{
    carried_t *c = carried_get(s);
    if (c == NULL)
        return;
    apr_pool_userdata_set(NULL, CARRY_KEY, apr_pool_cleanup_null, s->process->pool);
    apr_pool_destroy(c->pool);
}

/* Runs when the generation's pool is cleared, before its segment goes. */
static apr_status_t carry_out(void *data)
{
    bcl_keys_rt_t *rt = data;
    apr_pool_t *keep = rt->s->process->pool, *sub = NULL;
    carried_t *c;

    /* only the parent reloads; a child that exits may run pool cleanups too */
    if (getpid() != rt->parent_pid)
        return APR_SUCCESS;
    carried_drop(rt->s);
    if (apr_pool_create(&sub, keep) != APR_SUCCESS)
        return APR_SUCCESS;
    c = apr_pcalloc(sub, sizeof(*c));
    c->pool = sub;
    c->e = apr_pcalloc(sub, sizeof(*c->e) * (apr_size_t)rt->sources->nelts);
    if (bcl_keys_lock(rt) == 0) {
        for (int i = 0; i < rt->sources->nelts; i++) {
            bcl_key_source_t *src = APR_ARRAY_IDX(rt->sources, i, bcl_key_source_t *);
            struct carried_entry *e = &c->e[c->n];
            if (src->slot->generation == 0)
                continue;
            e->kind = src->kind;
            e->slot = *src->slot;
            e->url = apr_pstrdup(sub, src->url);
            e->doc = apr_pmemdup(sub, src->doc, src->slot->doc_len);
            c->n++;
        }
        bcl_keys_unlock(rt);
    }
    if (c->n == 0) {
        apr_pool_destroy(sub);
        return APR_SUCCESS;
    }
    apr_pool_userdata_set(c, CARRY_KEY, apr_pool_cleanup_null, keep);
    return APR_SUCCESS;
}

static void carry_in(server_rec *s, bcl_keys_rt_t *rt)
{
    carried_t *c = carried_get(s);

    if (c == NULL)
        return;
    for (int i = 0; i < c->n; i++) {
        struct carried_entry *e = &c->e[i];
        bcl_key_source_t *src = bcl_keys_find(rt, e->kind, e->url);
        if (src == NULL || e->slot.doc_len > (apr_size_t)src->conf.max_size)
            continue;
        *src->slot = e->slot;
        src->slot->claimed_until = 0;
        memcpy(src->doc, e->doc, e->slot.doc_len);
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, BCL_TAG_KEYS_FETCHED ": keys kept across the restart for %s: "
                     "%u key(s), kids [%s], generation %" APR_UINT64_T_FMT, src->url, src->slot->nkids,
                     src->slot->kids, src->slot->generation);
    }
    carried_drop(s);
}

apr_status_t bcl_keys_post_config(server_rec *s, apr_pool_t *pconf, apr_pool_t *ptemp, bcl_keys_rt_t **out)
{
    const apr_array_header_t *decls = bcl_keysrc_declarations(pconf);
    bcl_keys_rt_t *rt;
    apr_size_t size, offset;
    char *base;
    apr_status_t rv;

    *out = NULL;
    if (decls == NULL || decls->nelts == 0)
        return APR_SUCCESS;

    rt = apr_pcalloc(pconf, sizeof(*rt));
    rt->s = s;
    rt->parent_pid = getpid();
    rt->sources = apr_array_make(pconf, decls->nelts, sizeof(bcl_key_source_t *));
    rt->by_url = apr_hash_make(pconf);
    for (int i = 0; i < decls->nelts; i++) {
        const bcl_keysrc_decl_t *d = &APR_ARRAY_IDX(decls, i, bcl_keysrc_decl_t);
        const char *key = source_key(pconf, d->kind, d->url), *issuer;
        bcl_key_source_t *src = apr_hash_get(rt->by_url, key, APR_HASH_KEY_STRING);
        bcl_fetch_conf_t conf;

        effective(ptemp, d, &conf, &issuer);
        if (src == NULL) {
            src = apr_pcalloc(pconf, sizeof(*src));
            src->kind = d->kind;
            src->url = d->url;
            src->where = d->where;
            src->conf = conf;
            src->issuers = apr_array_make(pconf, 1, sizeof(const char *));
            apr_hash_set(rt->by_url, key, APR_HASH_KEY_STRING, src);
            APR_ARRAY_PUSH(rt->sources, bcl_key_source_t *) = src;
        } else if (!same_settings(&src->conf, &conf)) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, BCL_TAG_KEYS_SETTINGS_DIFFER ": %s is used at %s and at "
                         "%s with different fetch settings (BCLCAFile, BCLHTTP*, BCLKey*Interval): its keys are "
                         "fetched once for both, with the settings of %s", d->url, src->where, d->where, src->where);
        }
        add_issuer(src->issuers, issuer);
    }

    if (bcl_fetch_global_init() != 0) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, BCL_TAG_KEYS_INTERNAL ": libcurl could not be initialised");
        return APR_EGENERAL;
    }
    apr_pool_cleanup_register(pconf, NULL, fetch_global_cleanup, apr_pool_cleanup_null);

    size = ALIGN8(sizeof(bcl_keys_slot_t)) * (apr_size_t)rt->sources->nelts;
    for (int i = 0; i < rt->sources->nelts; i++)
        size += ALIGN8((apr_size_t)APR_ARRAY_IDX(rt->sources, i, bcl_key_source_t *)->conf.max_size);
    rv = apr_shm_create(&rt->shm, size, NULL, pconf);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, BCL_TAG_KEYS_INTERNAL ": cannot create %" APR_SIZE_T_FMT
                     " bytes of shared memory for fetched keys", size);
        return rv;
    }
    rv = ap_global_mutex_create(&rt->mutex, NULL, BCL_KEYS_MUTEX_TYPE, NULL, s, pconf, 0);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, BCL_TAG_KEYS_INTERNAL ": cannot create the keys' global mutex");
        return rv;
    }
    base = apr_shm_baseaddr_get(rt->shm);
    memset(base, 0, size);
    offset = ALIGN8(sizeof(bcl_keys_slot_t)) * (apr_size_t)rt->sources->nelts;
    for (int i = 0; i < rt->sources->nelts; i++) {
        bcl_key_source_t *src = APR_ARRAY_IDX(rt->sources, i, bcl_key_source_t *);
        src->slot = (bcl_keys_slot_t *)(base + ALIGN8(sizeof(bcl_keys_slot_t)) * (apr_size_t)i);
        src->stopping = &rt->stopping;
        src->doc = base + offset;
        offset += ALIGN8((apr_size_t)src->conf.max_size);
        log_source(s, ptemp, src);
    }
    carry_in(s, rt);
    {
        bcl_server_conf_t *sc = ap_get_module_config(s->module_config, &backchannel_logout_module);
        rt->disk_base = sc && sc->net == NULL && sc->journal_path ? apr_pstrdup(pconf, sc->journal_path) : NULL;
    }
    bcl_keys_disk_load(rt, s, ptemp);
    /* registered after the segment and mutex: runs before they are destroyed */
    apr_pool_cleanup_register(pconf, rt, carry_out, apr_pool_cleanup_null);
    start_watchdog(s, pconf, rt);
    *out = rt;
    return APR_SUCCESS;
}

static apr_status_t child_cleanup(void *data)
{
    bcl_keys_rt_t *rt = data;
    apr_time_t until = apr_time_now() + apr_time_from_sec(5);

    /* The child is exiting: exit() runs OpenSSL's atexit cleanup, which
     * must not find the background fetcher inside a TLS handshake. Ask it
     * to give up (libcurl polls the flag) and wait for it, boundedly. */
    apr_atomic_set32(&rt->stopping, 1);
    while (apr_atomic_read32(&rt->inflight) != 0 && apr_time_now() < until)
        apr_sleep(apr_time_from_msec(10));
    for (int i = 0; i < rt->sources->nelts; i++) {
        bcl_key_source_t *src = APR_ARRAY_IDX(rt->sources, i, bcl_key_source_t *);
        if (src->current != NULL) {
            apr_pool_destroy(src->current->pool);
            src->current = NULL;
        }
    }
    return APR_SUCCESS;
}

void bcl_keys_child_init(apr_pool_t *pchild, server_rec *s, bcl_keys_rt_t *rt)
{
    apr_status_t rv;

    if (rt == NULL)
        return;
    rv = apr_global_mutex_child_init(&rt->mutex, apr_global_mutex_lockfile(rt->mutex), pchild);
    if (rv != APR_SUCCESS)
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, BCL_TAG_KEYS_INTERNAL ": cannot attach the keys' mutex in a child");
    rv = apr_thread_mutex_create(&rt->child_mutex, APR_THREAD_MUTEX_DEFAULT, pchild);
    if (rv != APR_SUCCESS)
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, BCL_TAG_KEYS_INTERNAL ": cannot create the keys' thread mutex");
    for (int i = 0; i < rt->sources->nelts; i++)
        APR_ARRAY_IDX(rt->sources, i, bcl_key_source_t *)->current = NULL;
    apr_pool_cleanup_register(pchild, rt, child_cleanup, apr_pool_cleanup_null);
}

/* For the status page, which may be exposed: every URL in `text` loses its
 * user:password@, query string and fragment (a key URL may carry a token),
 * and a parser's quote of a fetched document (jansson's "near '...'") is
 * left out. */
static const char *public_text(apr_pool_t *p, const char *text)
{
    apr_size_t n = strlen(text);
    char *out = apr_palloc(p, n + 1), *o = out;
    const char *t = text;

    while (*t) {
        const char *scheme_end = NULL;
        if (strncasecmp(t, "http://", 7) == 0)
            scheme_end = t + 7;
        else if (strncasecmp(t, "https://", 8) == 0)
            scheme_end = t + 8;
        if (scheme_end != NULL) {
            const char *end = scheme_end, *auth_end, *at;
            while (*end && !apr_isspace(*end) && *end != '"' && *end != '\'' && *end != ')' && *end != ',')
                end++;
            memcpy(o, t, (apr_size_t)(scheme_end - t));
            o += scheme_end - t;
            auth_end = scheme_end;
            while (auth_end < end && *auth_end != '/' && *auth_end != '?' && *auth_end != '#')
                auth_end++;
            at = NULL;
            for (const char *x = scheme_end; x < auth_end; x++)
                if (*x == '@')
                    at = x;
            t = at ? at + 1 : scheme_end;
            while (t < end && *t != '?' && *t != '#')
                *o++ = *t++;
            t = end;
            continue;
        }
        if (strncmp(t, " near '", 7) == 0) {
            const char *close = strchr(t + 7, '\'');
            if (close != NULL) {
                t = close + 1;
                continue;
            }
            break;
        }
        *o++ = *t++;
    }
    *o = '\0';
    return out;
}

int bcl_keys_status_each(server_rec *s, apr_pool_t *p, bcl_keys_status_fn *fn, void *baton)
{
    bcl_server_conf_t *sc = ap_get_module_config(s->module_config, &backchannel_logout_module);
    bcl_keys_rt_t *rt = sc && sc->rt ? sc->rt->keys : NULL;
    int n = 0;

    if (rt == NULL)
        return 0;
    for (int i = 0; i < rt->sources->nelts; i++) {
        bcl_key_source_t *src = APR_ARRAY_IDX(rt->sources, i, bcl_key_source_t *);
        bcl_keys_slot_t copy;
        bcl_keys_status_t st;

        if (bcl_keys_lock(rt) != 0)
            continue;
        copy = *src->slot;
        bcl_keys_unlock(rt);
        memset(&st, 0, sizeof(st));
        st.url = public_text(p, src->url);
        st.kind = src->kind == BCL_KEYSRC_METADATA ? "metadata" : "jwks";
        st.jwks_uri = copy.jwks_uri[0] ? public_text(p, copy.jwks_uri)
            : src->kind == BCL_KEYSRC_JWKS ? st.url : NULL;
        st.issuer = copy.issuer[0] ? apr_pstrdup(p, copy.issuer) : NULL;
        st.last_attempt = copy.last_attempt;
        st.last_success = copy.last_success;
        st.last_failure = copy.last_failure;
        st.next_refresh = copy.next_refresh;
        st.consecutive_failures = copy.failures;
        st.fetches_ok = copy.fetches_ok;
        st.fetches_failed = copy.fetches_failed;
        st.refetches = copy.refetches;
        st.refetches_limited = copy.refetches_limited;
        st.generation = copy.generation;
        st.kids_known = copy.nkids;
        st.kids = apr_pstrdup(p, copy.kids);
        st.last_error = copy.last_error[0] ? public_text(p, copy.last_error) : NULL;
        fn(baton, &st);
        n++;
    }
    return n;
}
