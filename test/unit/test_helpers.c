/* Key, token and JWE makers for the unit tests. See test_helpers.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>
#include <cjose/cjose.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/hmac.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "test_helpers.h"

th_key_t *th_rsa1, *th_rsa2, *th_ec256, *th_ec384, *th_ec521, *th_ed1;
th_key_t *th_att_rsa, *th_att_ec, *th_att_ed;
th_key_t *th_enc1, *th_enc2;

static void th_die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void th_die(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "test helper failure: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
    ERR_print_errors_fp(stderr);
    abort();
}

/* ------------------------------------------------------------------ */
/* base64 */

static const char b64url_alpha[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
static const char b64std_alpha[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static size_t b64_encode_into(char *out, const unsigned char *in, size_t len,
                              const char *alpha, int pad)
{
    size_t i, o = 0;
    for (i = 0; i + 2 < len; i += 3) {
        unsigned v = ((unsigned)in[i] << 16) | ((unsigned)in[i + 1] << 8) | in[i + 2];
        out[o++] = alpha[(v >> 18) & 63];
        out[o++] = alpha[(v >> 12) & 63];
        out[o++] = alpha[(v >> 6) & 63];
        out[o++] = alpha[v & 63];
    }
    if (len - i == 1) {
        unsigned v = (unsigned)in[i] << 16;
        out[o++] = alpha[(v >> 18) & 63];
        out[o++] = alpha[(v >> 12) & 63];
        if (pad) { out[o++] = '='; out[o++] = '='; }
    }
    else if (len - i == 2) {
        unsigned v = ((unsigned)in[i] << 16) | ((unsigned)in[i + 1] << 8);
        out[o++] = alpha[(v >> 18) & 63];
        out[o++] = alpha[(v >> 12) & 63];
        out[o++] = alpha[(v >> 6) & 63];
        if (pad) out[o++] = '=';
    }
    out[o] = '\0';
    return o;
}

char *th_b64url(apr_pool_t *p, const void *data, size_t len)
{
    char *out = apr_palloc(p, (len + 2) / 3 * 4 + 1);
    b64_encode_into(out, data, len, b64url_alpha, 0);
    return out;
}

char *th_b64std(apr_pool_t *p, const void *data, size_t len)
{
    char *out = apr_palloc(p, (len + 2) / 3 * 4 + 1);
    b64_encode_into(out, data, len, b64std_alpha, 1);
    return out;
}

static int b64url_val(char c)
{
    const char *q = c ? strchr(b64url_alpha, c) : NULL;
    return q ? (int)(q - b64url_alpha) : -1;
}

/* malloc'ed; NULL on a character outside the alphabet. */
static unsigned char *b64url_dec_malloc(const char *s, size_t len, size_t *out_len)
{
    unsigned char *out = malloc(len * 3 / 4 + 3);
    unsigned acc = 0;
    int bits = 0;
    size_t i, o = 0;
    if (!out) th_die("out of memory");
    for (i = 0; i < len; i++) {
        int v = b64url_val(s[i]);
        if (v < 0) { free(out); return NULL; }
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)((acc >> bits) & 0xff);
        }
    }
    out[o] = 0;
    *out_len = o;
    return out;
}

unsigned char *th_b64url_dec(apr_pool_t *p, const char *s, size_t len, size_t *out_len)
{
    size_t n;
    unsigned char *m = b64url_dec_malloc(s, len, &n), *r;
    if (!m) return NULL;
    r = apr_palloc(p, n + 1);
    memcpy(r, m, n);
    r[n] = 0;
    free(m);
    *out_len = n;
    return r;
}

char *th_read_data(apr_pool_t *p, const char *name, size_t *len)
{
    char *path = apr_pstrcat(p, BCL_TEST_DATA_DIR, "/", name, NULL);
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;
    ck_assert_msg(f != NULL, "cannot open test data %s", path);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = apr_palloc(p, (apr_size_t)n + 1);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    buf[n] = '\0';
    if (len) *len = (size_t)n;
    return buf;
}

/* ------------------------------------------------------------------ */
/* keys */

