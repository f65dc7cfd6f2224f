/* RSA_verify: the call cjose itself makes for RS*, without its per-token
 * import (see verify_rs); deprecated in OpenSSL 3 but present. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <string.h>
#include <strings.h>
#include <apr_strings.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/rsa.h>
#include <cjose/jws.h>
#include "bcl_b64url.h"
#include "bcl_jws.h"

/* The most keys tried for one token without kid; a JWKS rarely holds more. */
#define BCL_MAX_CANDIDATE_KEYS 16


/* typ compares case-insensitively, with or without "application/" (RFC 7515, 4.1.9). */
static int typ_allowed(const char *typ)
{
    if (strncasecmp(typ, "application/", 12) == 0)
        typ += 12;
    return strcasecmp(typ, "logout+jwt") == 0 || strcasecmp(typ, "jwt") == 0;
}

bcl_reason_t bcl_jose_header_parse(apr_pool_t *p, const char *b64, apr_size_t len,
                                   const bcl_json_t **header, bcl_verdict_t *v)
{
    unsigned char *raw;
    apr_size_t raw_len;
    const char *jerr = NULL;
    const bcl_json_t *h, *typ, *crit;

    if (len == 0 || bcl_b64url_decode(p, b64, len, &raw, &raw_len) != 0)
        return bcl_verdict_fail(v, BCL_R_MALFORMED, "header is not base64url");
    h = bcl_json_parse(p, (const char *)raw, raw_len, &jerr);
    if (h == NULL)
        return bcl_verdict_fail(v, BCL_R_HEADER, apr_psprintf(p, "header is not valid JSON or has duplicate members (%s)",
                                                  bcl_verdict_clip(p, jerr)));
    if (!bcl_json_is_object(h))
        return bcl_verdict_fail(v, BCL_R_HEADER, "header is not a JSON object");
    crit = bcl_json_get(h, "crit");
    if (crit != NULL) {
        const bcl_json_t *first = bcl_json_is_array(crit) && crit->n > 0 ? crit->items[0] : NULL;
        const char *detail = bcl_json_is_string(first)
            ? apr_psprintf(p, "critical header parameter \"%s\" is not understood", bcl_verdict_clip(p, first->str))
            : "crit is not a non-empty array of names";
        return bcl_verdict_fail(v, BCL_R_CRIT, detail);
    }
    typ = bcl_json_get(h, "typ");
    if (typ != NULL && (!bcl_json_is_string(typ) || !typ_allowed(typ->str))) {
        const char *shown = bcl_json_is_string(typ) ? bcl_verdict_clip(p, typ->str) : "(not a string)";
        return bcl_verdict_fail(v, BCL_R_TYP, apr_psprintf(p, "typ \"%s\" is not logout+jwt or JWT", shown));
    }
    *header = h;
    return BCL_OK;
}

static int verify_eddsa(const bcl_key_t *key, const char *input, apr_size_t input_len,
                        const unsigned char *sig, apr_size_t sig_len)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = 0;

    if (ctx != NULL && sig_len == 64
        && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key->pkey) == 1
        && EVP_DigestVerify(ctx, sig, sig_len, (const unsigned char *)input, input_len) == 1)
        ok = 1;
    EVP_MD_CTX_free(ctx);
    return ok;
}

/* RS256/384/512 (RSASSA-PKCS1-v1_5): the digest of the signing input, then
 * RSA_verify with the RSA key cjose parsed when the JWKS was loaded, as
 * cjose_jws_verify does, but without cjose_jws_import, which decodes all
 * three parts and parses the header JSON again for every token. */
