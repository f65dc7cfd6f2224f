/* JOSE algorithm identifiers the module understands, and what key each needs. */
#ifndef BCL_ALG_H
#define BCL_ALG_H

typedef enum {
    BCL_ALG_RS256, BCL_ALG_RS384, BCL_ALG_RS512,
    BCL_ALG_PS256, BCL_ALG_PS384, BCL_ALG_PS512,
    BCL_ALG_ES256, BCL_ALG_ES384, BCL_ALG_ES512,
    BCL_ALG_HS256, BCL_ALG_HS384, BCL_ALG_HS512,
    BCL_ALG_EDDSA,
    BCL_ALG_COUNT
} bcl_alg_t;

/* The kind of key an algorithm needs. A key of any other kind is never tried. */
typedef enum {
    BCL_KTY_NONE = 0,
    BCL_KTY_RSA,
    BCL_KTY_EC_P256,
    BCL_KTY_EC_P384,
    BCL_KTY_EC_P521,
    BCL_KTY_OKP_ED25519,
    BCL_KTY_OCT
} bcl_kty_t;

/* A set of algorithms as a bit mask: bit (1u << alg). */
typedef unsigned int bcl_alg_mask_t;
#define BCL_ALG_BIT(a) (1u << (unsigned)(a))

/* Returns the algorithm named exactly `name` (case-sensitive, as RFC 7518), or -1. */
int bcl_alg_from_name(const char *name);
const char *bcl_alg_name(bcl_alg_t alg);
bcl_kty_t bcl_alg_key_type(bcl_alg_t alg);
const char *bcl_kty_name(bcl_kty_t kty);

/* JWE key management and content encryption algorithms supported. */
typedef enum { BCL_JWE_ALG_RSA_OAEP, BCL_JWE_ALG_RSA_OAEP_256, BCL_JWE_ALG_COUNT } bcl_jwe_alg_t;
typedef enum {
    BCL_JWE_ENC_A128GCM, BCL_JWE_ENC_A192GCM, BCL_JWE_ENC_A256GCM,
    BCL_JWE_ENC_A128CBC_HS256, BCL_JWE_ENC_A192CBC_HS384, BCL_JWE_ENC_A256CBC_HS512,
    BCL_JWE_ENC_COUNT
} bcl_jwe_enc_t;
int bcl_jwe_alg_from_name(const char *name);
int bcl_jwe_enc_from_name(const char *name);

#endif