static char *cjose_str_dup(char *s)
{
    char *r;
    if (!s) th_die("cjose returned NULL");
    r = strdup(s);
    cjose_get_dealloc()(s);
    return r;
}

static char *bio_to_str(BIO *bio)
{
    char *data = NULL, *r;
    long n = BIO_get_mem_data(bio, &data);
    r = malloc((size_t)n + 1);
    if (!r) th_die("out of memory");
    memcpy(r, data, (size_t)n);
    r[n] = '\0';
    return r;
}

static BIGNUM *jwk_bn(json_t *jwk, const char *member)
{
    const char *s = json_string_value(json_object_get(jwk, member));
    size_t n;
    unsigned char *bin;
    BIGNUM *bn;
    if (!s) th_die("JWK has no %s", member);
    bin = b64url_dec_malloc(s, strlen(s), &n);
    if (!bin) th_die("JWK member %s is not base64url", member);
    bn = BN_bin2bn(bin, (int)n, NULL);
    free(bin);
    return bn;
}

/* Builds an OpenSSL key from a private RSA or EC JWK (as cjose exports it). */
static EVP_PKEY *pkey_from_private_jwk(const char *json, th_key_type_t type)
{
    json_error_t jerr;
    json_t *jwk = json_loads(json, 0, &jerr);
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params;
    EVP_PKEY_CTX *ctx;
    EVP_PKEY *pkey = NULL;
    BIGNUM *bns[8] = {0};
    unsigned char *pub = NULL;
    int i, nbn = 0;

    if (!jwk || !bld) th_die("cannot parse JWK: %s", json);
    if (type == TH_RSA) {
        static const char *members[] = {"n", "e", "d", "p", "q", "dp", "dq", "qi"};
        static const char *names[] = {
            OSSL_PKEY_PARAM_RSA_N, OSSL_PKEY_PARAM_RSA_E, OSSL_PKEY_PARAM_RSA_D,
            OSSL_PKEY_PARAM_RSA_FACTOR1, OSSL_PKEY_PARAM_RSA_FACTOR2,
            OSSL_PKEY_PARAM_RSA_EXPONENT1, OSSL_PKEY_PARAM_RSA_EXPONENT2,
            OSSL_PKEY_PARAM_RSA_COEFFICIENT1};
        for (i = 0; i < 8; i++) {
            bns[i] = jwk_bn(jwk, members[i]);
            OSSL_PARAM_BLD_push_BN(bld, names[i], bns[i]);
        }
        nbn = 8;
        ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    }
    else {
        const char *group = type == TH_EC256 ? "prime256v1" : type == TH_EC384 ? "secp384r1" : "secp521r1";
        size_t flen = type == TH_EC256 ? 32 : type == TH_EC384 ? 48 : 66;
        BIGNUM *x = jwk_bn(jwk, "x"), *y = jwk_bn(jwk, "y");
        pub = malloc(1 + 2 * flen);
        if (!pub) th_die("out of memory");
        pub[0] = 0x04;
        BN_bn2binpad(x, pub + 1, (int)flen);
        BN_bn2binpad(y, pub + 1 + flen, (int)flen);
        BN_free(x);
        BN_free(y);
        bns[0] = jwk_bn(jwk, "d");
        nbn = 1;
        OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0);
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, 1 + 2 * flen);
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, bns[0]);
        ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    }
    params = OSSL_PARAM_BLD_to_param(bld);
    if (!ctx || !params || EVP_PKEY_fromdata_init(ctx) <= 0
        || EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_KEYPAIR, params) <= 0)
        th_die("EVP_PKEY_fromdata failed");
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    for (i = 0; i < nbn; i++) BN_clear_free(bns[i]);
    free(pub);
    json_decref(jwk);
    return pkey;
}