static int verify_rs(const bcl_key_t *key, bcl_alg_t alg, const char *input, apr_size_t input_len,
                     const unsigned char *sig, apr_size_t sig_len)
{
    cjose_err err = { 0 };
    RSA *rsa = cjose_jwk_get_kty(key->jwk, &err) == CJOSE_JWK_KTY_RSA ? cjose_jwk_get_keydata(key->jwk, &err) : NULL;
    int which = alg == BCL_ALG_RS256 ? 0 : alg == BCL_ALG_RS384 ? 1 : 2;
    const EVP_MD *md = key->md[which] != NULL ? key->md[which]
                       : which == 0 ? EVP_sha256() : which == 1 ? EVP_sha384() : EVP_sha512();
    int nid = alg == BCL_ALG_RS256 ? NID_sha256 : alg == BCL_ALG_RS384 ? NID_sha384 : NID_sha512;
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_len = 0;

    if (rsa == NULL || sig_len != (apr_size_t)RSA_size(rsa) || sig_len > 0xffffffffu
        || EVP_Digest(input, input_len, digest, &digest_len, md, NULL) != 1)
        return 0;
    return RSA_verify(nid, digest, digest_len, sig, (unsigned int)sig_len, rsa) == 1;
}

/* The one signature length each algorithm cjose verifies can have; 0 when
 * the key decides (PS*: its modulus). Checked before cjose sees the token:
 * cjose 0.6.2 (Debian 12) compares an HS* signature over the HMAC's length
 * before it checks the signature's own, reading past the end of a shorter
 * one (found by fuzz_token). */
static apr_size_t cjose_sig_len(bcl_alg_t alg, const bcl_key_t *key)
{
    cjose_err err = { 0 };
    RSA *rsa;

    switch (alg) {
    case BCL_ALG_HS256: return 32;
    case BCL_ALG_HS384: return 48;
    case BCL_ALG_HS512: return 64;
    case BCL_ALG_ES256: return 64;
    case BCL_ALG_ES384: return 96;
    case BCL_ALG_ES512: return 132;
    case BCL_ALG_PS256:
    case BCL_ALG_PS384:
    case BCL_ALG_PS512:
        rsa = cjose_jwk_get_kty(key->jwk, &err) == CJOSE_JWK_KTY_RSA ? cjose_jwk_get_keydata(key->jwk, &err) : NULL;
        return rsa != NULL ? (apr_size_t)RSA_size(rsa) : 0;
    default:
        return 0;
    }
}

/* cjose keeps digest state in the JWS object, so each key gets a fresh one. */
static int verify_cjose(const bcl_key_t *key, bcl_alg_t alg, const char *jws, apr_size_t len, apr_size_t sig_len)
{
    cjose_err err = { 0 };
    cjose_jws_t *obj;
    int ok = 0;

    if (sig_len != cjose_sig_len(alg, key))
        return 0;
    obj = cjose_jws_import(jws, len, &err);

    if (obj != NULL) {
        ok = cjose_jws_verify(obj, key->jwk, &err) ? 1 : 0;
        cjose_jws_release(obj);
    }
    return ok;
}

