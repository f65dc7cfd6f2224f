/* One HTTP GET of a key or metadata document, with the limits a server
 * fetching from the network needs: TLS always verified, connect and total
 * timeouts, few redirects (never from https to http), a size cap, and
 * libcurl's proxy environment (or an explicit proxy). libcurl only; no httpd
 * headers. Blocking: call it from a background thread or, rate-limited,
 * from a request. */
#ifndef BCL_FETCH_H
#define BCL_FETCH_H

#include <apr_pools.h>

#define BCL_FETCH_MAX_REDIRECTS 3

typedef struct {
    const char *ca_file;        /* NULL: the system's CAs */
    const char *proxy;          /* NULL: libcurl's environment (https_proxy, no_proxy, ...); "": no proxy */
    long connect_timeout_ms;
    long timeout_ms;            /* the whole transfer, redirects included */
    apr_size_t max_size;        /* largest body accepted */
    const char *user_agent;
    /* optional: polled during the transfer (at least once a second); a
     * non-zero answer abandons it (the process is stopping) */
    int (*should_stop)(void *baton);
    void *stop_baton;
} bcl_fetch_opts_t;

typedef enum {
    BCL_FETCH_OK = 0,
    BCL_FETCH_TRANSPORT,        /* DNS, connect, TLS, timeout, ... (error_text says which) */
    BCL_FETCH_HTTP_STATUS,      /* an answer other than 200 */
    BCL_FETCH_TOO_LARGE,        /* body (or Content-Length) over max_size */
    BCL_FETCH_BAD_REDIRECT      /* ended on a URL that may not be fetched */
} bcl_fetch_status_t;

typedef struct {
    bcl_fetch_status_t status;
    long http_status;           /* 0 when no answer */
    char *body;                 /* NUL-terminated; NULL unless OK */
    apr_size_t len;
    const char *cache_control;  /* of the final answer; NULL when absent */
    const char *final_url;      /* after redirects */
    const char *error;          /* human text when status != OK */
    double seconds;             /* how long it took (for the log) */
} bcl_fetch_result_t;

/* Call once per process before any fetch, from a single thread (the
 * module does it in the parent while reading the configuration). */
int bcl_fetch_global_init(void);
void bcl_fetch_global_cleanup(void);

/* GETs `url`. Everything is allocated from `p`. Returns res->status. */
bcl_fetch_status_t bcl_fetch_get(apr_pool_t *p, const char *url, const bcl_fetch_opts_t *opts,
                                 bcl_fetch_result_t *res);

const char *bcl_fetch_status_name(bcl_fetch_status_t st);

#endif
