#include <string.h>
#include <apr_strings.h>
#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include "bcl_b64url.h"
#include "bcl_keyset.h"
#include "bcl_logtags.h"

struct bcl_keyset_t {
    apr_pool_t *pool;
    apr_array_header_t *verify_keys;   /* of bcl_key_t* */
    apr_array_header_t *decrypt_keys;  /* of bcl_key_t* */
    bcl_key_t *client_secret;          /* oct key, or NULL */
};

static void key_release(bcl_key_t *k)
{
    if (k->jwk != NULL)
        cjose_jwk_release(k->jwk);
    if (k->pkey != NULL)
        EVP_PKEY_free(k->pkey);
    for (int i = 0; i < 3; i++) {
        EVP_MD_free(k->md[i]);
        k->md[i] = NULL;
    }
    k->jwk = NULL;
    k->pkey = NULL;
}

static apr_status_t keyset_cleanup(void *data)
{
    bcl_keyset_t *ks = data;
    for (int i = 0; i < ks->verify_keys->nelts; i++)
        key_release(APR_ARRAY_IDX(ks->verify_keys, i, bcl_key_t *));
    for (int i = 0; i < ks->decrypt_keys->nelts; i++)
        key_release(APR_ARRAY_IDX(ks->decrypt_keys, i, bcl_key_t *));
    if (ks->client_secret != NULL)
        key_release(ks->client_secret);
    return APR_SUCCESS;
}

bcl_keyset_t *bcl_keyset_create(apr_pool_t *p)
{
    bcl_keyset_t *ks = apr_pcalloc(p, sizeof(*ks));
    ks->pool = p;
    ks->verify_keys = apr_array_make(p, 4, sizeof(bcl_key_t *));
    ks->decrypt_keys = apr_array_make(p, 1, sizeof(bcl_key_t *));
    apr_pool_cleanup_register(p, ks, keyset_cleanup, apr_pool_cleanup_null);
    return ks;
}

static const char *json_str(json_t *obj, const char *name)
{
    json_t *v = json_object_get(obj, name);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Describes key number `i` of a JWKS for messages: "key #2 (kid \"abc\")". */
static const char *key_label(apr_pool_t *p, int i, const char *kid)
{
    return kid ? apr_psprintf(p, "key #%d (kid \"%s\")", i, kid) : apr_psprintf(p, "key #%d", i);
}

/* cjose's base64url decoder aborts the process (an assert) on some invalid
 * input, so every key member is checked here first, strictly. */
static int members_are_base64url(apr_pool_t *p, json_t *key, const char **err)
{
    static const char *const members[] = { "n", "e", "d", "p", "q", "dp", "dq", "qi", "x", "y", NULL };
    for (int i = 0; members[i] != NULL; i++) {
        json_t *m = json_object_get(key, members[i]);
        unsigned char *raw;
        apr_size_t raw_len;
        if (m == NULL)
            continue;
        if (!json_is_string(m) || json_string_length(m) == 0
            || bcl_b64url_decode(p, json_string_value(m), json_string_length(m), &raw, &raw_len) != 0) {
            *err = apr_psprintf(p, "member \"%s\" is not base64url", members[i]);
            return 0;
        }
    }
    return 1;
}

static cjose_jwk_t *import_with_cjose(apr_pool_t *p, json_t *key, const char **err)
{
    cjose_err cerr = { 0 };
    char *text;
    cjose_jwk_t *jwk = NULL;

    if (!members_are_base64url(p, key, err))
        return NULL;
    /* Verification needs the public half only. Private members are dropped:
     * no secret is held for nothing, and cjose leaks memory importing them. */
    json_t *pub = json_copy(key);
    static const char *const private_members[] = { "d", "p", "q", "dp", "dq", "qi", "oth", NULL };
    for (int i = 0; pub != NULL && private_members[i] != NULL; i++)
        json_object_del(pub, private_members[i]);
    text = pub ? json_dumps(pub, JSON_COMPACT) : NULL;
    json_decref(pub);

    if (text == NULL) {
        *err = "out of memory";
        return NULL;
    }
    jwk = cjose_jwk_import(text, strlen(text), &cerr);
    free(text);
    if (jwk == NULL)
        *err = apr_psprintf(p, "cjose cannot import it: %s", cerr.message ? cerr.message : "unknown error");
    return jwk;
}

static EVP_PKEY *import_ed25519(apr_pool_t *p, json_t *key, const char **err)
{
    const char *x = json_str(key, "x");
    unsigned char *raw;
    apr_size_t raw_len;
    EVP_PKEY *pkey;

    if (x == NULL || bcl_b64url_decode(p, x, strlen(x), &raw, &raw_len) != 0 || raw_len != 32) {
        *err = "Ed25519 key needs \"x\": 32 bytes, base64url";
        return NULL;
    }
    pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, raw, raw_len);
    if (pkey == NULL)
        *err = "OpenSSL cannot import the Ed25519 key";
    return pkey;
}