bcl_reason_t bcl_jws_verify(apr_pool_t *p, const char *jws, apr_size_t len,
                            const bcl_keyset_t *keys, const bcl_policy_t *policy,
                            const char **payload, apr_size_t *payload_len, bcl_verdict_t *v)
{
    const char *dot1 = memchr(jws, '.', len);
    const char *dot2 = dot1 ? memchr(dot1 + 1, '.', len - (apr_size_t)(dot1 + 1 - jws)) : NULL;
    const bcl_key_t *candidates[BCL_MAX_CANDIDATE_KEYS];
    unsigned char *body, *sig;
    apr_size_t body_len, sig_len;
    const bcl_json_t *header = NULL, *jalg, *jkid;
    int alg, n, verified = 0;
    bcl_reason_t r;

    if (dot1 == NULL || dot2 == NULL || memchr(dot2 + 1, '.', len - (apr_size_t)(dot2 + 1 - jws)) != NULL)
        return bcl_verdict_fail(v, BCL_R_MALFORMED, "a signed logout token has three dot-separated parts");
    r = bcl_jose_header_parse(p, jws, (apr_size_t)(dot1 - jws), &header, v);
    if (r != BCL_OK)
        return r;

    jalg = bcl_json_get(header, "alg");
    jkid = bcl_json_get(header, "kid");
    if (jkid != NULL && !bcl_json_is_string(jkid)) {
        r = bcl_verdict_fail(v, BCL_R_HEADER, "kid is not a string");
        goto out;
    }
    if (!bcl_json_is_string(jalg)) {
        r = bcl_verdict_fail(v, BCL_R_ALG, "alg is missing or not a string");
        goto out;
    }
    v->alg = jalg->str;
    v->kid = jkid ? jkid->str : NULL;
    if (strcasecmp(v->alg, "none") == 0) {
        r = bcl_verdict_fail(v, BCL_R_ALG, "alg none is never accepted");
        goto out;
    }
    alg = bcl_alg_from_name(v->alg);
    if (alg < 0) {
        r = bcl_verdict_fail(v, BCL_R_ALG, apr_psprintf(p, "alg \"%s\" is not supported", bcl_verdict_clip(p, v->alg)));
        goto out;
    }
    if (!(policy->allowed_algs & BCL_ALG_BIT(alg))) {
        r = bcl_verdict_fail(v, BCL_R_ALG, apr_psprintf(p, "alg %s is not allowed by BCLSigningAlg", v->alg));
        goto out;
    }

    if (bcl_b64url_decode(p, dot1 + 1, (apr_size_t)(dot2 - dot1 - 1), &body, &body_len) != 0) {
        r = bcl_verdict_fail(v, BCL_R_MALFORMED, "payload is not base64url");
        goto out;
    }
    if (bcl_b64url_decode(p, dot2 + 1, len - (apr_size_t)(dot2 + 1 - jws), &sig, &sig_len) != 0 || sig_len == 0) {
        r = bcl_verdict_fail(v, BCL_R_MALFORMED, "signature is missing or not base64url");
        goto out;
    }

    n = bcl_keyset_select(keys, (bcl_alg_t)alg, v->kid, candidates, BCL_MAX_CANDIDATE_KEYS);
    if (n == 0) {
        if (bcl_alg_key_type((bcl_alg_t)alg) == BCL_KTY_OCT)
            r = bcl_verdict_fail(v, BCL_R_NO_KEY, apr_psprintf(p, "alg %s needs BCLClientSecret, which is not set", v->alg));
        else if (v->kid != NULL && bcl_keyset_has_kid(keys, v->kid))
            r = bcl_verdict_fail(v, BCL_R_NO_KEY, apr_psprintf(p, "the key with kid \"%s\" does not fit alg %s",
                                                   bcl_verdict_clip(p, v->kid), v->alg));
        else if (v->kid != NULL)
            r = bcl_verdict_fail(v, BCL_R_UNKNOWN_KID, apr_psprintf(p, "no configured %s key has kid \"%s\"",
                                                        bcl_kty_name(bcl_alg_key_type((bcl_alg_t)alg)), bcl_verdict_clip(p, v->kid)));
        else
            r = bcl_verdict_fail(v, BCL_R_NO_KEY, apr_psprintf(p, "no configured %s key for alg %s",
                                                   bcl_kty_name(bcl_alg_key_type((bcl_alg_t)alg)), v->alg));
        goto out;
    }
    for (int i = 0; i < n && !verified; i++) {
        if (alg == BCL_ALG_EDDSA)
            verified = verify_eddsa(candidates[i], jws, (apr_size_t)(dot2 - jws), sig, sig_len);
        else if (alg == BCL_ALG_RS256 || alg == BCL_ALG_RS384 || alg == BCL_ALG_RS512)
            verified = verify_rs(candidates[i], (bcl_alg_t)alg, jws, (apr_size_t)(dot2 - jws), sig, sig_len);
        else
            verified = verify_cjose(candidates[i], (bcl_alg_t)alg, jws, len, sig_len);
    }
    if (!verified) {
        r = bcl_verdict_fail(v, BCL_R_SIGNATURE, apr_psprintf(p, "%s signature does not verify with %s", v->alg,
                                                  n == 1 ? "the configured key" : "any configured key"));
        goto out;
    }
    *payload = (const char *)body;
    *payload_len = body_len;
    r = BCL_OK;
out:
    return r;
}
