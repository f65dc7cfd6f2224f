/* Per-directory configuration and its directives. Directives may be set at
 * server / virtual host level and are inherited by every location there. */
#ifndef BCL_CONFIG_H
#define BCL_CONFIG_H

#include <httpd.h>
#include <http_config.h>
#include "bcl_keyset.h"
#include "bcl_token.h"
#include "bcl_keys_conf.h"
#include "bcl_record.h"

#define BCL_UNSET (-1)

typedef struct {
    const char *issuer;
    bcl_hkey_t issuer_cutoff;         /* bcl_hkey_iss(issuer), computed with it */
    apr_array_header_t *client_ids;   /* of const char* */
    const char *jwks_file;            /* for messages; the keys are in `jwks` */
    bcl_keyset_t *jwks;               /* parsed when the directive is read */
    bcl_keyset_t *secret;             /* BCLClientSecret */
    bcl_keyset_t *decryption;         /* BCLDecryptionKey, repeatable */
    bcl_alg_mask_t allowed_algs;      /* 0 = unset */
    int require_encryption;           /* BCL_UNSET, 0, 1 */
    int require_sid;
    int require_exp;
    long clock_skew;                  /* BCL_UNSET = default */
    apr_off_t max_token_size;         /* BCL_UNSET = default */
    bcl_fetch_conf_t fetch;           /* BCLJWKSURI / BCLProviderMetadataURL and their fetches */

    /* the guard */
    apr_array_header_t *session_cookies;  /* of const char*; NULL = guard off */
    int bind_mode;                    /* BCL_BIND_* */
    const char *bind_header;          /* response-header mode */
    const char *env_iss, *env_sid, *env_sub, *env_iat;  /* env mode */
    int on_revoked;                   /* BCL_ON_REVOKED_* */
    int revoked_status;
    const char *revoked_url;
    int unbound;                      /* BCL_UNSET, BCL_UNBOUND_ALLOW, BCL_UNBOUND_DENY */
    int store_unavailable;            /* BCL_UNSET, BCL_STORE_CLOSED, BCL_STORE_OPEN */
    int suspicious_cookie;            /* BCL_UNSET, BCL_SUSPICIOUS_DENY, BCL_SUSPICIOUS_ALLOW */
    const char *cookie_path;
    const char *cookie_domain;

    /* the admin handler (bcl_admin.c) */
    const char *admin_token_file;     /* BCLAdminTokenFile, for messages */
    apr_array_header_t *admin_tokens; /* of bcl_admin_digest_t: SHA-256 of each token */
} bcl_dir_conf_t;

enum { BCL_BIND_NONE = 0, BCL_BIND_RESPONSE_HEADER, BCL_BIND_ENV };
enum { BCL_ON_REVOKED_UNSET = 0, BCL_ON_REVOKED_PASS, BCL_ON_REVOKED_DENY, BCL_ON_REVOKED_REDIRECT };
enum { BCL_UNBOUND_ALLOW = 0, BCL_UNBOUND_DENY = 1 };
enum { BCL_STORE_CLOSED = 0, BCL_STORE_OPEN = 1 };
enum { BCL_SUSPICIOUS_DENY = 0, BCL_SUSPICIOUS_ALLOW = 1 };

/* Server-wide settings (one store per server, set in the main server). */
typedef struct bcl_runtime_t bcl_runtime_t;
typedef struct {
    int store_set;
    struct bcl_net_conf_t *net;       /* BCLStore memcache|redis; NULL: shm */
    apr_uint32_t capacity;            /* BCLStore shm capacity=N (or from memory=) */
    apr_uint64_t memory;              /* BCLStore shm memory=BYTES; 0 when capacity= set it */
    const char *journal_path;         /* BCLStore shm file=PATH; NULL: not durable */
    apr_int64_t lifetime;             /* BCLRevocationLifetime, seconds */
    bcl_runtime_t *rt;                /* shared by every server_rec: the live store */
} bcl_server_conf_t;

#define BCL_DEFAULT_CAPACITY 100000
#define BCL_DEFAULT_LIFETIME 86400
#define BCL_DEFAULT_BIND_HEADER "BCL-Session"

void *bcl_server_conf_create(apr_pool_t *p, server_rec *s);
void *bcl_server_conf_merge(apr_pool_t *p, void *base, void *add);

#define BCL_DEFAULT_CLOCK_SKEW 60
#define BCL_DEFAULT_MAX_TOKEN_SIZE 16384
#define BCL_DEFAULT_ALGS BCL_ALG_BIT(BCL_ALG_RS256)

void *bcl_dir_conf_create(apr_pool_t *p, char *dir);
void *bcl_dir_conf_merge(apr_pool_t *p, void *base, void *add);

/* The effective validation policy and keys of a merged configuration.
 * Returns NULL and sets `*missing` when a required directive is absent.
 * With a fetched key source (c->fetch.kind), `*keys` holds only the static
 * keys, and with BCLProviderMetadataURL the issuer may still be NULL: the
 * receiver completes both from the fetched documents (bcl_keys_for_request). */
const bcl_policy_t *bcl_conf_policy(apr_pool_t *p, const bcl_dir_conf_t *c,
                                    const bcl_keyset_t **keys, const char **missing);
apr_off_t bcl_conf_max_token_size(const bcl_dir_conf_t *c);

extern const command_rec bcl_directives[];

#endif
