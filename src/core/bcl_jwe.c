#include <string.h>
#include <apr_strings.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>
#include "bcl_alg.h"
#include "bcl_b64url.h"
#include "bcl_jwe.h"
#include "bcl_jws.h"


typedef struct {
    const unsigned char *aad;  /* the ASCII of the encoded protected header */
    apr_size_t aad_len;
    unsigned char *iv, *ct, *tag, *wrapped;
    apr_size_t iv_len, ct_len, tag_len, wrapped_len;
} jwe_parts_t;

/* Content key length for each enc (RFC 7518, 5.1). */
static apr_size_t cek_length(bcl_jwe_enc_t enc)
{
    static const apr_size_t len[BCL_JWE_ENC_COUNT] = { 16, 24, 32, 32, 48, 64 };
    return len[enc];
}

static int is_gcm(bcl_jwe_enc_t enc)
{
    return enc <= BCL_JWE_ENC_A256GCM;
}

/* RSA-OAEP uses SHA-1 for both the label hash and MGF1; RSA-OAEP-256 SHA-256. */
static int unwrap_cek(const bcl_key_t *key, bcl_jwe_alg_t alg, const jwe_parts_t *j,
                      unsigned char *cek, size_t *cek_len)
{
    const EVP_MD *md = alg == BCL_JWE_ALG_RSA_OAEP_256 ? EVP_sha256() : EVP_sha1();
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(key->pkey, NULL);
    int ok = ctx != NULL
        && EVP_PKEY_decrypt_init(ctx) > 0
        && EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) > 0
        && EVP_PKEY_CTX_set_rsa_oaep_md(ctx, md) > 0
        && EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, md) > 0
        && EVP_PKEY_decrypt(ctx, cek, cek_len, j->wrapped, j->wrapped_len) > 0;
    EVP_PKEY_CTX_free(ctx);
    return ok;
}

static int decrypt_gcm(apr_pool_t *p, bcl_jwe_enc_t enc, const unsigned char *cek,
                       const jwe_parts_t *j, unsigned char **out, apr_size_t *out_len)
{
    const EVP_CIPHER *cipher = enc == BCL_JWE_ENC_A128GCM ? EVP_aes_128_gcm()
                             : enc == BCL_JWE_ENC_A192GCM ? EVP_aes_192_gcm() : EVP_aes_256_gcm();
    EVP_CIPHER_CTX *ctx;
    unsigned char *buf;
    int n = 0, fin = 0, ok;

    if (j->iv_len != 12 || j->tag_len != 16)
        return 0;
    buf = apr_palloc(p, j->ct_len + 16);
    ctx = EVP_CIPHER_CTX_new();
    ok = ctx != NULL
        && EVP_DecryptInit_ex(ctx, cipher, NULL, NULL, NULL) == 1
        && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, 12, NULL) == 1
        && EVP_DecryptInit_ex(ctx, NULL, NULL, cek, j->iv) == 1
        && EVP_DecryptUpdate(ctx, NULL, &n, j->aad, (int)j->aad_len) == 1
        && EVP_DecryptUpdate(ctx, buf, &n, j->ct, (int)j->ct_len) == 1
        && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, j->tag) == 1
        && EVP_DecryptFinal_ex(ctx, buf + n, &fin) == 1;
    EVP_CIPHER_CTX_free(ctx);
    if (!ok)
        return 0;
    *out = buf;
    *out_len = (apr_size_t)(n + fin);
    return 1;
}

/* AES-CBC with HMAC-SHA2 (RFC 7518, 5.2): the tag is checked, in constant
 * time, before anything is decrypted. */
static int decrypt_cbc_hs(apr_pool_t *p, bcl_jwe_enc_t enc, const unsigned char *cek,
                          const jwe_parts_t *j, unsigned char **out, apr_size_t *out_len)
{
    apr_size_t half = cek_length(enc) / 2;
    const EVP_MD *md = enc == BCL_JWE_ENC_A128CBC_HS256 ? EVP_sha256()
                     : enc == BCL_JWE_ENC_A192CBC_HS384 ? EVP_sha384() : EVP_sha512();
    const EVP_CIPHER *cipher = enc == BCL_JWE_ENC_A128CBC_HS256 ? EVP_aes_128_cbc()
                             : enc == BCL_JWE_ENC_A192CBC_HS384 ? EVP_aes_192_cbc() : EVP_aes_256_cbc();
    unsigned char al[8], mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    unsigned long long aad_bits = (unsigned long long)j->aad_len * 8;
    unsigned char *macinput, *buf;
    apr_size_t mi_len = j->aad_len + j->iv_len + j->ct_len + 8, o = 0;
    EVP_CIPHER_CTX *ctx;
    int n = 0, fin = 0, ok;

    if (j->iv_len != 16 || j->tag_len != half || j->ct_len == 0 || j->ct_len % 16 != 0)
        return 0;
    for (int i = 0; i < 8; i++)
        al[i] = (unsigned char)(aad_bits >> (56 - 8 * i));
    macinput = apr_palloc(p, mi_len);
    memcpy(macinput + o, j->aad, j->aad_len); o += j->aad_len;
    memcpy(macinput + o, j->iv, j->iv_len); o += j->iv_len;
    memcpy(macinput + o, j->ct, j->ct_len); o += j->ct_len;
    memcpy(macinput + o, al, 8);
    if (HMAC(md, cek, (int)half, macinput, mi_len, mac, &mac_len) == NULL
        || CRYPTO_memcmp(mac, j->tag, half) != 0)
        return 0;

    buf = apr_palloc(p, j->ct_len + 16);
    ctx = EVP_CIPHER_CTX_new();
    ok = ctx != NULL
        && EVP_DecryptInit_ex(ctx, cipher, NULL, cek + half, j->iv) == 1
        && EVP_DecryptUpdate(ctx, buf, &n, j->ct, (int)j->ct_len) == 1
        && EVP_DecryptFinal_ex(ctx, buf + n, &fin) == 1;
    EVP_CIPHER_CTX_free(ctx);
    if (!ok)
        return 0;
    *out = buf;
    *out_len = (apr_size_t)(n + fin);
    return 1;
}

