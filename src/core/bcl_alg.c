#include <string.h>
#include "bcl_alg.h"

static const struct {
    const char *name;
    bcl_kty_t kty;
} alg_table[BCL_ALG_COUNT] = {
    [BCL_ALG_RS256] = { "RS256", BCL_KTY_RSA },
    [BCL_ALG_RS384] = { "RS384", BCL_KTY_RSA },
    [BCL_ALG_RS512] = { "RS512", BCL_KTY_RSA },
    [BCL_ALG_PS256] = { "PS256", BCL_KTY_RSA },
    [BCL_ALG_PS384] = { "PS384", BCL_KTY_RSA },
    [BCL_ALG_PS512] = { "PS512", BCL_KTY_RSA },
    [BCL_ALG_ES256] = { "ES256", BCL_KTY_EC_P256 },
    [BCL_ALG_ES384] = { "ES384", BCL_KTY_EC_P384 },
    [BCL_ALG_ES512] = { "ES512", BCL_KTY_EC_P521 },
    [BCL_ALG_HS256] = { "HS256", BCL_KTY_OCT },
    [BCL_ALG_HS384] = { "HS384", BCL_KTY_OCT },
    [BCL_ALG_HS512] = { "HS512", BCL_KTY_OCT },
    [BCL_ALG_EDDSA] = { "EdDSA", BCL_KTY_OKP_ED25519 },
};

int bcl_alg_from_name(const char *name)
{
    if (name == NULL)
        return -1;
    for (int i = 0; i < BCL_ALG_COUNT; i++) {
        if (strcmp(alg_table[i].name, name) == 0)
            return i;
    }
    return -1;
}

const char *bcl_alg_name(bcl_alg_t alg)
{
    return (unsigned)alg < BCL_ALG_COUNT ? alg_table[alg].name : "?";
}

bcl_kty_t bcl_alg_key_type(bcl_alg_t alg)
{
    return (unsigned)alg < BCL_ALG_COUNT ? alg_table[alg].kty : BCL_KTY_NONE;
}

const char *bcl_kty_name(bcl_kty_t kty)
{
    switch (kty) {
    case BCL_KTY_RSA: return "RSA";
    case BCL_KTY_EC_P256: return "EC P-256";
    case BCL_KTY_EC_P384: return "EC P-384";
    case BCL_KTY_EC_P521: return "EC P-521";
    case BCL_KTY_OKP_ED25519: return "OKP Ed25519";
    case BCL_KTY_OCT: return "oct";
    default: return "none";
    }
}

static const char *const jwe_alg_names[BCL_JWE_ALG_COUNT] = {
    [BCL_JWE_ALG_RSA_OAEP] = "RSA-OAEP",
    [BCL_JWE_ALG_RSA_OAEP_256] = "RSA-OAEP-256",
};

static const char *const jwe_enc_names[BCL_JWE_ENC_COUNT] = {
    [BCL_JWE_ENC_A128GCM] = "A128GCM",
    [BCL_JWE_ENC_A192GCM] = "A192GCM",
    [BCL_JWE_ENC_A256GCM] = "A256GCM",
    [BCL_JWE_ENC_A128CBC_HS256] = "A128CBC-HS256",
    [BCL_JWE_ENC_A192CBC_HS384] = "A192CBC-HS384",
    [BCL_JWE_ENC_A256CBC_HS512] = "A256CBC-HS512",
};

static int lookup(const char *const *names, int count, const char *name)
{
    if (name == NULL)
        return -1;
    for (int i = 0; i < count; i++) {
        if (strcmp(names[i], name) == 0)
            return i;
    }
    return -1;
}

int bcl_jwe_alg_from_name(const char *name)
{
    return lookup(jwe_alg_names, BCL_JWE_ALG_COUNT, name);
}

int bcl_jwe_enc_from_name(const char *name)
{
    return lookup(jwe_enc_names, BCL_JWE_ENC_COUNT, name);
}
