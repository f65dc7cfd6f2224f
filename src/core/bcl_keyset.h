/* The keys a receiver trusts: signature verification keys from a JWKS, the
 * client secret for HMAC, and private keys for encrypted logout tokens.
 * Built once per configuration; read-only (and so shared by all threads)
 * once built. */
#ifndef BCL_KEYSET_H
#define BCL_KEYSET_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <openssl/evp.h>
#include <cjose/jwk.h>
#include "bcl_alg.h"
#include "bcl_log.h"

typedef struct bcl_key_t {
    const char *kid;        /* NULL when the key has none */
    bcl_kty_t kty;
    const char *alg;        /* the JWK's "alg" member, if any: the key is then used for that alg only */
    cjose_jwk_t *jwk;       /* RSA, EC and oct keys (cjose verifies with them) */
    EVP_PKEY *pkey;         /* Ed25519 verification keys and RSA decryption keys (OpenSSL) */
    EVP_MD *md[3];          /* RSA verification keys: SHA-256, -384, -512 fetched once (RS* verify) */
} bcl_key_t;

typedef struct bcl_keyset_t bcl_keyset_t;

/* The set's cjose and OpenSSL objects are released by a cleanup on `p`. */
bcl_keyset_t *bcl_keyset_create(apr_pool_t *p);

/* Adds the signature keys of a JWKS document. Keys not for signatures
 * ("use" other than "sig", or an encryption "alg") are skipped and logged at
 * info; symmetric ("oct") keys and unsupported key types are skipped with a
 * warning: HMAC keys come only from the client secret. Returns 0, or -1 with
 * `*err` saying what is wrong (and which key, by index and kid); on -1 the
 * set may hold the keys before the bad one and must not be used (the module
 * then refuses the configuration). A JWKS with no usable key is an error. */
int bcl_keyset_add_jwks(bcl_keyset_t *ks, const char *json, apr_size_t len,
                        const bcl_logger_t *log, const char **err);

/* The client secret: the octets of its UTF-8 form are the HMAC key. */
int bcl_keyset_set_client_secret(bcl_keyset_t *ks, const char *secret, apr_size_t len,
                                 const char **err);

/* Adds an RSA private key (PEM, or a JWK / JWKS with private members) for
 * decrypting JWE logout tokens. */
int bcl_keyset_add_decryption_key(bcl_keyset_t *ks, const char *data, apr_size_t len,
                                  const char **err);

/* The verification keys that may check a signature made with `alg`: a key
 * whose type fits `alg` (and whose own "alg", if any, equals it) and, when
 * `kid` is non-NULL, whose kid equals it. HMAC algorithms yield the client
 * secret whatever the kid. Fills `out` (capacity `max`) and returns the count. */
int bcl_keyset_select(const bcl_keyset_t *ks, bcl_alg_t alg, const char *kid,
                      const bcl_key_t **out, int max);

/* Whether any verification key (of any type) has this kid. */
int bcl_keyset_has_kid(const bcl_keyset_t *ks, const char *kid);

/* A set made of the signature keys of `verify`, the client secret of
 * `secret` and the decryption keys of `decrypt` (each may be NULL). It owns
 * nothing and parses nothing: the module keeps one set per directive at each
 * configuration level and combines the inherited ones per request cheaply. */
bcl_keyset_t *bcl_keyset_combine(apr_pool_t *p, const bcl_keyset_t *verify,
                                 const bcl_keyset_t *secret, const bcl_keyset_t *decrypt);

/* A set whose verification keys are those of `a` followed by those of `b`
 * (either may be NULL): static keys from BCLJWKSFile next to keys fetched
 * from the OP. Like bcl_keyset_combine it owns nothing: both sets must
 * outlive it. */
bcl_keyset_t *bcl_keyset_union_verify(apr_pool_t *p, const bcl_keyset_t *a, const bcl_keyset_t *b);

/* Verification key number `i` (0 <= i < bcl_keyset_count), for listing kids. */
const bcl_key_t *bcl_keyset_verify_key(const bcl_keyset_t *ks, int i);

const apr_array_header_t *bcl_keyset_decryption_keys(const bcl_keyset_t *ks); /* of bcl_key_t* */
int bcl_keyset_count(const bcl_keyset_t *ks);  /* verification keys, not counting the secret */
int bcl_keyset_has_client_secret(const bcl_keyset_t *ks);

#endif
