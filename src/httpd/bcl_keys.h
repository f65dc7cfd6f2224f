/* Keys fetched from the OP, shared by every child process.
 *
 * One cache entry per distinct URL (BCLJWKSURI, or BCLProviderMetadataURL
 * and the jwks_uri it names), whatever the number of locations and virtual
 * hosts using it. The raw documents and their bookkeeping live in APR shared
 * memory under a global mutex ("Mutex ... bcl-keys"); each child parses a
 * document once per generation and shares the parsed keys between its
 * threads. mod_watchdog fetches in the background: at startup and before
 * the keys expire; a failed refresh keeps the keys held (stale-if-error).
 * A token with an unknown kid causes one synchronous refetch, at most once
 * per BCLKeyRefetchInterval per URL across all processes. */
#ifndef BCL_KEYS_H
#define BCL_KEYS_H

#include <httpd.h>
#include "bcl_config.h"
#include "bcl_keyset.h"
#include "bcl_token.h"

#define BCL_KEYS_MUTEX_TYPE "bcl-keys"

typedef struct bcl_keys_rt_t bcl_keys_rt_t;

/* pre_config: makes "Mutex bcl-keys ..." known. */
apr_status_t bcl_keys_register(apr_pool_t *pconf);

/* post_config (not in the configuration check pass): one entry per URL
 * declared in this configuration, the shared memory and mutex, and the
 * background fetcher. Never touches the network: startup does not wait for
 * the OP. `*rt` is NULL when no URL is configured. */
apr_status_t bcl_keys_post_config(server_rec *s, apr_pool_t *pconf, apr_pool_t *ptemp, bcl_keys_rt_t **rt);

/* child_init: re-attaches the mutex; prepares the child's parsed-key cache. */
void bcl_keys_child_init(apr_pool_t *pchild, server_rec *s, bcl_keys_rt_t *rt);

/* ---- the receiver ------------------------------------------------------ */

typedef struct bcl_keys_use_t bcl_keys_use_t;

/* For a receiver whose configuration names a fetched key source: completes
 * `policy` (the discovered issuer when BCLIssuer is not set) and replaces
 * `*keys` by the static keys plus the fetched ones (held until the request
 * ends). When nothing was ever fetched from the URL it first tries one
 * rate-limited fetch. Returns OK, or an HTTP status (503, 500) with
 * `*error` (an OAuth error code) and `*why` set and the reason logged. */
int bcl_keys_for_request(request_rec *r, const bcl_dir_conf_t *conf, bcl_policy_t *policy,
                         const bcl_keyset_t **keys, bcl_keys_use_t **use,
                         const char **error, const char **why);

/* After a token was refused because its kid is unknown: one refetch of the
 * URL unless one was made less than BCLKeyRefetchInterval ago (by any
 * process). Returns 1 when the keys changed (call bcl_keys_for_request again
 * and validate again), 0 otherwise. */
int bcl_keys_refetch_for_kid(request_rec *r, bcl_keys_use_t *use, const char *kid);

/* Whether keys were ever fetched from the source of `use`. */
int bcl_keys_ever_fetched(const bcl_keys_use_t *use);

/* ---- status (for the status handler) ------------------------------------ */

typedef struct {
    const char *url;             /* BCLJWKSURI or BCLProviderMetadataURL as configured */
    const char *kind;            /* "jwks" or "metadata" */
    const char *jwks_uri;        /* the URL keys come from (discovered for metadata; NULL before) */
    const char *issuer;          /* discovered issuer (metadata), else NULL */
    apr_time_t last_attempt;     /* 0 = never */
    apr_time_t last_success;     /* 0 = never: tokens needing these keys get 503 */
    apr_time_t last_failure;
    apr_time_t next_refresh;     /* when the background fetcher refreshes next */
    unsigned consecutive_failures;
    apr_uint64_t fetches_ok;
    apr_uint64_t fetches_failed;
    apr_uint64_t refetches;           /* caused by unknown kids */
    apr_uint64_t refetches_limited;   /* unknown kids that caused no fetch (rate limit) */
    apr_uint64_t generation;          /* bumped each time the documents changed */
    unsigned kids_known;
    const char *kids;            /* comma-separated kids ("" when none; keys without kid are counted only) */
    const char *last_error;      /* NULL when the last fetch succeeded */
} bcl_keys_status_t;

typedef void bcl_keys_status_fn(void *baton, const bcl_keys_status_t *st);

/* Calls `fn` once per key URL of the running configuration, with a
 * consistent snapshot (copied under the mutex; strings from `p`). Callable
 * from any request of any child. Returns the number of URLs. */
int bcl_keys_status_each(server_rec *s, apr_pool_t *p, bcl_keys_status_fn *fn, void *baton);

#endif
