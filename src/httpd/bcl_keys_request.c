/* The request side of fetched keys: each child parses a generation once and
 * shares it between its threads; a request holds a reference until it ends.
 * An unknown kid causes at most one refetch per BCLKeyRefetchInterval per
 * URL, counted in shared memory so that all processes share the budget. */
#include <httpd.h>
#include <apr_atomic.h>
#include <apr_strings.h>
#include <http_log.h>
#include "bcl_keys_internal.h"
#include "bcl_logtags.h"
#include "bcl_runtime.h"
#include "mod_backchannel_logout.h"

struct bcl_keys_use_t {
    bcl_keys_rt_t *rt;
    bcl_key_source_t *src;
    bcl_keys_parsed_t *parsed;    /* NULL: nothing fetched yet */
};

/* With the child mutex held. */
static void parsed_unref(bcl_keys_parsed_t *kp)
{
    if (--kp->refs == 0)
        apr_pool_destroy(kp->pool);
}

static apr_status_t use_cleanup(void *data)
{
    bcl_keys_use_t *use = data;
    if (use->parsed != NULL) {
        apr_thread_mutex_lock(use->rt->child_mutex);
        parsed_unref(use->parsed);
        apr_thread_mutex_unlock(use->rt->child_mutex);
        use->parsed = NULL;
    }
    return APR_SUCCESS;
}

/* Parses generation `gen` of the source (copied out of shared memory). */
static bcl_keys_parsed_t *parse_generation(request_rec *r, bcl_key_source_t *src, const char *doc,
                                           apr_size_t len, const char *issuer, apr_uint64_t gen)
{
    apr_pool_t *pool;
    bcl_keys_parsed_t *kp;
    const char *err = NULL;

    /* unmanaged: no parent shared with other threads; destroyed by the last user */
    if (apr_pool_create_unmanaged_ex(&pool, NULL, NULL) != APR_SUCCESS)
        return NULL;
    kp = apr_pcalloc(pool, sizeof(*kp));
    kp->pool = pool;
    kp->generation = gen;
    kp->refs = 1;
    kp->issuer = apr_pstrdup(pool, issuer);
    kp->keys = bcl_keyset_create(pool);
    if (bcl_keyset_add_jwks(kp->keys, doc, len, NULL, &err) != 0) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, BCL_TAG_KEYS_INTERNAL ": keys of generation %" APR_UINT64_T_FMT
                      " from %s cannot be parsed in this child: %s", gen, src->url, err);
        apr_pool_destroy(pool);
        return NULL;
    }
    return kp;
}

/* The newest parsed keys of the source, with a reference for the caller. */
static bcl_keys_parsed_t *acquire(request_rec *r, bcl_keys_rt_t *rt, bcl_key_source_t *src)
{
    apr_uint64_t have, gen = 0;
    char *doc = NULL, *issuer = NULL;
    apr_size_t len = 0;
    bcl_keys_parsed_t *kp;

    apr_thread_mutex_lock(rt->child_mutex);
    have = src->current ? src->current->generation : 0;
    apr_thread_mutex_unlock(rt->child_mutex);

    if (bcl_keys_lock(rt) == 0) {
        gen = src->slot->generation;
        if (gen != 0 && gen != have) {
            len = src->slot->doc_len;
            doc = apr_pmemdup(r->pool, src->doc, len + 1);
            doc[len] = '\0';
            issuer = apr_pstrdup(r->pool, src->slot->issuer);
        }
        bcl_keys_unlock(rt);
    }
    if (doc != NULL && (kp = parse_generation(r, src, doc, len, issuer, gen)) != NULL) {
        apr_thread_mutex_lock(rt->child_mutex);
        if (src->current == NULL || src->current->generation < gen) {
            bcl_keys_parsed_t *old = src->current;
            src->current = kp;
            if (old != NULL)
                parsed_unref(old);
        } else {
            parsed_unref(kp);   /* another thread was quicker */
        }
        apr_thread_mutex_unlock(rt->child_mutex);
    }

    apr_thread_mutex_lock(rt->child_mutex);
    kp = src->current;
    if (kp != NULL)
        kp->refs++;
    apr_thread_mutex_unlock(rt->child_mutex);
    return kp;
}

