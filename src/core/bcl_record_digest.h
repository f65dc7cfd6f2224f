/* The digest behind every record key (bcl_record.h), with the message
 * digest as a parameter: the bcl_hkey_* functions call it with SHA-256; the
 * unit tests call it with a digest that fails (NULL, or one whose output is
 * shorter than a key) to check that a failure is reported and yields no
 * key. */
#ifndef BCL_RECORD_DIGEST_H
#define BCL_RECORD_DIGEST_H

#include <openssl/evp.h>
#include "bcl_record.h"

/* Hashes label (with its NUL), a, a NUL, b with `md`; keeps the first
 * BCL_KEY_LEN bytes (never the all-zero key). Returns 0, or -1 with `*out`
 * all zero when the digest fails or is shorter than BCL_KEY_LEN. */
BCL_MUST_CHECK int bcl_hkey_digest(bcl_hkey_t *out, const EVP_MD *md, const char *label, const char *a, size_t a_len,
                    const char *b, size_t b_len);

#endif