static void fill_pems(th_key_t *k)
{
    BIO *bio = BIO_new(BIO_s_mem());
    if (!PEM_write_bio_PrivateKey(bio, k->pkey, NULL, NULL, 0, NULL, NULL)) th_die("PEM write");
    k->priv_pem = bio_to_str(bio);
    BIO_free(bio);
    bio = BIO_new(BIO_s_mem());
    if (!PEM_write_bio_PUBKEY(bio, k->pkey)) th_die("PEM write");
    k->pub_pem = bio_to_str(bio);
    BIO_free(bio);
    if (k->type == TH_RSA) {
        bio = BIO_new(BIO_s_mem());
        if (!PEM_write_bio_PrivateKey_traditional(bio, k->pkey, NULL, NULL, 0, NULL, NULL))
            th_die("PEM write");
        k->priv_pem_trad = bio_to_str(bio);
        BIO_free(bio);
    }
}

static th_key_t *make_key(th_key_type_t type, const char *kid)
{
    cjose_err err;
    th_key_t *k = calloc(1, sizeof(*k));
    memset(&err, 0, sizeof(err));
    if (!k) th_die("out of memory");
    snprintf(k->kid, sizeof(k->kid), "%s", kid);
    k->type = type;
    if (type == TH_ED25519) {
        unsigned char raw[32];
        size_t rawlen = sizeof(raw);
        char x[64];
        k->pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
        if (!k->pkey || !EVP_PKEY_get_raw_public_key(k->pkey, raw, &rawlen))
            th_die("Ed25519 keygen");
        b64_encode_into(x, raw, rawlen, b64url_alpha, 0);
        k->pub_json = malloc(256);
        snprintf(k->pub_json, 256, "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"kid\":\"%s\",\"x\":\"%s\"}",
                 kid, x);
        fill_pems(k);
        return k;
    }
    if (type == TH_RSA) {
        static const uint8_t e[] = {0x01, 0x00, 0x01};
        k->jwk = cjose_jwk_create_RSA_random(2048, e, sizeof(e), &err);
    }
    else {
        cjose_jwk_ec_curve crv = type == TH_EC256 ? CJOSE_JWK_EC_P_256
                                 : type == TH_EC384 ? CJOSE_JWK_EC_P_384 : CJOSE_JWK_EC_P_521;
        k->jwk = cjose_jwk_create_EC_random(crv, &err);
    }
    if (!k->jwk) th_die("cjose keygen: %s", err.message ? err.message : "?");
    if (!cjose_jwk_set_kid(k->jwk, kid, strlen(kid), &err)) th_die("cjose_jwk_set_kid");
    k->pub_json = cjose_str_dup(cjose_jwk_to_json(k->jwk, false, &err));
    k->priv_json = cjose_str_dup(cjose_jwk_to_json(k->jwk, true, &err));
    k->pkey = pkey_from_private_jwk(k->priv_json, type);
    fill_pems(k);
    return k;
}

static void free_key(th_key_t *k)
{
    if (!k) return;
    if (k->jwk) cjose_jwk_release(k->jwk);
    EVP_PKEY_free(k->pkey);
    free(k->pub_json);
    free(k->priv_json);
    free(k->priv_pem);
    free(k->priv_pem_trad);
    free(k->pub_pem);
    free(k);
}

void th_init(void)
{
    th_rsa1 = make_key(TH_RSA, "rsa1");
    th_rsa2 = make_key(TH_RSA, "rsa2");
    th_ec256 = make_key(TH_EC256, "ec256");
    th_ec384 = make_key(TH_EC384, "ec384");
    th_ec521 = make_key(TH_EC521, "ec521");
    th_ed1 = make_key(TH_ED25519, "ed1");
    th_att_rsa = make_key(TH_RSA, "attacker-rsa");
    th_att_ec = make_key(TH_EC256, "attacker-ec");
    th_att_ed = make_key(TH_ED25519, "attacker-ed");
    th_enc1 = make_key(TH_RSA, "enc1");
    th_enc2 = make_key(TH_RSA, "enc2");
}

void th_cleanup(void)
{
    th_key_t **all[] = {&th_rsa1, &th_rsa2, &th_ec256, &th_ec384, &th_ec521, &th_ed1,
                        &th_att_rsa, &th_att_ec, &th_att_ed, &th_enc1, &th_enc2};
    size_t i;
    for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        free_key(*all[i]);
        *all[i] = NULL;
    }
}

