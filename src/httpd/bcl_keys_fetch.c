/* Fetching a key source and storing what was fetched in shared memory.
 * The network is used outside the mutex; the mutex is held only to claim
 * the fetch and to copy the result in. */
#include <httpd.h>
#include <apr_atomic.h>
#include <apr_strings.h>
#include <http_log.h>
#include "bcl_fetch.h"
#include "bcl_keys_internal.h"
#include "bcl_metrics.h"
#include "bcl_logtags.h"
#include "mod_backchannel_logout.h"

#ifndef BCL_VERSION
#define BCL_VERSION "dev"
#endif

/* Messages of the core's JWKS parser, kept until we know whether the
 * document is new (an unchanged document is not logged again). */
typedef struct {
    apr_pool_t *pool;
    apr_array_header_t *lines;    /* of const char* */
} collected_log_t;

static void collect(void *baton, bcl_log_level_t level, const char *tag, const char *msg)
{
    collected_log_t *c = baton;
    (void)level;
    APR_ARRAY_PUSH(c->lines, const char *) = apr_pstrcat(c->pool, tag, ": ", msg, NULL);
}

typedef struct {
    const char *jwks;             /* the JWKS document */
    apr_size_t jwks_len;
    const char *jwks_uri;
    const char *jwks_final_url;   /* after redirects */
    const char *issuer;           /* "" for BCLJWKSURI */
    const char *kids;
    unsigned nkids;
    long max_age;                 /* from Cache-Control, -1 if none */
    const char *tag;              /* on failure: which log tag */
    const char *error;            /* on failure */
    collected_log_t parse_log;
} fetched_t;

static int should_stop(void *baton)
{
    return apr_atomic_read32((volatile apr_uint32_t *)baton) != 0;
}

static void fetch_opts(const bcl_key_source_t *src, bcl_fetch_opts_t *o)
{
    memset(o, 0, sizeof(*o));
    o->ca_file = src->conf.ca_file;
    o->proxy = src->conf.proxy;
    o->connect_timeout_ms = (long)src->conf.connect_timeout * 1000;
    o->timeout_ms = (long)src->conf.timeout * 1000;
    o->max_size = (apr_size_t)src->conf.max_size;
    o->user_agent = "mod_backchannel_logout/" BCL_VERSION;
    if (src->stopping != NULL) {
        o->should_stop = should_stop;
        o->stop_baton = (void *)src->stopping;
    }
}

static const char *tag_of(bcl_fetch_status_t st)
{
    return st == BCL_FETCH_TOO_LARGE ? BCL_TAG_KEYS_TOO_LARGE : BCL_TAG_KEYS_FETCH_FAILED;
}

static long min_age(long a, long b)
{
    if (a < 0)
        return b;
    if (b < 0)
        return a;
    return a < b ? a : b;
}

/* The network part: returns 0 with `f` filled, or -1 with f->tag/error.
 * With `known_issuer` and `known_jwks_uri` (a refetch of a discovery source
 * inside a request) the metadata is not fetched again: an unknown kid means
 * new keys, and one fetch instead of two keeps the OP's wait short. */