static void reacquire(request_rec *r, bcl_keys_use_t *use)
{
    bcl_keys_parsed_t *kp = acquire(r, use->rt, use->src);
    use_cleanup(use);
    use->parsed = kp;
}

/* One fetch caused by a request, within the shared budget of one per
 * BCLKeyRefetchInterval. Returns 1 when the keys changed. */
static int rate_limited_fetch(request_rec *r, bcl_keys_use_t *use, const char *why, const char *kid)
{
    bcl_key_source_t *src = use->src;
    apr_time_t now = apr_time_now();
    apr_time_t last, interval = apr_time_from_sec(src->conf.refetch);
    int changed = 0;
    bcl_refresh_result_t res;

    if (bcl_keys_lock(use->rt) != 0)
        return 0;
    last = src->slot->last_refetch;
    if (last != 0 && now - last < interval && now >= last) {
        src->slot->refetches_limited++;
        bcl_keys_unlock(use->rt);
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, BCL_TAG_KEYS_REFETCH_LIMITED ": %s%s%s: no refetch of %s, the "
                      "last was %" APR_TIME_T_FMT " s ago (BCLKeyRefetchInterval %" APR_INT64_T_FMT " s)",
                      why, kid ? " " : "", kid ? ap_escape_logitem(r->pool, kid) : "", src->url,
                      apr_time_sec(now - last), src->conf.refetch);
        return 0;
    }
    src->slot->last_refetch = now;
    src->slot->refetches++;
    bcl_keys_unlock(use->rt);

    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, BCL_TAG_KEYS_REFETCH ": %s%s%s: refetching %s",
                  why, kid ? " " : "", kid ? ap_escape_logitem(r->pool, kid) : "", src->url);
    res = bcl_keys_refresh(use->rt, src, r->server, r->pool,
                           kid ? apr_pstrcat(r->pool, "unknown kid ", ap_escape_logitem(r->pool, kid), NULL) : why,
                           kid != NULL, &changed);
    if (res == BCL_REFRESH_BUSY) {
        /* nothing was fetched for this kid: the allowance is not used up */
        if (bcl_keys_lock(use->rt) == 0) {
            if (src->slot->last_refetch == now) {
                src->slot->last_refetch = last;
                src->slot->refetches--;
            }
            bcl_keys_unlock(use->rt);
        }
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, BCL_TAG_KEYS_REFETCH ": %s is being fetched by another "
                      "process or thread", src->url);
    }
    if (changed)
        reacquire(r, use);
    return changed;
}

/* No keys yet, and another process or thread is fetching them (the first
 * fetch after a start): wait for it, at most BCLHTTPTimeout, rather than
 * answer 503 while the answer is on its way. */
static void wait_for_fetch_under_way(request_rec *r, bcl_keys_use_t *use)
{
    apr_time_t start = apr_time_now(), deadline = start + apr_time_from_sec(use->src->conf.timeout);
    int waited = 0;

    for (;;) {
        apr_time_t now = apr_time_now();
        int under_way, have;
        if (bcl_keys_lock(use->rt) != 0)
            return;
        under_way = use->src->slot->claimed_until > now;
        have = use->src->slot->generation != 0;
        bcl_keys_unlock(use->rt);
        if (have) {
            reacquire(r, use);
            break;
        }
        if (!under_way || now >= deadline || apr_atomic_read32(&use->rt->stopping))
            break;
        waited = 1;
        apr_sleep(apr_time_from_msec(20));
    }
    if (waited)
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, BCL_TAG_KEYS_REFETCH ": waited %" APR_TIME_T_FMT " ms for the "
                      "fetch of %s under way: %s", apr_time_as_msec(apr_time_now() - start), use->src->url,
                      use->parsed ? "keys arrived" : "still none");
}

