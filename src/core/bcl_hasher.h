/* The record keys of bcl_record.h (the same bytes: truncated SHA-256 over
 * a label and NUL-separated fields) for the guard, which hashes on every
 * request. A hasher is made once per child: it fetches SHA-256 through
 * OpenSSL's configuration (providers, default properties such as
 * "fips=yes"), and when that implementation is the default provider's it
 * hashes on a stack SHA256_CTX (the same code the provider runs, without
 * the EVP context: no allocation, no dispatch, about 1,100 instructions a
 * key fewer); with another provider (FIPS) it hashes through EVP with the
 * fetched method. When SHA-256 cannot be fetched every key fails (-1) and
 * the guard fails closed, as with bcl_hkey_*. */
#ifndef BCL_HASHER_H
#define BCL_HASHER_H

#include <stddef.h>
#include <apr_pools.h>
#include "bcl_record.h"

typedef struct bcl_hasher_t bcl_hasher_t;

/* Fetches SHA-256 with property query `propq` (NULL: the configured
 * default); the method is freed by a cleanup of `p`. Never NULL. */
bcl_hasher_t *bcl_hasher_create(apr_pool_t *p, const char *propq);

/* 1 when keys can be computed; 0 when SHA-256 could not be fetched. */
int bcl_hasher_ok(const bcl_hasher_t *h);

/* Which implementation it runs: "stack" (the default provider's code on a
 * stack context), "evp" (another provider), "none". */
const char *bcl_hasher_kind(const bcl_hasher_t *h);

/* As bcl_hkey_cookie, bcl_hkey_sid, bcl_hkey_sub: the same keys. */
BCL_MUST_CHECK int bcl_hasher_cookie(const bcl_hasher_t *h, bcl_hkey_t *out, const char *name, const char *value,
                                     size_t value_len);
BCL_MUST_CHECK int bcl_hasher_sid(const bcl_hasher_t *h, bcl_hkey_t *out, const char *iss, const char *sid);
BCL_MUST_CHECK int bcl_hasher_sub(const bcl_hasher_t *h, bcl_hkey_t *out, const char *iss, const char *sub);
BCL_MUST_CHECK int bcl_hasher_iss(const bcl_hasher_t *h, bcl_hkey_t *out, const char *iss);

#endif
