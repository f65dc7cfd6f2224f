/* Shared between the files of the fetched-key cache (bcl_keys*.c); not for
 * other parts of the module, which use bcl_keys.h. */
#ifndef BCL_KEYS_INTERNAL_H
#define BCL_KEYS_INTERNAL_H

#include <apr_global_mutex.h>
#include <apr_hash.h>
#include <apr_shm.h>
#include <apr_thread_mutex.h>
#include "bcl_keys.h"
#include "bcl_keysource.h"

/* One URL's state in shared memory. Plain data only: the segment is read
 * and written by every child, always under the global mutex. The raw JWKS
 * follows elsewhere in the segment (bcl_key_source_t.doc). */
typedef struct {
    apr_uint64_t generation;      /* 0 = nothing fetched yet; bumped when the documents change */
    apr_time_t last_attempt, last_success, last_failure;
    apr_time_t next_refresh;      /* the background fetcher's next due time */
    apr_time_t last_refetch;      /* last fetch caused by an unknown kid */
    apr_time_t claimed_until;     /* a fetch is under way (by some process) until then */
    apr_uint32_t failures;        /* consecutive */
    apr_uint32_t nkids;
    apr_uint64_t fetches_ok, fetches_failed, refetches, refetches_limited;
    apr_size_t doc_len;
    char issuer[BCL_KEYSOURCE_MAX_ISSUER + 1];   /* discovered (metadata) */
    char jwks_uri[BCL_KEYSOURCE_MAX_URL + 1];    /* where the keys came from */
    char kids[512];
    char last_error[512];
} bcl_keys_slot_t;

/* Keys parsed in one child from one generation; shared by its threads,
 * freed when the last request using it ends after a newer one arrived. */
typedef struct bcl_keys_parsed_t {
    apr_pool_t *pool;             /* unmanaged: created and destroyed under the child mutex */
    bcl_keyset_t *keys;
    const char *issuer;           /* discovered issuer of the same generation ("" for BCLJWKSURI) */
    apr_uint64_t generation;
    int refs;                     /* the cache's own reference + one per request */
} bcl_keys_parsed_t;

typedef struct {
    bcl_keysrc_kind_t kind;
    const char *url;
    const char *where;            /* config file:line of the first declaration */
    bcl_fetch_conf_t conf;        /* resolved: no BCL_UNSET left */
    apr_array_header_t *issuers;  /* of const char*: BCLIssuer values of the sections using it */
    bcl_keys_slot_t *slot;        /* in shared memory */
    char *doc;                    /* in shared memory, conf.max_size bytes */
    bcl_keys_parsed_t *current;   /* per child (child_init and later) */
    const volatile apr_uint32_t *stopping;  /* the runtime's flag: fetches give up when set */
} bcl_key_source_t;

struct bcl_keys_rt_t {
    server_rec *s;
    apr_array_header_t *sources;  /* of bcl_key_source_t* */
    apr_hash_t *by_url;           /* "j " / "m " + url -> bcl_key_source_t* */
    apr_shm_t *shm;
    apr_global_mutex_t *mutex;
    int watchdog;                 /* mod_watchdog refreshes in the background */
    apr_thread_mutex_t *child_mutex;  /* per child: guards `current` of every source */
    pid_t parent_pid;             /* the process that made the segment (carries keys across restarts) */
    /* per process: a child that exits must not leave the background
     * fetcher inside libcurl/OpenSSL while exit() tears OpenSSL down */
    volatile apr_uint32_t stopping;
    volatile apr_uint32_t inflight;   /* background fetches under way in this process */
    const char *disk_base;        /* BCLStore shm file=: key sets kept at <file>.keys-<hash>; NULL: not kept */
};

int bcl_keys_lock(bcl_keys_rt_t *rt);
void bcl_keys_unlock(bcl_keys_rt_t *rt);
bcl_key_source_t *bcl_keys_find(bcl_keys_rt_t *rt, bcl_keysrc_kind_t kind, const char *url);

typedef enum { BCL_REFRESH_DONE, BCL_REFRESH_FAILED, BCL_REFRESH_BUSY } bcl_refresh_result_t;

/* Fetches the source's documents, checks them, and stores them in shared
 * memory (bumping the generation when they changed) or records the
 * failure. At most one fetch of a URL runs at a time across all processes:
 * BUSY when another is under way. `why` names the cause for the log.
 * `keys_only`: for a discovery source already fetched, refetch the JWKS at
 * the known jwks_uri without the metadata (the unknown-kid path). */
bcl_refresh_result_t bcl_keys_refresh(bcl_keys_rt_t *rt, bcl_key_source_t *src, server_rec *s,
                                      apr_pool_t *p, const char *why, int keys_only, int *changed);

/* bcl_keys_disk.c: the last good key set of each URL beside the journal. */
void bcl_keys_disk_save(bcl_keys_rt_t *rt, const bcl_key_source_t *src, server_rec *s, apr_pool_t *p,
                        const bcl_keys_slot_t *slot, const char *doc);
void bcl_keys_disk_load(bcl_keys_rt_t *rt, server_rec *s, apr_pool_t *ptemp);

#endif