/* Without mod_watchdog: refresh in the request when due. */
static void refresh_if_due(request_rec *r, bcl_keys_use_t *use)
{
    apr_time_t now = apr_time_now();
    int due = 0, changed = 0;

    if (bcl_keys_lock(use->rt) != 0)
        return;
    due = use->src->slot->next_refresh <= now && use->src->slot->claimed_until <= now;
    bcl_keys_unlock(use->rt);
    if (due && bcl_keys_refresh(use->rt, use->src, r->server, r->pool, "due, in a request", 0, &changed)
               == BCL_REFRESH_DONE && changed)
        reacquire(r, use);
}

int bcl_keys_for_request(request_rec *r, const bcl_dir_conf_t *conf, bcl_policy_t *policy,
                         const bcl_keyset_t **keys, bcl_keys_use_t **usep,
                         const char **error, const char **why)
{
    bcl_server_conf_t *sc = ap_get_module_config(r->server->module_config, &backchannel_logout_module);
    bcl_keys_rt_t *rt = sc && sc->rt ? sc->rt->keys : NULL;
    bcl_key_source_t *src = bcl_keys_find(rt, conf->fetch.kind, conf->fetch.url);
    bcl_keys_use_t *use;

    *usep = NULL;
    if (src == NULL || rt->child_mutex == NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, BCL_TAG_KEYS_INTERNAL ": the key URL %s of this location has "
                      "no cache entry (declared in an unsupported section?)", conf->fetch.url);
        *error = "server_error";
        *why = "keys: the receiver's key URL is not set up";
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    use = apr_pcalloc(r->pool, sizeof(*use));
    use->rt = rt;
    use->src = src;
    apr_pool_cleanup_register(r->pool, use, use_cleanup, apr_pool_cleanup_null);
    *usep = use;

    use->parsed = acquire(r, rt, src);
    if (!rt->watchdog)
        refresh_if_due(r, use);
    if (use->parsed == NULL)
        rate_limited_fetch(r, use, "no keys fetched yet", NULL);
    if (use->parsed == NULL)
        wait_for_fetch_under_way(r, use);

    if (use->parsed == NULL) {
        if (policy->issuer == NULL || (conf->jwks == NULL && conf->secret == NULL)) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, BCL_TAG_KEYS_UNAVAILABLE ": no keys were ever fetched from "
                          "%s: answering 503 so the OP may retry", src->url);
            *error = "temporarily_unavailable";
            *why = "keys: the OP's signing keys could not be fetched yet";
            return HTTP_SERVICE_UNAVAILABLE;
        }
        return OK;   /* the static keys may still verify the token */
    }

    if (src->kind == BCL_KEYSRC_METADATA) {
        if (policy->issuer == NULL) {
            policy->issuer = apr_pstrdup(r->pool, use->parsed->issuer);
        } else if (strcmp(policy->issuer, use->parsed->issuer) != 0) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, BCL_TAG_KEYS_ISSUER_MISMATCH ": BCLIssuer \"%s\" differs from "
                          "the issuer \"%s\" in the metadata at %s: refusing logout tokens here (500) until the "
                          "configuration is fixed", ap_escape_logitem(r->pool, policy->issuer),
                          ap_escape_logitem(r->pool, use->parsed->issuer), src->url);
            *error = "server_error";
            *why = "configuration: BCLIssuer differs from the issuer in the OP's metadata";
            return HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    *keys = bcl_keyset_combine(r->pool, bcl_keyset_union_verify(r->pool, conf->jwks, use->parsed->keys),
                               conf->secret, conf->decryption);
    return OK;
}

int bcl_keys_refetch_for_kid(request_rec *r, bcl_keys_use_t *use, const char *kid)
{
    return use != NULL && rate_limited_fetch(r, use, "unknown kid", kid ? kid : "(none)");
}

int bcl_keys_ever_fetched(const bcl_keys_use_t *use)
{
    return use != NULL && use->parsed != NULL;
}