static int fetch_documents(apr_pool_t *p, const bcl_key_source_t *src, const char *known_issuer,
                           const char *known_jwks_uri, fetched_t *f)
{
    bcl_fetch_opts_t opts;
    bcl_fetch_result_t res;
    const char *err = NULL;
    bcl_keyset_t *ks;
    bcl_logger_t logger;

    fetch_opts(src, &opts);
    f->issuer = "";
    f->jwks_uri = src->url;
    f->max_age = -1;

    if (src->kind == BCL_KEYSRC_METADATA && known_issuer != NULL && known_jwks_uri != NULL) {
        f->issuer = known_issuer;
        f->jwks_uri = known_jwks_uri;
    } else if (src->kind == BCL_KEYSRC_METADATA) {
        if (bcl_fetch_get(p, src->url, &opts, &res) != BCL_FETCH_OK) {
            f->tag = tag_of(res.status);
            f->error = apr_psprintf(p, "metadata %s: %s", src->url, res.error);
            return -1;
        }
        if (bcl_keysource_parse_metadata(p, res.body, res.len, &f->issuer, &f->jwks_uri, &err) != 0) {
            f->tag = BCL_TAG_KEYS_MALFORMED;
            f->error = apr_psprintf(p, "metadata %s is refused: %s", src->url, err);
            return -1;
        }
        f->max_age = bcl_keysource_max_age(res.cache_control);
    }

    if (bcl_fetch_get(p, f->jwks_uri, &opts, &res) != BCL_FETCH_OK) {
        f->tag = tag_of(res.status);
        f->error = apr_psprintf(p, "JWKS %s: %s", f->jwks_uri, res.error);
        return -1;
    }
    f->max_age = min_age(f->max_age, bcl_keysource_max_age(res.cache_control));
    f->jwks_final_url = res.final_url;

    /* parsed here once, so that a child never meets a document it cannot use */
    f->parse_log.pool = p;
    f->parse_log.lines = apr_array_make(p, 2, sizeof(const char *));
    logger.fn = collect;
    logger.baton = &f->parse_log;
    ks = bcl_keyset_create(p);
    if (bcl_keyset_add_jwks(ks, res.body, res.len, &logger, &err) != 0) {
        f->tag = BCL_TAG_KEYS_MALFORMED;
        f->error = apr_psprintf(p, "JWKS %s is refused: %s", f->jwks_uri, err);
        return -1;
    }
    f->jwks = res.body;
    f->jwks_len = res.len;
    f->nkids = (unsigned)bcl_keyset_count(ks);
    f->kids = "";
    for (int i = 0; i < bcl_keyset_count(ks); i++) {
        const bcl_key_t *k = bcl_keyset_verify_key(ks, i);
        if (k->kid != NULL)
            f->kids = *f->kids ? apr_pstrcat(p, f->kids, ",", k->kid, NULL) : k->kid;
    }
    return 0;
}

static void copy_str(char *dst, apr_size_t cap, const char *src)
{
    apr_cpystrn(dst, src ? src : "", cap);
}

static const char *when(apr_pool_t *p, apr_time_t t)
{
    char buf[APR_RFC822_DATE_LEN];
    if (t == 0)
        return "never";
    apr_rfc822_date(buf, t);
    return apr_pstrdup(p, buf);
}

