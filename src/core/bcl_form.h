/* The back-channel request body: application/x-www-form-urlencoded. */
#ifndef BCL_FORM_H
#define BCL_FORM_H

#include <apr_pools.h>

typedef enum {
    BCL_FORM_OK = 0,
    BCL_FORM_MISSING,     /* no logout_token parameter */
    BCL_FORM_DUPLICATE,   /* logout_token given more than once */
    BCL_FORM_EMPTY,       /* logout_token present but empty */
    BCL_FORM_MALFORMED    /* bad percent-encoding in logout_token */
} bcl_form_status_t;

/* True when `content_type` names application/x-www-form-urlencoded
 * (case-insensitive, parameters such as charset allowed). */
int bcl_form_content_type_ok(const char *content_type);

/* Finds the single logout_token parameter in `body` and percent-decodes it
 * into a pool string. Unknown parameters are ignored. */
bcl_form_status_t bcl_form_logout_token(apr_pool_t *p, const char *body, apr_size_t len,
                                        const char **token, apr_size_t *token_len);

#endif