char *th_jwks(apr_pool_t *p, ...)
{
    va_list ap;
    const th_key_t *k;
    char *out = apr_pstrdup(p, "{\"keys\":[");
    int first = 1;
    va_start(ap, p);
    while ((k = va_arg(ap, const th_key_t *)) != NULL) {
        out = apr_pstrcat(p, out, first ? "" : ",", k->pub_json, NULL);
        first = 0;
    }
    va_end(ap);
    return apr_pstrcat(p, out, "]}", NULL);
}

char *th_op_jwks(apr_pool_t *p)
{
    return th_jwks(p, th_rsa1, th_rsa2, th_ec256, th_ec384, th_ec521, th_ed1, (th_key_t *)NULL);
}

bcl_keyset_t *th_keyset(apr_pool_t *p, int with_secret)
{
    bcl_keyset_t *ks = bcl_keyset_create(p);
    const char *err = NULL;
    const char *jwks = th_op_jwks(p);
    ck_assert_ptr_nonnull(ks);
    ck_assert_msg(bcl_keyset_add_jwks(ks, jwks, strlen(jwks), NULL, &err) == 0,
                  "bcl_keyset_add_jwks: %s", err ? err : "?");
    if (with_secret) {
        ck_assert_msg(bcl_keyset_set_client_secret(ks, TH_SECRET, strlen(TH_SECRET), &err) == 0,
                      "bcl_keyset_set_client_secret: %s", err ? err : "?");
    }
    return ks;
}

void th_policy(apr_pool_t *p, bcl_policy_t *pol, bcl_alg_mask_t algs)
{
    apr_array_header_t *ids = apr_array_make(p, 2, sizeof(const char *));
    APR_ARRAY_PUSH(ids, const char *) = TH_CLIENT;
    memset(pol, 0, sizeof(*pol));
    pol->issuer = TH_ISSUER;
    pol->client_ids = ids;
    pol->allowed_algs = algs;
    pol->require_sid = 0;
    pol->require_exp = 1;
    pol->require_encryption = 0;
    pol->clock_skew = 60;
}

bcl_alg_mask_t th_all_algs(void)
{
    return (bcl_alg_mask_t)((1u << BCL_ALG_COUNT) - 1u);
}

/* ------------------------------------------------------------------ */
/* claims */

json_t *th_claims(long long now)
{
    static int counter;
    char jti[64];
    json_t *c = json_object(), *events = json_object();
    snprintf(jti, sizeof(jti), "jti-%d-%lld", ++counter, now);
    json_object_set_new(c, "iss", json_string(TH_ISSUER));
    json_object_set_new(c, "aud", json_string(TH_CLIENT));
    json_object_set_new(c, "iat", json_integer(now - 5));
    json_object_set_new(c, "exp", json_integer(now + 115));
    json_object_set_new(c, "jti", json_string(jti));
    json_object_set_new(c, "sub", json_string("248289761001"));
    json_object_set_new(c, "sid", json_string("08a5019c-17e1-4977-8f42-65a12843ea02"));
    json_object_set_new(events, BCL_LOGOUT_EVENT, json_object());
    json_object_set_new(c, "events", events);
    return c;
}

char *th_json(apr_pool_t *p, const json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
    char *r;
    if (!s) th_die("json_dumps");
    r = apr_pstrdup(p, s);
    free(s);
    return r;
}

/* ------------------------------------------------------------------ */
/* signing */

static const EVP_MD *md_for_alg(const char *alg)
{
    size_t n = strlen(alg);
    if (n >= 3 && strcmp(alg + n - 3, "256") == 0) return EVP_sha256();
    if (n >= 3 && strcmp(alg + n - 3, "384") == 0) return EVP_sha384();
    if (n >= 3 && strcmp(alg + n - 3, "512") == 0) return EVP_sha512();
    return NULL;
}