static int decode_part(apr_pool_t *p, const char *s, const char *end,
                       unsigned char **out, apr_size_t *out_len)
{
    return bcl_b64url_decode(p, s, (apr_size_t)(end - s), out, out_len);
}

bcl_reason_t bcl_jwe_decrypt(apr_pool_t *p, const char *jwe, apr_size_t len,
                             const bcl_keyset_t *keys, const char **plain,
                             apr_size_t *plain_len, bcl_verdict_t *v)
{
    const apr_array_header_t *dkeys = bcl_keyset_decryption_keys(keys);
    const char *dots[4], *end = jwe + len, *s = jwe;
    const bcl_json_t *header = NULL;
    jwe_parts_t j;
    int alg, enc, n = 0;
    bcl_reason_t r;

    for (const char *q = jwe; q < end; q++) {
        if (*q == '.') {
            if (n == 4)
                return bcl_verdict_fail(v, BCL_R_MALFORMED, "an encrypted logout token has five dot-separated parts");
            dots[n++] = q;
        }
    }
    if (n != 4)
        return bcl_verdict_fail(v, BCL_R_MALFORMED, "an encrypted logout token has five dot-separated parts");
    r = bcl_jose_header_parse(p, s, (apr_size_t)(dots[0] - s), &header, v);
    if (r != BCL_OK)
        return r;

    const bcl_json_t *jalg = bcl_json_get(header, "alg"), *jenc = bcl_json_get(header, "enc");
    const char *alg_name = bcl_json_is_string(jalg) ? jalg->str : NULL;
    const char *enc_name = bcl_json_is_string(jenc) ? jenc->str : NULL;
    alg = bcl_jwe_alg_from_name(alg_name);
    enc = bcl_jwe_enc_from_name(enc_name);
    v->alg = alg_name ? apr_pstrdup(p, alg_name) : NULL;
    if (alg < 0) {
        r = bcl_verdict_fail(v, BCL_R_ALG, apr_psprintf(p, "JWE alg %s is not supported (RSA-OAEP, RSA-OAEP-256)",
                                            alg_name ? bcl_verdict_clip(p, alg_name) : "(missing)"));
        goto out;
    }
    if (enc < 0) {
        r = bcl_verdict_fail(v, BCL_R_ALG, apr_psprintf(p, "JWE enc %s is not supported",
                                            enc_name ? bcl_verdict_clip(p, enc_name) : "(missing)"));
        goto out;
    }
    if (bcl_json_get(header, "zip") != NULL) {
        r = bcl_verdict_fail(v, BCL_R_HEADER, "compressed (zip) JWE is not accepted");
        goto out;
    }
    if (dkeys->nelts == 0) {
        r = bcl_verdict_fail(v, BCL_R_DECRYPT, "the logout token is encrypted but no BCLDecryptionKey is configured");
        goto out;
    }

    j.aad = (const unsigned char *)jwe;
    j.aad_len = (apr_size_t)(dots[0] - jwe);
    if (decode_part(p, dots[0] + 1, dots[1], &j.wrapped, &j.wrapped_len) != 0
        || decode_part(p, dots[1] + 1, dots[2], &j.iv, &j.iv_len) != 0
        || decode_part(p, dots[2] + 1, dots[3], &j.ct, &j.ct_len) != 0
        || decode_part(p, dots[3] + 1, end, &j.tag, &j.tag_len) != 0) {
        r = bcl_verdict_fail(v, BCL_R_MALFORMED, "a part of the encrypted logout token is not base64url");
        goto out;
    }

    r = bcl_verdict_fail(v, BCL_R_DECRYPT, "no configured decryption key opens the logout token");
    for (int i = 0; i < dkeys->nelts; i++) {
        const bcl_key_t *key = APR_ARRAY_IDX(dkeys, i, bcl_key_t *);
        unsigned char cek[1024], *out_buf;
        size_t cek_len = sizeof(cek);
        apr_size_t out_len;
        int ok;

        if ((size_t)EVP_PKEY_get_size(key->pkey) > sizeof(cek)
            || !unwrap_cek(key, (bcl_jwe_alg_t)alg, &j, cek, &cek_len))
            continue;
        if (cek_len != cek_length((bcl_jwe_enc_t)enc)) {
            OPENSSL_cleanse(cek, sizeof(cek));
            continue;
        }
        ok = is_gcm((bcl_jwe_enc_t)enc) ? decrypt_gcm(p, (bcl_jwe_enc_t)enc, cek, &j, &out_buf, &out_len)
                                        : decrypt_cbc_hs(p, (bcl_jwe_enc_t)enc, cek, &j, &out_buf, &out_len);
        OPENSSL_cleanse(cek, sizeof(cek));
        if (ok) {
            out_buf[out_len] = '\0';
            *plain = (const char *)out_buf;
            *plain_len = out_len;
            v->reason = BCL_OK;
            v->detail = NULL;
            r = BCL_OK;
            break;
        }
    }
out:
    return r;
}