static bcl_kty_t ec_curve_kty(const cjose_jwk_t *jwk)
{
    cjose_err cerr = { 0 };
    switch (cjose_jwk_EC_get_curve(jwk, &cerr)) {
    case CJOSE_JWK_EC_P_256: return BCL_KTY_EC_P256;
    case CJOSE_JWK_EC_P_384: return BCL_KTY_EC_P384;
    case CJOSE_JWK_EC_P_521: return BCL_KTY_EC_P521;
    default: return BCL_KTY_NONE;
    }
}

/* Imports one verification key. Returns 1 when added, 0 when skipped (a
 * kind of key a logout token is never verified with), -1 on error. */
static int add_verify_key(bcl_keyset_t *ks, json_t *key, int index,
                          const bcl_logger_t *log, const char **err)
{
    apr_pool_t *p = ks->pool;
    const char *kty = json_str(key, "kty");
    const char *kid = json_str(key, "kid");
    const char *use = json_str(key, "use");
    const char *alg = json_str(key, "alg");
    const char *label = key_label(p, index, kid);
    const char *why = NULL;
    bcl_key_t *k;

    if (!json_is_object(key)) {
        *err = apr_psprintf(p, "%s is not a JSON object", label);
        return -1;
    }
    if (kty == NULL) {
        *err = apr_psprintf(p, "%s has no \"kty\"", label);
        return -1;
    }
    if (json_object_get(key, "kid") != NULL && kid == NULL) {
        *err = apr_psprintf(p, "%s has a \"kid\" that is not a string", label);
        return -1;
    }
    if (use != NULL && strcmp(use, "sig") != 0) {
        bcl_log(log, BCL_LOG_INFO, BCL_TAG_KEY_SKIPPED, "JWKS %s skipped: \"use\" is \"%s\", not \"sig\"", label, use);
        return 0;
    }
    if (alg != NULL && bcl_alg_from_name(alg) < 0) {
        bcl_log(log, BCL_LOG_INFO, BCL_TAG_KEY_SKIPPED, "JWKS %s skipped: \"alg\" %s is not a signature algorithm this module verifies", label, alg);
        return 0;
    }

    k = apr_pcalloc(p, sizeof(*k));
    k->kid = kid ? apr_pstrdup(p, kid) : NULL;
    k->alg = alg ? apr_pstrdup(p, alg) : NULL;

    if (strcmp(kty, "RSA") == 0) {
        static const char *const mds[3] = { "SHA256", "SHA384", "SHA512" };
        k->kty = BCL_KTY_RSA;
        k->jwk = import_with_cjose(p, key, &why);
        /* fetched once here rather than implicitly at every digest */
        for (int i = 0; k->jwk != NULL && i < 3; i++)
            k->md[i] = EVP_MD_fetch(NULL, mds[i], NULL);
    } else if (strcmp(kty, "EC") == 0) {
        k->jwk = import_with_cjose(p, key, &why);
        if (k->jwk != NULL && (k->kty = ec_curve_kty(k->jwk)) == BCL_KTY_NONE)
            why = "unsupported EC curve";
    } else if (strcmp(kty, "OKP") == 0) {
        const char *crv = json_str(key, "crv");
        if (crv == NULL || strcmp(crv, "Ed25519") != 0) {
            bcl_log(log, BCL_LOG_WARNING, BCL_TAG_KEY_SKIPPED, "JWKS %s skipped: OKP curve %s is not supported (only Ed25519)",
                    label, crv ? crv : "(none)");
            return 0;
        }
        k->kty = BCL_KTY_OKP_ED25519;
        k->pkey = import_ed25519(p, key, &why);
    } else if (strcmp(kty, "oct") == 0) {
        bcl_log(log, BCL_LOG_WARNING, BCL_TAG_KEY_SKIPPED, "JWKS %s skipped: symmetric keys are never taken from a JWKS (HMAC uses BCLClientSecret)", label);
        return 0;
    } else {
        bcl_log(log, BCL_LOG_WARNING, BCL_TAG_KEY_SKIPPED, "JWKS %s skipped: key type \"%s\" is not supported", label, kty);
        return 0;
    }

    if (why != NULL || (k->jwk == NULL && k->pkey == NULL)) {
        key_release(k);
        *err = apr_psprintf(p, "%s (kty %s) does not parse: %s", label, kty, why ? why : "unknown error");
        return -1;
    }
    if (k->alg != NULL && bcl_alg_key_type((bcl_alg_t)bcl_alg_from_name(k->alg)) != k->kty) {
        key_release(k);
        *err = apr_psprintf(p, "%s: its \"alg\" %s does not fit a %s key", label, alg, bcl_kty_name(k->kty));
        return -1;
    }
    APR_ARRAY_PUSH(ks->verify_keys, bcl_key_t *) = k;
    return 1;
}