/* Signs `in` and returns the JOSE signature bytes (malloc). */
static unsigned char *sign_bytes(const char *alg, const th_key_t *key, const void *hk, size_t hl,
                                 const unsigned char *in, size_t inlen, size_t *siglen)
{
    const EVP_MD *md = md_for_alg(alg);
    unsigned char *sig = NULL;
    EVP_MD_CTX *mctx;
    EVP_PKEY_CTX *pctx = NULL;
    size_t len = 0;

    if (alg[0] == 'H' && alg[1] == 'S') {
        unsigned int l = 0;
        sig = malloc(EVP_MAX_MD_SIZE);
        if (!sig || !md || !HMAC(md, hk, (int)hl, in, inlen, sig, &l)) th_die("HMAC");
        *siglen = l;
        return sig;
    }
    if (!key || !key->pkey) th_die("no key for %s", alg);
    mctx = EVP_MD_CTX_new();
    if (strcmp(alg, "EdDSA") == 0) {
        if (EVP_DigestSignInit(mctx, NULL, NULL, NULL, key->pkey) <= 0) th_die("EdDSA init");
    }
    else {
        if (!md || EVP_DigestSignInit(mctx, &pctx, md, NULL, key->pkey) <= 0) th_die("sign init %s", alg);
        if (alg[0] == 'P') {
            if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) <= 0
                || EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) <= 0
                || EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) <= 0)
                th_die("PSS setup");
        }
    }
    if (EVP_DigestSign(mctx, NULL, &len, in, inlen) <= 0) th_die("sign size");
    sig = malloc(len);
    if (!sig || EVP_DigestSign(mctx, sig, &len, in, inlen) <= 0) th_die("sign %s", alg);
    EVP_MD_CTX_free(mctx);

    if (alg[0] == 'E' && alg[1] == 'S') {
        /* DER ECDSA-Sig-Value -> R || S, each padded to the curve size. */
        size_t n = strcmp(alg, "ES256") == 0 ? 32 : strcmp(alg, "ES384") == 0 ? 48 : 66;
        const unsigned char *q = sig;
        ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &q, (long)len);
        const BIGNUM *r, *s;
        unsigned char *raw = malloc(2 * n);
        if (!es || !raw) th_die("ECDSA_SIG");
        ECDSA_SIG_get0(es, &r, &s);
        BN_bn2binpad(r, raw, (int)n);
        BN_bn2binpad(s, raw + n, (int)n);
        ECDSA_SIG_free(es);
        free(sig);
        sig = raw;
        len = 2 * n;
    }
    *siglen = len;
    return sig;
}

char *th_sign_raw(apr_pool_t *p, const char *alg, const th_key_t *key,
                  const void *hmac_key, size_t hmac_len,
                  const char *header_json, const char *payload_json)
{
    char *input = apr_pstrcat(p, th_b64url(p, header_json, strlen(header_json)), ".",
                              th_b64url(p, payload_json, strlen(payload_json)), NULL);
    size_t siglen;
    unsigned char *sig = sign_bytes(alg, key, hmac_key, hmac_len, (const unsigned char *)input,
                                    strlen(input), &siglen);
    char *out = apr_pstrcat(p, input, ".", th_b64url(p, sig, siglen), NULL);
    free(sig);
    return out;
}

char *th_compact(apr_pool_t *p, const char *header_json, const char *payload_json,
                 const char *sig_b64)
{
    return apr_pstrcat(p, th_b64url(p, header_json, strlen(header_json)), ".",
                       th_b64url(p, payload_json, strlen(payload_json)), ".", sig_b64, NULL);
}