bcl_refresh_result_t bcl_keys_refresh(bcl_keys_rt_t *rt, bcl_key_source_t *src, server_rec *s,
                                      apr_pool_t *p, const char *why, int keys_only, int *changed)
{
    const char *known_issuer = NULL, *known_jwks_uri = NULL;
    bcl_keys_slot_t *slot = src->slot;
    apr_time_t now = apr_time_now();
    apr_uint64_t generation;
    unsigned failures_before, failures;
    apr_time_t last_success;
    fetched_t f;
    long delay;
    int ok;
    bcl_keys_slot_t saved_slot;
    const char *saved_doc = NULL;

    *changed = 0;
    if (bcl_keys_lock(rt) != 0)
        return BCL_REFRESH_BUSY;
    if (slot->claimed_until > now) {
        bcl_keys_unlock(rt);
        return BCL_REFRESH_BUSY;
    }
    /* two fetches (metadata, JWKS) each within the timeout, plus slack; a
     * process that dies mid-fetch leaves a claim that simply expires */
    slot->claimed_until = now + apr_time_from_sec(2 * src->conf.timeout + 2);
    slot->last_attempt = now;
    if (keys_only && src->kind == BCL_KEYSRC_METADATA && slot->generation != 0) {
        known_issuer = apr_pstrdup(p, slot->issuer);
        known_jwks_uri = apr_pstrdup(p, slot->jwks_uri);
    }
    bcl_keys_unlock(rt);

    memset(&f, 0, sizeof(f));
    ok = fetch_documents(p, src, known_issuer, known_jwks_uri, &f) == 0;
    now = apr_time_now();
    bcl_metrics_key_fetch(s, ok);

    if (bcl_keys_lock(rt) != 0)
        return BCL_REFRESH_FAILED;
    failures_before = slot->failures;
    if (ok) {
        if ((apr_size_t)src->conf.max_size < f.jwks_len)   /* cannot happen: the fetch caps it */
            f.jwks_len = (apr_size_t)src->conf.max_size;
        *changed = slot->generation == 0 || slot->doc_len != f.jwks_len
            || memcmp(src->doc, f.jwks, f.jwks_len) != 0 || strcmp(slot->issuer, f.issuer) != 0
            || strcmp(slot->jwks_uri, f.jwks_uri) != 0;
        if (*changed) {
            memcpy(src->doc, f.jwks, f.jwks_len);
            slot->doc_len = f.jwks_len;
            copy_str(slot->issuer, sizeof(slot->issuer), f.issuer);
            copy_str(slot->jwks_uri, sizeof(slot->jwks_uri), f.jwks_uri);
            copy_str(slot->kids, sizeof(slot->kids), f.kids);
            slot->nkids = f.nkids;
            slot->generation++;
        }
        delay = bcl_keysource_refresh_delay(f.max_age, (long)src->conf.min_refresh, (long)src->conf.refresh);
        slot->last_success = now;
        slot->failures = 0;
        slot->fetches_ok++;
        slot->last_error[0] = '\0';
    } else {
        slot->failures++;
        slot->fetches_failed++;
        slot->last_failure = now;
        copy_str(slot->last_error, sizeof(slot->last_error), f.error);
        delay = bcl_keysource_retry_delay(slot->failures, (long)src->conf.refresh);
    }
    slot->next_refresh = now + apr_time_from_sec(delay);
    slot->claimed_until = 0;
    if (ok && *changed && rt->disk_base != NULL) {
        saved_slot = *slot;
        saved_doc = apr_pmemdup(p, src->doc, slot->doc_len);
    }
    generation = slot->generation;
    failures = slot->failures;
    last_success = slot->last_success;
    bcl_keys_unlock(rt);
    if (saved_doc != NULL)
        bcl_keys_disk_save(rt, src, s, p, &saved_slot, saved_doc);

    if (!ok) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, "%s: key fetch failed (%s): %s; %u failure(s) in a row",
                     f.tag, why, f.error, failures);
        if (last_success != 0)
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, BCL_TAG_KEYS_STALE ": %s: keeping the keys fetched "
                         "last at %s (generation %" APR_UINT64_T_FMT "); next try in %ld s",
                         src->url, when(p, last_success), generation, delay);
        else
            ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, BCL_TAG_KEYS_NONE_YET ": %s: no keys were ever fetched "
                         "from this URL: logout tokens that need them are answered 503; next try in %ld s",
                         src->url, delay);
        return BCL_REFRESH_FAILED;
    }
    if (*changed) {
        for (int i = 0; i < f.parse_log.lines->nelts; i++)
            ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, "%s (%s)", APR_ARRAY_IDX(f.parse_log.lines, i, const char *),
                         f.jwks_uri);
        int redirected = f.jwks_final_url != NULL && strcmp(f.jwks_final_url, f.jwks_uri) != 0;
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, BCL_TAG_KEYS_FETCHED ": keys fetched (%s) from %s%s%s%s%s%s: %u key(s), "
                     "kids [%s], generation %" APR_UINT64_T_FMT ", next refresh in %ld s",
                     why, f.jwks_uri, redirected ? " (redirected to " : "", redirected ? f.jwks_final_url : "",
                     redirected ? ")" : "", src->kind == BCL_KEYSRC_METADATA ? " for issuer " : "",
                     src->kind == BCL_KEYSRC_METADATA ? f.issuer : "", f.nkids, f.kids, generation, delay);
    } else {
        ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s, BCL_TAG_KEYS_UNCHANGED ": keys refetched (%s) from %s: "
                     "unchanged, generation %" APR_UINT64_T_FMT ", next refresh in %ld s",
                     why, f.jwks_uri, generation, delay);
    }
    if (failures_before > 0)
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s, BCL_TAG_KEYS_RECOVERED ": %s answers again after %u "
                     "failed fetch(es)", src->url, failures_before);
    if (src->kind == BCL_KEYSRC_METADATA) {
        for (int i = 0; i < src->issuers->nelts; i++) {
            const char *want = APR_ARRAY_IDX(src->issuers, i, const char *);
            if (strcmp(want, f.issuer) != 0) {
                ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, BCL_TAG_KEYS_ISSUER_MISMATCH ": BCLIssuer \"%s\" differs "
                             "from the issuer \"%s\" in the metadata at %s: logout tokens there are refused (500) "
                             "until the configuration is fixed", want, f.issuer, src->url);
                BCL_COUNT(s, key_issuer_mismatches);
            }
        }
    }
    return BCL_REFRESH_DONE;
}
