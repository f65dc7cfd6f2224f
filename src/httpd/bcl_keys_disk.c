/* The last good key set of each key URL, kept on disk beside the journal
 * (`BCLStore shm file=PATH`: PATH.keys-<hash>), so that after a full
 * restart the keys are there before the OP answers, and while it is down.
 *
 * Written by the child that fetched new keys (as User, like the journal),
 * to a temporary file then renamed; read by the parent in post_config for
 * every URL that has no keys yet (after a graceful restart the carried keys
 * come first). A file is used only when it names the same URL and kind, and
 * its JWKS parses and fits BCLHTTPMaxSize; the background fetcher then
 * refreshes it at once. */
#include <httpd.h>
#include <http_log.h>
#include <apr_file_io.h>
#include <apr_strings.h>
#include <jansson.h>
#include "bcl_keys_internal.h"
#include "bcl_keyset.h"
#include "bcl_logtags.h"
#include "mod_backchannel_logout.h"

#define DISK_FORMAT 1

static const char *disk_path(apr_pool_t *p, const char *journal, const bcl_key_source_t *src)
{
    uint64_t h = 1469598103934665603ull;
    h = (h ^ (unsigned char)(src->kind == BCL_KEYSRC_METADATA ? 'm' : 'j')) * 1099511628211ull;
    for (const char *c = src->url; *c; c++)
        h = (h ^ (unsigned char)*c) * 1099511628211ull;
    return apr_psprintf(p, "%s.keys-%016" APR_UINT64_T_HEX_FMT, journal, h);
}

void bcl_keys_disk_save(bcl_keys_rt_t *rt, const bcl_key_source_t *src, server_rec *s, apr_pool_t *p,
                        const bcl_keys_slot_t *slot, const char *doc)
{
    const char *path, *tmp;
    json_t *o;
    char *text = NULL;
    apr_file_t *f = NULL;
    apr_size_t len;
    apr_status_t rv;

    if (rt->disk_base == NULL)
        return;
    path = disk_path(p, rt->disk_base, src);
    tmp = apr_psprintf(p, "%s.tmp%" APR_PID_T_FMT, path, getpid());
    o = json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:i, s:I, s:s%}", "format", DISK_FORMAT,
                  "kind", src->kind == BCL_KEYSRC_METADATA ? "metadata" : "jwks", "url", src->url,
                  "issuer", slot->issuer, "jwks_uri", slot->jwks_uri, "kids", slot->kids,
                  "nkids", (int)slot->nkids, "saved", (json_int_t)apr_time_sec(apr_time_now()),
                  "jwks", doc, slot->doc_len);
    if (o != NULL)
        text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (text == NULL)
        return;
    len = strlen(text);
    rv = apr_file_open(&f, tmp, APR_FOPEN_WRITE | APR_FOPEN_CREATE | APR_FOPEN_TRUNCATE,
                       APR_FPROT_UREAD | APR_FPROT_UWRITE, p);
    if (rv == APR_SUCCESS)
        rv = apr_file_write_full(f, text, len, NULL);
    if (rv == APR_SUCCESS)
        rv = apr_file_sync(f);
    if (f != NULL)
        apr_file_close(f);
    if (rv == APR_SUCCESS)
        rv = apr_file_rename(tmp, path, p);
    free(text);
    if (rv != APR_SUCCESS) {
        apr_file_remove(tmp, p);
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s, BCL_TAG_KEYS_DISK ": cannot keep the keys of %s on disk "
                     "(%s): after a full restart they are fetched again before tokens verify", src->url, path);
        return;
    }
    ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s, BCL_TAG_KEYS_DISK ": keys of %s kept in %s", src->url, path);
}