char *th_sign(apr_pool_t *p, const char *alg, const th_key_t *key, const char *kid,
              const char *typ, const char *payload)
{
    cjose_err err;
    cjose_header_t *hdr;
    cjose_jwk_t *jwk, *oct = NULL;
    cjose_jws_t *jws;
    const char *ser = NULL;
    char *out;

    if (strcmp(alg, "EdDSA") == 0) {
        json_t *h = json_object();
        char *hs;
        json_object_set_new(h, "alg", json_string(alg));
        if (kid) json_object_set_new(h, "kid", json_string(kid));
        if (typ) json_object_set_new(h, "typ", json_string(typ));
        hs = th_json(p, h);
        json_decref(h);
        return th_sign_raw(p, alg, key, NULL, 0, hs, payload);
    }
    memset(&err, 0, sizeof(err));
    hdr = cjose_header_new(&err);
    if (!hdr || !cjose_header_set(hdr, CJOSE_HDR_ALG, alg, &err)
        || (kid && !cjose_header_set(hdr, CJOSE_HDR_KID, kid, &err))
        || (typ && !cjose_header_set(hdr, "typ", typ, &err)))
        th_die("cjose header");
    if (alg[0] == 'H') {
        oct = cjose_jwk_create_oct_spec((const uint8_t *)TH_SECRET, strlen(TH_SECRET), &err);
        jwk = oct;
    }
    else {
        jwk = key ? key->jwk : NULL;
    }
    if (!jwk) th_die("no cjose key for %s", alg);
    jws = cjose_jws_sign(jwk, hdr, (const uint8_t *)payload, strlen(payload), &err);
    if (!jws || !cjose_jws_export(jws, &ser, &err))
        th_die("cjose_jws_sign %s: %s", alg, err.message ? err.message : "?");
    out = apr_pstrdup(p, ser);
    cjose_jws_release(jws);
    cjose_header_release(hdr);
    if (oct) cjose_jwk_release(oct);
    return out;
}

char *th_sign_claims(apr_pool_t *p, const char *alg, const th_key_t *key, const char *kid,
                     const char *typ, const json_t *claims)
{
    return th_sign(p, alg, key, kid, typ, th_json(p, claims));
}

/* ------------------------------------------------------------------ */
/* compact surgery */

int th_count_parts(const char *tok)
{
    int n = 1;
    for (; *tok; tok++)
        if (*tok == '.') n++;
    return n;
}

static void part_bounds(const char *tok, int idx, size_t *start, size_t *end)
{
    size_t i = 0, s = 0;
    int cur = 0;
    for (;; i++) {
        if (tok[i] == '.' || tok[i] == '\0') {
            if (cur == idx) {
                *start = s;
                *end = i;
                return;
            }
            if (tok[i] == '\0') th_die("token has no part %d", idx);
            cur++;
            s = i + 1;
        }
    }
}

char *th_part(apr_pool_t *p, const char *tok, int idx)
{
    size_t s, e;
    part_bounds(tok, idx, &s, &e);
    return apr_pstrmemdup(p, tok + s, e - s);
}

char *th_replace_part(apr_pool_t *p, const char *tok, int idx, const char *str)
{
    size_t s, e;
    part_bounds(tok, idx, &s, &e);
    return apr_pstrcat(p, apr_pstrmemdup(p, tok, s), str, tok + e, NULL);
}

char *th_flip(apr_pool_t *p, const char *tok, int idx, int at, unsigned char mask)
{
    char *part = th_part(p, tok, idx);
    size_t n;
    unsigned char *bin = th_b64url_dec(p, part, strlen(part), &n);
    size_t pos;
    if (!bin || n == 0) th_die("cannot flip part %d", idx);
    pos = at < 0 ? n - (size_t)(-at) : (size_t)at;
    if (pos >= n) th_die("flip position out of range");
    bin[pos] ^= mask;
    return th_replace_part(p, tok, idx, th_b64url(p, bin, n));
}

/* ------------------------------------------------------------------ */
/* JWE */