int bcl_keyset_add_jwks(bcl_keyset_t *ks, const char *json, apr_size_t len,
                        const bcl_logger_t *log, const char **err)
{
    json_error_t jerr;
    json_t *doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    json_t *keys;
    int added = 0, rc = -1;

    if (doc == NULL) {
        *err = apr_psprintf(ks->pool, "not valid JSON (line %d, column %d: %s)", jerr.line, jerr.column, jerr.text);
        return -1;
    }
    keys = json_object_get(doc, "keys");
    if (!json_is_array(keys)) {
        *err = "not a JWKS: no \"keys\" array";
        goto out;
    }
    for (size_t i = 0; i < json_array_size(keys); i++) {
        int r = add_verify_key(ks, json_array_get(keys, i), (int)i, log, err);
        if (r < 0)
            goto out;
        added += r;
    }
    if (added == 0) {
        *err = "the JWKS holds no signature key this module can use (RSA, EC P-256/384/521, OKP Ed25519)";
        goto out;
    }
    rc = 0;
out:
    json_decref(doc);
    return rc;
}

int bcl_keyset_set_client_secret(bcl_keyset_t *ks, const char *secret, apr_size_t len,
                                 const char **err)
{
    cjose_err cerr = { 0 };
    bcl_key_t *k;

    if (len == 0) {
        *err = "the client secret is empty";
        return -1;
    }
    k = apr_pcalloc(ks->pool, sizeof(*k));
    k->kty = BCL_KTY_OCT;
    k->jwk = cjose_jwk_create_oct_spec((const uint8_t *)secret, len, &cerr);
    if (k->jwk == NULL) {
        *err = apr_psprintf(ks->pool, "cjose cannot make an HMAC key: %s", cerr.message ? cerr.message : "unknown error");
        return -1;
    }
    if (ks->client_secret != NULL)
        key_release(ks->client_secret);
    ks->client_secret = k;
    return 0;
}

