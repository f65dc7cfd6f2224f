/* Rules for keys fetched from the OP (BCLJWKSURI, BCLProviderMetadataURL):
 * which URLs may be fetched, how long a fetched document is used, how soon a
 * failed fetch is retried, and what a discovery document must contain.
 * Pure functions: no I/O, so the unit tests pin every rule down. */
#ifndef BCL_KEYSOURCE_H
#define BCL_KEYSOURCE_H

#include <apr_pools.h>

/* Longest issuer and jwks_uri taken from a discovery document (they are
 * kept in shared memory, in fixed-size fields). */
#define BCL_KEYSOURCE_MAX_ISSUER 1023
#define BCL_KEYSOURCE_MAX_URL 2047

/* Whether `url` may be fetched: https:// with a host, or http:// to a
 * loopback host (127.0.0.0/8, ::1, localhost), which sets `*loopback_http`
 * (the caller warns). No user:password, no fragment. Returns 0, or -1 with
 * `*err` saying why. */
int bcl_keysource_check_url(apr_pool_t *p, const char *url, int *loopback_http, const char **err);

/* The freshness a Cache-Control header value grants, in seconds: the
 * max-age value; 0 for no-cache or no-store (or max-age=0); -1 when the
 * header is absent or says nothing about freshness. s-maxage is for shared
 * caches and is ignored. */
long bcl_keysource_max_age(const char *cache_control);

/* How long to use a freshly fetched document: `max_age` (from
 * bcl_keysource_max_age) clamped to [min, max]; `max` when the OP says
 * nothing (-1). */
long bcl_keysource_refresh_delay(long max_age, long min, long max);

/* How long to wait before retrying after `failures` (>= 1) failed fetches
 * in a row: 5 s doubling each time, at most 300 s and at most `max`, at
 * least 1 s. */
long bcl_keysource_retry_delay(unsigned failures, long max);

/* Reads an OpenID Provider metadata document (OpenID Connect Discovery 1.0,
 * section 3): a JSON object with a non-empty string "issuer" and a
 * "jwks_uri" that bcl_keysource_check_url accepts. Returns 0 with both set
 * (allocated from `p`), or -1 with `*err` naming the problem. */
int bcl_keysource_parse_metadata(apr_pool_t *p, const char *json, apr_size_t len,
                                 const char **issuer, const char **jwks_uri, const char **err);

#endif