char *th_jwe_hdr(apr_pool_t *p, const char *header_json, const char *wrap, const char *enc,
                 EVP_PKEY *pub, const char *plain, size_t plain_len)
{
    int gcm;
    size_t cek_len, iv_len, ek_len = 0, ct_len = 0, tag_len;
    unsigned char cek[64], iv[16], tag[64];
    unsigned char *ek = NULL, *ct;
    const EVP_CIPHER *cipher;
    const EVP_MD *mac_md = NULL;
    const char *hdr_b64 = th_b64url(p, header_json, strlen(header_json));
    size_t aad_len = strlen(hdr_b64);
    EVP_CIPHER_CTX *cctx;
    int outl = 0, finl = 0;
    char *out;

    if (strcmp(enc, "A128GCM") == 0) { gcm = 1; cek_len = 16; cipher = EVP_aes_128_gcm(); }
    else if (strcmp(enc, "A192GCM") == 0) { gcm = 1; cek_len = 24; cipher = EVP_aes_192_gcm(); }
    else if (strcmp(enc, "A256GCM") == 0) { gcm = 1; cek_len = 32; cipher = EVP_aes_256_gcm(); }
    else if (strcmp(enc, "A128CBC-HS256") == 0) { gcm = 0; cek_len = 32; cipher = EVP_aes_128_cbc(); mac_md = EVP_sha256(); }
    else if (strcmp(enc, "A192CBC-HS384") == 0) { gcm = 0; cek_len = 48; cipher = EVP_aes_192_cbc(); mac_md = EVP_sha384(); }
    else if (strcmp(enc, "A256CBC-HS512") == 0) { gcm = 0; cek_len = 64; cipher = EVP_aes_256_cbc(); mac_md = EVP_sha512(); }
    else th_die("unknown enc %s", enc);
    iv_len = gcm ? 12 : 16;
    if (RAND_bytes(cek, (int)cek_len) != 1 || RAND_bytes(iv, (int)iv_len) != 1) th_die("RAND_bytes");

    /* Key management. */
    if (strcmp(wrap, "dir") != 0) {
        EVP_PKEY_CTX *kctx = EVP_PKEY_CTX_new(pub, NULL);
        if (!kctx || EVP_PKEY_encrypt_init(kctx) <= 0) th_die("encrypt init");
        if (strcmp(wrap, "RSA1_5") == 0) {
            if (EVP_PKEY_CTX_set_rsa_padding(kctx, RSA_PKCS1_PADDING) <= 0) th_die("padding");
        }
        else {
            const EVP_MD *oaep_md = strcmp(wrap, "RSA-OAEP-256") == 0 ? EVP_sha256() : EVP_sha1();
            if (EVP_PKEY_CTX_set_rsa_padding(kctx, RSA_PKCS1_OAEP_PADDING) <= 0
                || EVP_PKEY_CTX_set_rsa_oaep_md(kctx, oaep_md) <= 0
                || EVP_PKEY_CTX_set_rsa_mgf1_md(kctx, oaep_md) <= 0)
                th_die("OAEP setup");
        }
        if (EVP_PKEY_encrypt(kctx, NULL, &ek_len, cek, cek_len) <= 0) th_die("encrypt size");
        ek = apr_palloc(p, ek_len);
        if (EVP_PKEY_encrypt(kctx, ek, &ek_len, cek, cek_len) <= 0) th_die("encrypt CEK");
        EVP_PKEY_CTX_free(kctx);
    }

    /* Content encryption. */
    ct = apr_palloc(p, plain_len + 32);
    cctx = EVP_CIPHER_CTX_new();
    if (gcm) {
        if (EVP_EncryptInit_ex(cctx, cipher, NULL, NULL, NULL) != 1
            || EVP_CIPHER_CTX_ctrl(cctx, EVP_CTRL_GCM_SET_IVLEN, (int)iv_len, NULL) != 1
            || EVP_EncryptInit_ex(cctx, NULL, NULL, cek, iv) != 1
            || EVP_EncryptUpdate(cctx, NULL, &outl, (const unsigned char *)hdr_b64, (int)aad_len) != 1
            || EVP_EncryptUpdate(cctx, ct, &outl, (const unsigned char *)plain, (int)plain_len) != 1
            || EVP_EncryptFinal_ex(cctx, ct + outl, &finl) != 1)
            th_die("GCM encrypt");
        ct_len = (size_t)outl + (size_t)finl;
        tag_len = 16;
        if (EVP_CIPHER_CTX_ctrl(cctx, EVP_CTRL_GCM_GET_TAG, (int)tag_len, tag) != 1) th_die("GCM tag");
    }
    else {
        /* RFC 7518 5.2.2.1: MAC_KEY is the first half, ENC_KEY the second. */
        size_t half = cek_len / 2, mac_in_len;
        unsigned char *mac_in, al[8], full[EVP_MAX_MD_SIZE];
        unsigned int full_len = 0;
        unsigned long long bits = (unsigned long long)aad_len * 8ULL;
        int i;
        if (EVP_EncryptInit_ex(cctx, cipher, NULL, cek + half, iv) != 1
            || EVP_EncryptUpdate(cctx, ct, &outl, (const unsigned char *)plain, (int)plain_len) != 1
            || EVP_EncryptFinal_ex(cctx, ct + outl, &finl) != 1)
            th_die("CBC encrypt");
        ct_len = (size_t)outl + (size_t)finl;
        for (i = 0; i < 8; i++) al[i] = (unsigned char)(bits >> (56 - 8 * i));
        mac_in_len = aad_len + iv_len + ct_len + 8;
        mac_in = apr_palloc(p, mac_in_len);
        memcpy(mac_in, hdr_b64, aad_len);
        memcpy(mac_in + aad_len, iv, iv_len);
        memcpy(mac_in + aad_len + iv_len, ct, ct_len);
        memcpy(mac_in + aad_len + iv_len + ct_len, al, 8);
        if (!HMAC(mac_md, cek, (int)half, mac_in, mac_in_len, full, &full_len)) th_die("HMAC");
        tag_len = half;
        memcpy(tag, full, tag_len);
    }
    EVP_CIPHER_CTX_free(cctx);

    out = apr_pstrcat(p, hdr_b64, ".", ek ? th_b64url(p, ek, ek_len) : "", ".",
                      th_b64url(p, iv, iv_len), ".", th_b64url(p, ct, ct_len), ".",
                      th_b64url(p, tag, tag_len), NULL);
    OPENSSL_cleanse(cek, sizeof(cek));
    return out;
}

