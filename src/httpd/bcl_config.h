/* Per-directory configuration and its directives. Directives may be set at
 * server / virtual host level and are inherited by every location there. */
#ifndef BCL_CONFIG_H
#define BCL_CONFIG_H

#include <httpd.h>
#include <http_config.h>
#include "bcl_keyset.h"
#include "bcl_token.h"

#define BCL_UNSET (-1)

typedef struct {
    const char *issuer;
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
} bcl_dir_conf_t;

#define BCL_DEFAULT_CLOCK_SKEW 60
#define BCL_DEFAULT_MAX_TOKEN_SIZE 16384
#define BCL_DEFAULT_ALGS BCL_ALG_BIT(BCL_ALG_RS256)

void *bcl_dir_conf_create(apr_pool_t *p, char *dir);
void *bcl_dir_conf_merge(apr_pool_t *p, void *base, void *add);

/* The effective validation policy and keys of a merged configuration.
 * Returns NULL and sets `*missing` when a required directive is absent. */
const bcl_policy_t *bcl_conf_policy(apr_pool_t *p, const bcl_dir_conf_t *c,
                                    const bcl_keyset_t **keys, const char **missing);
apr_off_t bcl_conf_max_token_size(const bcl_dir_conf_t *c);

extern const command_rec bcl_directives[];

#endif