/* Builds an RSA private key from a JWK's members. */
static EVP_PKEY *rsa_from_jwk(apr_pool_t *p, json_t *key, const char **err)
{
    static const struct { const char *jwk; const char *param; } members[] = {
        { "n", OSSL_PKEY_PARAM_RSA_N }, { "e", OSSL_PKEY_PARAM_RSA_E },
        { "d", OSSL_PKEY_PARAM_RSA_D }, { "p", OSSL_PKEY_PARAM_RSA_FACTOR1 },
        { "q", OSSL_PKEY_PARAM_RSA_FACTOR2 }, { "dp", OSSL_PKEY_PARAM_RSA_EXPONENT1 },
        { "dq", OSSL_PKEY_PARAM_RSA_EXPONENT2 }, { "qi", OSSL_PKEY_PARAM_RSA_COEFFICIENT1 },
    };
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    EVP_PKEY *pkey = NULL;
    BIGNUM *bn[8] = { 0 };
    size_t i;

    if (bld == NULL) {
        *err = "out of memory";
        return NULL;
    }
    for (i = 0; i < sizeof(members) / sizeof(members[0]); i++) {
        const char *v = json_str(key, members[i].jwk);
        unsigned char *raw;
        apr_size_t raw_len;
        if (v == NULL) {
            /* n, e and d are required; the CRT members come all or none */
            if (i < 3) {
                *err = apr_psprintf(p, "RSA JWK lacks the private member \"%s\"", members[i].jwk);
                goto out;
            }
            break;
        }
        if (bcl_b64url_decode(p, v, strlen(v), &raw, &raw_len) != 0 || raw_len == 0) {
            *err = apr_psprintf(p, "RSA JWK member \"%s\" is not base64url", members[i].jwk);
            goto out;
        }
        bn[i] = BN_bin2bn(raw, (int)raw_len, NULL);
        if (bn[i] == NULL || !OSSL_PARAM_BLD_push_BN(bld, members[i].param, bn[i])) {
            *err = "out of memory";
            goto out;
        }
    }
    if (i != 3 && i != 8) {
        *err = "RSA JWK has some but not all of p, q, dp, dq, qi";
        goto out;
    }
    params = OSSL_PARAM_BLD_to_param(bld);
    ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    if (params == NULL || ctx == NULL || EVP_PKEY_fromdata_init(ctx) <= 0
        || EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_KEYPAIR, params) <= 0) {
        *err = "OpenSSL refuses the RSA JWK";
        pkey = NULL;
    }
out:
    for (i = 0; i < 8; i++)
        BN_clear_free(bn[i]);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    EVP_PKEY_CTX_free(ctx);
    return pkey;
}

static int push_decryption_key(bcl_keyset_t *ks, EVP_PKEY *pkey, const char *kid, const char **err)
{
    bcl_key_t *k;

    if (!EVP_PKEY_is_a(pkey, "RSA")) {
        EVP_PKEY_free(pkey);
        *err = "only RSA decryption keys are supported (RSA-OAEP, RSA-OAEP-256)";
        return -1;
    }
    if (EVP_PKEY_get_bits(pkey) < 2048) {
        EVP_PKEY_free(pkey);
        *err = "RSA decryption keys must have at least 2048 bits";
        return -1;
    }
    k = apr_pcalloc(ks->pool, sizeof(*k));
    k->kty = BCL_KTY_RSA;
    k->kid = kid ? apr_pstrdup(ks->pool, kid) : NULL;
    k->pkey = pkey;
    APR_ARRAY_PUSH(ks->decrypt_keys, bcl_key_t *) = k;
    return 0;
}

static int add_decryption_jwk(bcl_keyset_t *ks, json_t *key, const char **err)
{
    const char *kty = json_str(key, "kty");
    EVP_PKEY *pkey;

    if (kty == NULL || strcmp(kty, "RSA") != 0) {
        *err = apr_psprintf(ks->pool, "decryption JWK has kty %s; only RSA is supported", kty ? kty : "(none)");
        return -1;
    }
    pkey = rsa_from_jwk(ks->pool, key, err);
    if (pkey == NULL)
        return -1;
    return push_decryption_key(ks, pkey, json_str(key, "kid"), err);
}

int bcl_keyset_add_decryption_key(bcl_keyset_t *ks, const char *data, apr_size_t len,
                                  const char **err)
{
    apr_size_t i = 0;

    while (i < len && (data[i] == ' ' || data[i] == '\n' || data[i] == '\r' || data[i] == '\t'))
        i++;
    if (i < len && data[i] == '{') {
        json_error_t jerr;
        json_t *doc = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
        json_t *keys;
        int rc = 0;
        if (doc == NULL) {
            *err = apr_psprintf(ks->pool, "not valid JSON (line %d, column %d: %s)", jerr.line, jerr.column, jerr.text);
            return -1;
        }
        keys = json_object_get(doc, "keys");
        if (json_is_array(keys)) {
            if (json_array_size(keys) == 0) {
                *err = "the JWKS has no keys";
                rc = -1;
            }
            for (size_t k = 0; rc == 0 && k < json_array_size(keys); k++)
                rc = add_decryption_jwk(ks, json_array_get(keys, k), err);
        } else {
            rc = add_decryption_jwk(ks, doc, err);
        }
        json_decref(doc);
        return rc;
    }

    BIO *bio = BIO_new_mem_buf(data, (int)len);
    EVP_PKEY *pkey = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    if (pkey == NULL) {
        *err = "neither a PEM private key nor a JWK";
        return -1;
    }
    return push_decryption_key(ks, pkey, NULL, err);
}