static void load_one(bcl_keys_rt_t *rt, bcl_key_source_t *src, server_rec *s, apr_pool_t *p)
{
    const char *path = disk_path(p, rt->disk_base, src), *err = NULL;
    const char *kind, *url, *issuer, *jwks_uri, *kids, *doc;
    apr_size_t doc_len = 0;
    json_int_t saved = 0, nkids = 0;
    json_error_t jerr;
    json_t *o;
    bcl_keyset_t *ks;
    apr_finfo_t fi;
    char *buf;
    apr_file_t *f;
    apr_size_t len;

    if (apr_stat(&fi, path, APR_FINFO_SIZE, p) != APR_SUCCESS)
        return;       /* never saved */
    if (fi.size > (apr_off_t)(2 * src->conf.max_size + 65536)
        || apr_file_open(&f, path, APR_FOPEN_READ, 0, p) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, BCL_TAG_KEYS_DISK ": %s is not usable (too large or "
                     "unreadable): the keys of %s are fetched at startup", path, src->url);
        return;
    }
    len = (apr_size_t)fi.size;
    buf = apr_palloc(p, len + 1);
    if (apr_file_read_full(f, buf, len, &len) != APR_SUCCESS)
        len = 0;
    apr_file_close(f);
    o = json_loadb(buf, len, 0, &jerr);
    if (o == NULL || json_unpack(o, "{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:s%}", "kind", &kind, "url", &url,
                                 "issuer", &issuer, "jwks_uri", &jwks_uri, "kids", &kids, "nkids", &nkids,
                                 "saved", &saved, "jwks", &doc, &doc_len) != 0) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, BCL_TAG_KEYS_DISK ": %s is damaged: the keys of %s are "
                     "fetched at startup", path, src->url);
        json_decref(o);
        return;
    }
    if (strcmp(url, src->url) != 0 || strcmp(kind, src->kind == BCL_KEYSRC_METADATA ? "metadata" : "jwks") != 0
        || doc_len > (apr_size_t)src->conf.max_size || strlen(issuer) > BCL_KEYSOURCE_MAX_ISSUER
        || strlen(jwks_uri) > BCL_KEYSOURCE_MAX_URL) {
        json_decref(o);
        return;       /* another URL's file (a hash collision) or other limits now */
    }
    ks = bcl_keyset_create(p);
    if (bcl_keyset_add_jwks(ks, doc, doc_len, NULL, &err) != 0) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, BCL_TAG_KEYS_DISK ": the JWKS kept in %s is refused (%s): "
                     "the keys of %s are fetched at startup", path, err, src->url);
        json_decref(o);
        return;
    }
    memcpy(src->doc, doc, doc_len);
    src->slot->doc_len = doc_len;
    apr_cpystrn(src->slot->issuer, issuer, sizeof(src->slot->issuer));
    apr_cpystrn(src->slot->jwks_uri, jwks_uri, sizeof(src->slot->jwks_uri));
    apr_cpystrn(src->slot->kids, kids, sizeof(src->slot->kids));
    src->slot->nkids = (apr_uint32_t)nkids;
    src->slot->generation = 1;
    src->slot->last_success = apr_time_from_sec(saved);
    src->slot->next_refresh = 0;          /* refreshed as soon as the fetcher runs */
    src->slot->claimed_until = 0;
    ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, BCL_TAG_KEYS_FETCHED ": keys of %s loaded from %s (fetched %"
                 APR_INT64_T_FMT " s ago): %u key(s), kids [%s]; refreshed from the OP now",
                 src->url, path, (apr_int64_t)(apr_time_sec(apr_time_now()) - saved), src->slot->nkids,
                 src->slot->kids);
    json_decref(o);
}

void bcl_keys_disk_load(bcl_keys_rt_t *rt, server_rec *s, apr_pool_t *ptemp)
{
    if (rt->disk_base == NULL)
        return;
    for (int i = 0; i < rt->sources->nelts; i++) {
        bcl_key_source_t *src = APR_ARRAY_IDX(rt->sources, i, bcl_key_source_t *);
        if (src->slot->generation == 0)
            load_one(rt, src, s, ptemp);
    }
}