char *th_jwe(apr_pool_t *p, const char *alg, const char *enc, EVP_PKEY *pub,
             const char *plain, size_t plain_len)
{
    char *hdr = apr_psprintf(p, "{\"alg\":\"%s\",\"enc\":\"%s\",\"cty\":\"JWT\"}", alg, enc);
    return th_jwe_hdr(p, hdr, alg, enc, pub, plain, plain_len);
}

/* ------------------------------------------------------------------ */
/* x5c */

char *th_x5c_cert(apr_pool_t *p, const th_key_t *key)
{
    X509 *x = X509_new();
    X509_NAME *name;
    unsigned char *der = NULL;
    int len;
    char *out;
    if (!x) th_die("X509_new");
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600L * 24 * 365);
    X509_set_pubkey(x, key->pkey);
    name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"op.example.com", -1, -1, 0);
    X509_set_issuer_name(x, name);
    if (!X509_sign(x, key->pkey, key->type == TH_ED25519 ? NULL : EVP_sha256())) th_die("X509_sign");
    len = i2d_X509(x, &der);
    if (len <= 0) th_die("i2d_X509");
    out = th_b64std(p, der, (size_t)len);
    OPENSSL_free(der);
    X509_free(x);
    return out;
}

/* ------------------------------------------------------------------ */
/* logger */

static void th_log_fn(void *baton, bcl_log_level_t level, const char *tag, const char *msg)
{
    th_logbuf_t *b = baton;
    size_t used;
    switch (level) {
    case BCL_LOG_ERROR: b->errors++; break;
    case BCL_LOG_WARNING: b->warnings++; break;
    case BCL_LOG_INFO: b->infos++; break;
    default: b->debugs++; break;
    }
    snprintf(b->last, sizeof(b->last), "%s %s", tag ? tag : "-", msg ? msg : "");
    used = strlen(b->all);
    if (used < sizeof(b->all) - 1)
        snprintf(b->all + used, sizeof(b->all) - used, "%s\n", b->last);
}

bcl_logger_t th_logger(th_logbuf_t *buf)
{
    bcl_logger_t l;
    memset(buf, 0, sizeof(*buf));
    l.fn = th_log_fn;
    l.baton = buf;
    return l;
}

bcl_identity_t th_identity(const char *sid, const char *sub, int64_t began_us, int64_t began_op)
{
    bcl_identity_t id;
    memset(&id, 0, sizeof(id));
    if (sid)
        ck_assert_int_eq(bcl_hkey_sid(&id.sid_key, "https://op", sid), 0);
    if (sub)
        ck_assert_int_eq(bcl_hkey_sub(&id.sub_key, "https://op", sub), 0);
    id.began_server = began_us;
    id.began_op = began_op;
    return id;
}
