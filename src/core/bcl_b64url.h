/* Strict base64url (RFC 4648 section 5, no padding) decoding, as JOSE uses it. */
#ifndef BCL_B64URL_H
#define BCL_B64URL_H

#include <apr_pools.h>

/* Decodes `len` characters of `in` into a pool buffer (NUL-terminated for
 * convenience; `*out_len` excludes the NUL). Rejects padding, characters
 * outside the URL-safe alphabet, a length of 1 mod 4, and non-zero trailing
 * bits, so that every token has exactly one encoding. Returns 0 on success. */
int bcl_b64url_decode(apr_pool_t *p, const char *in, apr_size_t len,
                      unsigned char **out, apr_size_t *out_len);

/* Encodes without padding; the result is NUL-terminated. */
char *bcl_b64url_encode(apr_pool_t *p, const unsigned char *in, apr_size_t len);

#endif