bcl_keyset_t *bcl_keyset_combine(apr_pool_t *p, const bcl_keyset_t *verify,
                                 const bcl_keyset_t *secret, const bcl_keyset_t *decrypt)
{
    bcl_keyset_t *ks = apr_pcalloc(p, sizeof(*ks));
    apr_array_header_t *empty = NULL;

    if (verify == NULL || decrypt == NULL)
        empty = apr_array_make(p, 1, sizeof(bcl_key_t *));
    ks->pool = p;
    ks->verify_keys = verify ? verify->verify_keys : empty;
    ks->decrypt_keys = decrypt ? decrypt->decrypt_keys : empty;
    ks->client_secret = secret ? secret->client_secret : NULL;
    return ks;
}

bcl_keyset_t *bcl_keyset_union_verify(apr_pool_t *p, const bcl_keyset_t *a, const bcl_keyset_t *b)
{
    bcl_keyset_t *ks = apr_pcalloc(p, sizeof(*ks));
    int n = (a ? a->verify_keys->nelts : 0) + (b ? b->verify_keys->nelts : 0);

    ks->pool = p;
    ks->verify_keys = apr_array_make(p, n > 0 ? n : 1, sizeof(bcl_key_t *));
    if (a != NULL)
        apr_array_cat(ks->verify_keys, a->verify_keys);
    if (b != NULL)
        apr_array_cat(ks->verify_keys, b->verify_keys);
    ks->decrypt_keys = apr_array_make(p, 1, sizeof(bcl_key_t *));
    return ks;
}

const bcl_key_t *bcl_keyset_verify_key(const bcl_keyset_t *ks, int i)
{
    return i >= 0 && i < ks->verify_keys->nelts ? APR_ARRAY_IDX(ks->verify_keys, i, bcl_key_t *) : NULL;
}

int bcl_keyset_select(const bcl_keyset_t *ks, bcl_alg_t alg, const char *kid,
                      const bcl_key_t **out, int max)
{
    bcl_kty_t want = bcl_alg_key_type(alg);
    const char *name = bcl_alg_name(alg);
    int n = 0;

    if (want == BCL_KTY_OCT) {
        if (ks->client_secret != NULL && max > 0)
            out[n++] = ks->client_secret;
        return n;
    }
    for (int i = 0; i < ks->verify_keys->nelts && n < max; i++) {
        const bcl_key_t *k = APR_ARRAY_IDX(ks->verify_keys, i, bcl_key_t *);
        if (k->kty != want)
            continue;
        if (k->alg != NULL && strcmp(k->alg, name) != 0)
            continue;
        if (kid != NULL && (k->kid == NULL || strcmp(k->kid, kid) != 0))
            continue;
        out[n++] = k;
    }
    return n;
}

int bcl_keyset_has_kid(const bcl_keyset_t *ks, const char *kid)
{
    for (int i = 0; i < ks->verify_keys->nelts; i++) {
        const bcl_key_t *k = APR_ARRAY_IDX(ks->verify_keys, i, bcl_key_t *);
        if (k->kid != NULL && strcmp(k->kid, kid) == 0)
            return 1;
    }
    return 0;
}

const apr_array_header_t *bcl_keyset_decryption_keys(const bcl_keyset_t *ks)
{
    return ks->decrypt_keys;
}

int bcl_keyset_count(const bcl_keyset_t *ks)
{
    return ks->verify_keys->nelts;
}

int bcl_keyset_has_client_secret(const bcl_keyset_t *ks)
{
    return ks->client_secret != NULL;
}
