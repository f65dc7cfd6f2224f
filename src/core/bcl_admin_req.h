/* The administrative revocation endpoint's inputs, parsed without httpd
 * (SetHandler backchannel-logout-admin; docs/admin.md): the token file of
 * BCLAdminTokenFile, a presented bearer token, and the JSON request body.
 * Parsers of outside input: small, strict, and fuzzable. */
#ifndef BCL_ADMIN_REQ_H
#define BCL_ADMIN_REQ_H

#include <stddef.h>
#include <apr_pools.h>
#include <apr_tables.h>

/* Tokens are kept only as SHA-256 digests, with the line they came from
 * (named in the audit log, never the token). */
#define BCL_ADMIN_DIGEST_LEN 32
typedef struct {
    unsigned char d[BCL_ADMIN_DIGEST_LEN];
    int line;
} bcl_admin_token_t;

/* A token: 16 to 512 visible ASCII characters (no space). Shorter ones are
 * refused: a guessable token is worse than none. */
#define BCL_ADMIN_TOKEN_MIN 16
#define BCL_ADMIN_TOKEN_MAX 512

/* Parses a token file: one token per line; blank lines and lines starting
 * with '#' (after leading blanks) are ignored; a trailing CR is dropped.
 * Returns an array of bcl_admin_token_t, or NULL with `*why` naming the
 * line (a bad token, or no token at all). */
apr_array_header_t *bcl_admin_tokens_parse(apr_pool_t *p, const char *data, size_t len, const char **why);

/* The line of the token `token` (len bytes) matches, or 0 when none does.
 * Constant time in the token: its digest is compared with every stored
 * digest (CRYPTO_memcmp over equal lengths), with no early exit. */
int bcl_admin_token_find(const apr_array_header_t *tokens, const char *token, size_t len);

/* The token of an Authorization header value "Bearer <token>" (scheme case
 * insensitive); NULL when the header is not a bearer credential. */
const char *bcl_admin_bearer(apr_pool_t *p, const char *authorization);

typedef enum { BCL_ADMIN_SUB = 0, BCL_ADMIN_SID, BCL_ADMIN_ALL } bcl_admin_what_t;

typedef struct {
    bcl_admin_what_t what;
    const char *value;        /* the sub or sid; NULL for all */
    const char *iss;          /* NULL: the location's issuer */
} bcl_admin_req_t;

/* The largest body and value accepted. */
#define BCL_ADMIN_BODY_MAX 8192
#define BCL_ADMIN_VALUE_MAX 1024

/* Parses a POST body: a JSON object with exactly one of "sub" (string),
 * "sid" (string) or "all" (true), and optionally "iss" (string). Unknown
 * members, duplicate members, other types, empty strings, strings longer
 * than BCL_ADMIN_VALUE_MAX, a body over BCL_ADMIN_BODY_MAX: -1 with
 * `*why`. */
int bcl_admin_request_parse(apr_pool_t *p, const char *body, size_t len, bcl_admin_req_t *out, const char **why);

#endif
