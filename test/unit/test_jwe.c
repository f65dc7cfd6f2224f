/* Encrypted logout tokens (compact JWE wrapping a JWS), and interop with
 * tokens made by another JOSE implementation (test/unit/data, made by
 * python3-jwcrypto via gen_interop.py). */
#include <string.h>

#include <apr_strings.h>

#include "test_helpers.h"
#include "bcl_jwe.h"
#include "bcl_token.h"

static apr_pool_t *pool;
static bcl_keyset_t *ks;
static bcl_policy_t pol;
static bcl_verdict_t v;
static json_t *claims;

static void setup(void)
{
    const char *err = NULL;
    ck_assert_int_eq(apr_pool_create(&pool, NULL), APR_SUCCESS);
    ks = th_keyset(pool, 1);
    ck_assert_msg(bcl_keyset_add_decryption_key(ks, th_enc1->priv_pem, strlen(th_enc1->priv_pem), &err) == 0,
                  "%s", err ? err : "?");
    th_policy(pool, &pol, BCL_ALG_BIT(BCL_ALG_RS256));
    claims = th_claims(TH_NOW);
    memset(&v, 0, sizeof(v));
}

static void teardown(void)
{
    json_decref(claims);
    claims = NULL;
    apr_pool_destroy(pool);
    pool = NULL;
}

static bcl_reason_t validate(const char *tok)
{
    return bcl_token_validate(pool, tok, strlen(tok), ks, &pol, TH_NOW, &v);
}

#define EXPECT(tok, reason) ck_assert_reason(validate(tok), v, reason)
#define EXPECT2(tok, r1, r2) ck_assert_reason2(validate(tok), v, r1, r2)

static const char *inner(void)
{
    return th_sign_claims(pool, "RS256", th_rsa1, "rsa1", "logout+jwt", claims);
}

static const char *jwe_to(EVP_PKEY *pub, const char *alg, const char *enc)
{
    const char *in = inner();
    return th_jwe(pool, alg, enc, pub, in, strlen(in));
}

static const char *wraps[] = {"RSA-OAEP", "RSA-OAEP-256"};
static const char *encs[] = {"A128GCM", "A192GCM", "A256GCM",
                             "A128CBC-HS256", "A192CBC-HS384", "A256CBC-HS512"};
#define N_ENCS 6
#define N_COMBOS (2 * N_ENCS)
#define WRAP(i) wraps[(i) / N_ENCS]
#define ENC(i) encs[(i) % N_ENCS]

/* A keyset of the OP's keys and only the given decryption key data. */
static bcl_keyset_t *keyset_with_dec(const char *data)
{
    bcl_keyset_t *k = th_keyset(pool, 1);
    const char *err = NULL;
    if (data)
        ck_assert_msg(bcl_keyset_add_decryption_key(k, data, strlen(data), &err) == 0, "%s", err ? err : "?");
    return k;
}

/* ---- good tokens ---- */

START_TEST(test_jwe_valid_pem_key)
{
    EXPECT(jwe_to(th_enc1->pkey, WRAP(_i), ENC(_i)), BCL_OK);
    ck_assert_int_eq(v.encrypted, 1);
    ck_assert_str_eq(v.alg, "RS256");  /* the inner JWS's alg */
    ck_assert_str_eq(v.kid, "rsa1");
    ck_assert_str_eq(v.iss, TH_ISSUER);
    ck_assert_str_eq(v.sid, "08a5019c-17e1-4977-8f42-65a12843ea02");
}
END_TEST

START_TEST(test_jwe_valid_jwk_key)
{
    ks = keyset_with_dec(th_enc1->priv_json);
    EXPECT(jwe_to(th_enc1->pkey, WRAP(_i), ENC(_i)), BCL_OK);
    ck_assert_int_eq(v.encrypted, 1);
}
END_TEST

START_TEST(test_jwe_valid_traditional_pem_key)
{
    ks = keyset_with_dec(th_enc1->priv_pem_trad);
    EXPECT(jwe_to(th_enc1->pkey, "RSA-OAEP-256", "A256GCM"), BCL_OK);
}
END_TEST

START_TEST(test_jwe_tries_every_key)
{
    /* A PEM key has no kid: the token is tried against each key in turn. */
    const char *err;
    ks = keyset_with_dec(th_enc2->priv_pem);
    ck_assert_int_eq(bcl_keyset_add_decryption_key(ks, th_enc1->priv_json, strlen(th_enc1->priv_json), &err), 0);
    EXPECT(jwe_to(th_enc1->pkey, "RSA-OAEP", "A128CBC-HS256"), BCL_OK);
    EXPECT(jwe_to(th_enc2->pkey, "RSA-OAEP-256", "A256GCM"), BCL_OK);
}
END_TEST

START_TEST(test_jwe_require_encryption)
{
    pol.require_encryption = 1;
    EXPECT(jwe_to(th_enc1->pkey, "RSA-OAEP-256", "A128GCM"), BCL_OK);
    EXPECT(inner(), BCL_R_ENCRYPTION_REQUIRED);
}
END_TEST

START_TEST(test_jwe_header_typ)
{
    const char *in = inner();
    EXPECT(th_jwe_hdr(pool, "{\"alg\":\"RSA-OAEP\",\"enc\":\"A128GCM\",\"typ\":\"JWT\",\"cty\":\"JWT\"}",
                      "RSA-OAEP", "A128GCM", th_enc1->pkey, in, strlen(in)), BCL_OK);
    EXPECT(th_jwe_hdr(pool, "{\"alg\":\"RSA-OAEP\",\"enc\":\"A128GCM\",\"typ\":\"at+jwt\"}",
                      "RSA-OAEP", "A128GCM", th_enc1->pkey, in, strlen(in)), BCL_R_TYP);
    EXPECT(th_jwe_hdr(pool, "{\"alg\":\"RSA-OAEP\",\"enc\":\"A128GCM\",\"kid\":\"enc1\"}",
                      "RSA-OAEP", "A128GCM", th_enc1->pkey, in, strlen(in)), BCL_OK);
}
END_TEST

START_TEST(test_jwe_decrypt_direct)
{
    /* bcl_jwe_decrypt hands back the nested JWS exactly. */
    const char *in = inner(), *plain = NULL;
    apr_size_t plain_len = 0;
    const char *tok = th_jwe(pool, "RSA-OAEP-256", "A192CBC-HS384", th_enc1->pkey, in, strlen(in));
    ck_assert_reason(bcl_jwe_decrypt(pool, tok, strlen(tok), ks, &plain, &plain_len, &v), v, BCL_OK);
    ck_assert_uint_eq(plain_len, strlen(in));
    ck_assert_mem_eq(plain, in, plain_len);
}
END_TEST

/* ---- keys ---- */

START_TEST(test_jwe_wrong_key)
{
    ks = keyset_with_dec(th_enc2->priv_pem);
    EXPECT(jwe_to(th_enc1->pkey, WRAP(_i), ENC(_i)), BCL_R_DECRYPT);
}
END_TEST

START_TEST(test_jwe_no_decryption_keys)
{
    ks = keyset_with_dec(NULL);
    EXPECT(jwe_to(th_enc1->pkey, "RSA-OAEP", "A128GCM"), BCL_R_DECRYPT);
    ck_assert_int_eq(v.encrypted, 1);
}
END_TEST

START_TEST(test_jwe_oaep_variant_mismatch)
{
    /* Wrapped with RSA-OAEP (SHA-1) but labelled RSA-OAEP-256, and back. */
    const char *in = inner();
    EXPECT(th_jwe_hdr(pool, "{\"alg\":\"RSA-OAEP-256\",\"enc\":\"A128GCM\"}", "RSA-OAEP", "A128GCM",
                      th_enc1->pkey, in, strlen(in)), BCL_R_DECRYPT);
    EXPECT(th_jwe_hdr(pool, "{\"alg\":\"RSA-OAEP\",\"enc\":\"A128GCM\"}", "RSA-OAEP-256", "A128GCM",
                      th_enc1->pkey, in, strlen(in)), BCL_R_DECRYPT);
}
END_TEST

START_TEST(test_jwe_cek_length_mismatch)
{
    /* A 16-byte CEK under a header that says A256GCM (32 bytes), and a
     * CBC-HS key under a GCM label. */
    const char *in = inner();
    EXPECT(th_jwe_hdr(pool, "{\"alg\":\"RSA-OAEP\",\"enc\":\"A256GCM\"}", "RSA-OAEP", "A128GCM",
                      th_enc1->pkey, in, strlen(in)), BCL_R_DECRYPT);
    EXPECT(th_jwe_hdr(pool, "{\"alg\":\"RSA-OAEP\",\"enc\":\"A256GCM\"}", "RSA-OAEP", "A128CBC-HS256",
                      th_enc1->pkey, in, strlen(in)), BCL_R_DECRYPT);
    EXPECT(th_jwe_hdr(pool, "{\"alg\":\"RSA-OAEP\",\"enc\":\"A128CBC-HS256\"}", "RSA-OAEP", "A256GCM",
                      th_enc1->pkey, in, strlen(in)), BCL_R_DECRYPT);
}
END_TEST

/* ---- tampering ---- */

START_TEST(test_jwe_tampered_ciphertext)
{
    const char *tok = jwe_to(th_enc1->pkey, WRAP(_i), ENC(_i));
    EXPECT(th_flip(pool, tok, 3, 0, 0x01), BCL_R_DECRYPT);
    EXPECT(th_flip(pool, tok, 3, -1, 0x80), BCL_R_DECRYPT);
}
END_TEST

START_TEST(test_jwe_tampered_tag)
{
    const char *tok = jwe_to(th_enc1->pkey, WRAP(_i), ENC(_i));
    EXPECT(th_flip(pool, tok, 4, 0, 0x01), BCL_R_DECRYPT);
    EXPECT(th_flip(pool, tok, 4, -1, 0x01), BCL_R_DECRYPT);
}
END_TEST

START_TEST(test_jwe_tampered_iv)
{
    const char *tok = jwe_to(th_enc1->pkey, WRAP(_i), ENC(_i));
    EXPECT(th_flip(pool, tok, 2, 0, 0x01), BCL_R_DECRYPT);
}
END_TEST

START_TEST(test_jwe_tampered_encrypted_key)
{
    const char *tok = jwe_to(th_enc1->pkey, WRAP(_i), ENC(_i));
    EXPECT(th_flip(pool, tok, 1, 0, 0x01), BCL_R_DECRYPT);
    EXPECT(th_flip(pool, tok, 1, 100, 0x40), BCL_R_DECRYPT);
}
END_TEST

START_TEST(test_jwe_tampered_aad)
{
    /* The protected header is the AAD: an equivalent header with an extra
     * member (or other whitespace) must not decrypt. */
    const char *tok = jwe_to(th_enc1->pkey, WRAP(_i), ENC(_i));
    const char *h1 = apr_psprintf(pool, "{\"alg\":\"%s\",\"enc\":\"%s\",\"cty\":\"JWT\",\"x\":1}", WRAP(_i), ENC(_i));
    const char *h2 = apr_psprintf(pool, "{\"alg\":\"%s\", \"enc\":\"%s\",\"cty\":\"JWT\"}", WRAP(_i), ENC(_i));
    EXPECT(th_replace_part(pool, tok, 0, th_b64url(pool, h1, strlen(h1))), BCL_R_DECRYPT);
    EXPECT(th_replace_part(pool, tok, 0, th_b64url(pool, h2, strlen(h2))), BCL_R_DECRYPT);
}
END_TEST

START_TEST(test_jwe_truncated_parts)
{
    const char *tok = jwe_to(th_enc1->pkey, WRAP(_i), ENC(_i));
    const char *tag = th_part(pool, tok, 4), *ct = th_part(pool, tok, 3);
    size_t n;
    unsigned char *bin = th_b64url_dec(pool, tag, strlen(tag), &n);
    EXPECT(th_replace_part(pool, tok, 4, th_b64url(pool, bin, n - 1)), BCL_R_DECRYPT);
    EXPECT(th_replace_part(pool, tok, 4, th_b64url(pool, bin, 1)), BCL_R_DECRYPT);
    EXPECT2(th_replace_part(pool, tok, 4, ""), BCL_R_DECRYPT, BCL_R_MALFORMED);
    EXPECT2(th_replace_part(pool, tok, 3, ""), BCL_R_DECRYPT, BCL_R_MALFORMED);
    EXPECT2(th_replace_part(pool, tok, 2, ""), BCL_R_DECRYPT, BCL_R_MALFORMED);
    EXPECT2(th_replace_part(pool, tok, 1, ""), BCL_R_DECRYPT, BCL_R_MALFORMED);
    bin = th_b64url_dec(pool, ct, strlen(ct), &n);
    EXPECT(th_replace_part(pool, tok, 3, th_b64url(pool, bin, n - 1)), BCL_R_DECRYPT);
}
END_TEST

START_TEST(test_jwe_swapped_parts)
{
    /* Parts of two tokens to the same key do not mix. */
    const char *a = jwe_to(th_enc1->pkey, WRAP(_i), ENC(_i));
    const char *b = jwe_to(th_enc1->pkey, WRAP(_i), ENC(_i));
    EXPECT(th_replace_part(pool, a, 1, th_part(pool, b, 1)), BCL_R_DECRYPT);
    EXPECT(th_replace_part(pool, a, 3, th_part(pool, b, 3)), BCL_R_DECRYPT);
    EXPECT(th_replace_part(pool, a, 4, th_part(pool, b, 4)), BCL_R_DECRYPT);
}
END_TEST

/* ---- headers ---- */

START_TEST(test_jwe_unsupported_alg)
{
    /* RSA1_5 (a padding oracle), dir, key wrap and ECDH: bcl_jwe.c refuses
     * them as BCL_R_ALG before any key is used. */
    const char *in = inner();
    EXPECT(th_jwe(pool, "RSA1_5", "A128CBC-HS256", th_enc1->pkey, in, strlen(in)), BCL_R_ALG);
    EXPECT(th_jwe(pool, "RSA1_5", "A128GCM", th_enc1->pkey, in, strlen(in)), BCL_R_ALG);
    EXPECT(th_jwe(pool, "dir", "A128GCM", th_enc1->pkey, in, strlen(in)), BCL_R_ALG);
    EXPECT(th_jwe_hdr(pool, "{\"alg\":\"A128KW\",\"enc\":\"A128GCM\"}", "RSA-OAEP", "A128GCM",
                      th_enc1->pkey, in, strlen(in)), BCL_R_ALG);
    EXPECT(th_jwe_hdr(pool, "{\"alg\":\"ECDH-ES\",\"enc\":\"A128GCM\"}", "RSA-OAEP", "A128GCM",
                      th_enc1->pkey, in, strlen(in)), BCL_R_ALG);
    EXPECT(th_jwe_hdr(pool, "{\"alg\":\"rsa-oaep\",\"enc\":\"A128GCM\"}", "RSA-OAEP", "A128GCM",
                      th_enc1->pkey, in, strlen(in)), BCL_R_ALG);
    EXPECT(th_jwe_hdr(pool, "{\"alg\":\"none\",\"enc\":\"A128GCM\"}", "RSA-OAEP", "A128GCM",
                      th_enc1->pkey, in, strlen(in)), BCL_R_ALG);
    EXPECT(th_jwe_hdr(pool, "{\"enc\":\"A128GCM\"}", "RSA-OAEP", "A128GCM",
                      th_enc1->pkey, in, strlen(in)), BCL_R_ALG);
}
END_TEST

START_TEST(test_jwe_unsupported_enc)
{
    const char *in = inner();
    EXPECT(th_jwe_hdr(pool, "{\"alg\":\"RSA-OAEP\",\"enc\":\"A128CBC\"}", "RSA-OAEP", "A128CBC-HS256",
                      th_enc1->pkey, in, strlen(in)), BCL_R_ALG);
    EXPECT(th_jwe_hdr(pool, "{\"alg\":\"RSA-OAEP\",\"enc\":\"a128gcm\"}", "RSA-OAEP", "A128GCM",
                      th_enc1->pkey, in, strlen(in)), BCL_R_ALG);
    EXPECT(th_jwe_hdr(pool, "{\"alg\":\"RSA-OAEP\"}", "RSA-OAEP", "A128GCM",
                      th_enc1->pkey, in, strlen(in)), BCL_R_ALG);
    EXPECT(th_jwe_hdr(pool, "{\"alg\":\"RSA-OAEP\",\"enc\":5}", "RSA-OAEP", "A128GCM",
                      th_enc1->pkey, in, strlen(in)), BCL_R_ALG);
}
END_TEST

START_TEST(test_jwe_zip_refused)
{
    const char *in = inner();
    EXPECT(th_jwe_hdr(pool, "{\"alg\":\"RSA-OAEP\",\"enc\":\"A128GCM\",\"zip\":\"DEF\"}", "RSA-OAEP", "A128GCM",
                      th_enc1->pkey, in, strlen(in)), BCL_R_HEADER);
}
END_TEST

START_TEST(test_jwe_crit_refused)
{
    const char *in = inner();
    EXPECT(th_jwe_hdr(pool, "{\"alg\":\"RSA-OAEP\",\"enc\":\"A128GCM\",\"crit\":[\"x\"],\"x\":1}", "RSA-OAEP",
                      "A128GCM", th_enc1->pkey, in, strlen(in)), BCL_R_CRIT);
}
END_TEST

START_TEST(test_jwe_header_duplicates)
{
    const char *in = inner();
    EXPECT(th_jwe_hdr(pool, "{\"alg\":\"RSA-OAEP\",\"enc\":\"A128GCM\",\"enc\":\"A256GCM\"}", "RSA-OAEP",
                      "A128GCM", th_enc1->pkey, in, strlen(in)), BCL_R_HEADER);
}
END_TEST

START_TEST(test_jwe_malformed)
{
    const char *tok = jwe_to(th_enc1->pkey, "RSA-OAEP", "A128GCM");
    EXPECT(apr_pstrcat(pool, tok, ".AAAA", NULL), BCL_R_MALFORMED);
    EXPECT(th_replace_part(pool, tok, 2, "!!!!"), BCL_R_MALFORMED);
    EXPECT(th_replace_part(pool, tok, 4, apr_pstrcat(pool, th_part(pool, tok, 4), "==", NULL)), BCL_R_MALFORMED);
    EXPECT(th_replace_part(pool, tok, 0, "e30"), BCL_R_ALG);     /* {} */
    EXPECT(th_replace_part(pool, tok, 0, "W10"), BCL_R_HEADER);  /* [] */
    EXPECT2(th_replace_part(pool, tok, 0, ""), BCL_R_MALFORMED, BCL_R_HEADER);
    EXPECT("....", BCL_R_MALFORMED);
}
END_TEST

/* ---- what is inside ---- */

START_TEST(test_jwe_inner_not_signed)
{
    /* An encrypted but unsigned claims set proves nothing about the OP:
     * anyone with the RP's public key can make one. */
    const char *payload = th_json(pool, claims);
    EXPECT2(th_jwe(pool, "RSA-OAEP", "A256GCM", th_enc1->pkey, payload, strlen(payload)),
            BCL_R_MALFORMED, BCL_R_PAYLOAD);
    ck_assert_int_ne(v.reason, BCL_OK);
}
END_TEST

START_TEST(test_jwe_inner_alg_none)
{
    const char *none = th_compact(pool, "{\"alg\":\"none\"}", th_json(pool, claims), "");
    pol.allowed_algs = th_all_algs();
    EXPECT(th_jwe(pool, "RSA-OAEP", "A256GCM", th_enc1->pkey, none, strlen(none)), BCL_R_ALG);
}
END_TEST

START_TEST(test_jwe_inner_signed_by_attacker)
{
    const char *bad = th_sign_claims(pool, "RS256", th_att_rsa, NULL, NULL, claims);
    EXPECT(th_jwe(pool, "RSA-OAEP", "A256GCM", th_enc1->pkey, bad, strlen(bad)), BCL_R_SIGNATURE);
}
END_TEST

START_TEST(test_jwe_nested_jwe)
{
    const char *once = jwe_to(th_enc1->pkey, "RSA-OAEP", "A128GCM");
    EXPECT(th_jwe(pool, "RSA-OAEP", "A128GCM", th_enc1->pkey, once, strlen(once)), BCL_R_MALFORMED);
}
END_TEST

START_TEST(test_jwe_inner_claim_failure)
{
    json_object_set_new(claims, "aud", json_string("other"));
    EXPECT(jwe_to(th_enc1->pkey, "RSA-OAEP-256", "A128CBC-HS256"), BCL_R_AUD);
    ck_assert_int_eq(v.encrypted, 1);
    ck_assert_str_eq(v.iss, TH_ISSUER);
}
END_TEST

START_TEST(test_jwe_inner_garbage)
{
    static const char *junk[] = {"", "x", "a.b", "a.b.c", "{}", "\x01\x02\x03"};
    size_t i;
    for (i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
        bcl_reason_t r = validate(th_jwe(pool, "RSA-OAEP", "A128GCM", th_enc1->pkey, junk[i], strlen(junk[i])));
        ck_assert_msg(r != BCL_OK, "garbage %zu accepted", i);
        ck_assert_int_eq(v.encrypted, 1);
    }
}
END_TEST

START_TEST(test_jwe_inner_with_nul)
{
    /* The nested token is binary-clean: a NUL in the plaintext is not a terminator. */
    const char *in = inner();
    size_t n = strlen(in);
    char *buf = apr_palloc(pool, n + 8);
    memcpy(buf, in, n);
    memcpy(buf + n, "\0.x.y", 5);
    EXPECT2(th_jwe(pool, "RSA-OAEP", "A128GCM", th_enc1->pkey, buf, n + 5), BCL_R_MALFORMED, BCL_R_SIGNATURE);
    ck_assert_int_ne(v.reason, BCL_OK);
}
END_TEST

/* ---- interop with python-jwcrypto ---- */

static bcl_keyset_t *interop_keyset(void)
{
    bcl_keyset_t *k = bcl_keyset_create(pool);
    size_t n;
    const char *err = NULL;
    const char *jwks = th_read_data(pool, "interop-jwks.json", &n);
    const char *secret = th_read_data(pool, "interop-secret.txt", NULL);
    const char *pem = th_read_data(pool, "interop-enc-key.pem", NULL);
    ck_assert_msg(bcl_keyset_add_jwks(k, jwks, n, NULL, &err) == 0, "%s", err ? err : "?");
    ck_assert_int_eq(bcl_keyset_count(k), 5);
    ck_assert_int_eq(bcl_keyset_set_client_secret(k, secret, strlen(secret), &err), 0);
    ck_assert_msg(bcl_keyset_add_decryption_key(k, pem, strlen(pem), &err) == 0, "%s", err ? err : "?");
    return k;
}

static const char *trim(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ')) s[--n] = '\0';
    return s;
}

static const char *interop_sig_algs[] = {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
                                         "ES256", "ES384", "ES512", "HS256", "HS384", "HS512", "EdDSA"};

START_TEST(test_interop_jws)
{
    const char *alg = interop_sig_algs[_i];
    const char *tok = trim(th_read_data(pool, apr_psprintf(pool, "interop-%s.jws", alg), NULL));
    ks = interop_keyset();
    pol.allowed_algs = BCL_ALG_BIT(bcl_alg_from_name(alg));
    EXPECT(tok, BCL_OK);
    ck_assert_str_eq(v.alg, alg);
    ck_assert_str_eq(v.jti, apr_pstrcat(pool, "interop-", alg, NULL));
    ck_assert_int_eq(v.iat, TH_NOW - 5);
    /* The same token an hour later is expired. */
    ck_assert_reason(bcl_token_validate(pool, tok, strlen(tok), ks, &pol, TH_NOW + 3600, &v), v, BCL_R_EXP);
}
END_TEST

START_TEST(test_interop_jwe)
{
    const char *tok = trim(th_read_data(pool, apr_psprintf(pool, "interop-%s-%s.jwe", WRAP(_i), ENC(_i)), NULL));
    ks = interop_keyset();
    EXPECT(tok, BCL_OK);
    ck_assert_int_eq(v.encrypted, 1);
    ck_assert_str_eq(v.jti, "interop-RS256-nested");
}
END_TEST

START_TEST(test_interop_jwe_jwk_key)
{
    const char *tok = trim(th_read_data(pool, "interop-RSA-OAEP-256-A256GCM.jwe", NULL));
    const char *jwks = th_read_data(pool, "interop-jwks.json", NULL);
    const char *jwk = th_read_data(pool, "interop-enc-key.jwk", NULL);
    const char *err = NULL;
    ks = bcl_keyset_create(pool);
    ck_assert_int_eq(bcl_keyset_add_jwks(ks, jwks, strlen(jwks), NULL, &err), 0);
    ck_assert_msg(bcl_keyset_add_decryption_key(ks, jwk, strlen(jwk), &err) == 0, "%s", err ? err : "?");
    EXPECT(tok, BCL_OK);
}
END_TEST

START_TEST(test_interop_wrong_key)
{
    /* Interop tokens under this suite's own keys: not accepted. */
    const char *tok = trim(th_read_data(pool, "interop-RSA-OAEP-A128GCM.jwe", NULL));
    EXPECT(tok, BCL_R_DECRYPT);
    tok = trim(th_read_data(pool, "interop-RS256.jws", NULL));
    EXPECT(tok, BCL_R_UNKNOWN_KID);
}
END_TEST

Suite *jwe_suite(void)
{
    Suite *s = suite_create("jwe");
    TCase *good = tcase_create("valid");
    TCase *keys = tcase_create("keys");
    TCase *tamper = tcase_create("tamper");
    TCase *hdr = tcase_create("header");
    TCase *in = tcase_create("inner");
    TCase *interop = tcase_create("interop");
    TCase *all[] = {good, keys, tamper, hdr, in, interop};
    size_t i;

    for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        tcase_add_checked_fixture(all[i], setup, teardown);
        tcase_set_timeout(all[i], 60);
    }

    tcase_add_loop_test(good, test_jwe_valid_pem_key, 0, N_COMBOS);
    tcase_add_loop_test(good, test_jwe_valid_jwk_key, 0, N_COMBOS);
    tcase_add_test(good, test_jwe_valid_traditional_pem_key);
    tcase_add_test(good, test_jwe_tries_every_key);
    tcase_add_test(good, test_jwe_require_encryption);
    tcase_add_test(good, test_jwe_header_typ);
    tcase_add_test(good, test_jwe_decrypt_direct);
    suite_add_tcase(s, good);

    tcase_add_loop_test(keys, test_jwe_wrong_key, 0, N_COMBOS);
    tcase_add_test(keys, test_jwe_no_decryption_keys);
    tcase_add_test(keys, test_jwe_oaep_variant_mismatch);
    tcase_add_test(keys, test_jwe_cek_length_mismatch);
    suite_add_tcase(s, keys);

    tcase_add_loop_test(tamper, test_jwe_tampered_ciphertext, 0, N_COMBOS);
    tcase_add_loop_test(tamper, test_jwe_tampered_tag, 0, N_COMBOS);
    tcase_add_loop_test(tamper, test_jwe_tampered_iv, 0, N_COMBOS);
    tcase_add_loop_test(tamper, test_jwe_tampered_encrypted_key, 0, N_COMBOS);
    tcase_add_loop_test(tamper, test_jwe_tampered_aad, 0, N_COMBOS);
    tcase_add_loop_test(tamper, test_jwe_truncated_parts, 0, N_COMBOS);
    tcase_add_loop_test(tamper, test_jwe_swapped_parts, 0, N_COMBOS);
    suite_add_tcase(s, tamper);

    tcase_add_test(hdr, test_jwe_unsupported_alg);
    tcase_add_test(hdr, test_jwe_unsupported_enc);
    tcase_add_test(hdr, test_jwe_zip_refused);
    tcase_add_test(hdr, test_jwe_crit_refused);
    tcase_add_test(hdr, test_jwe_header_duplicates);
    tcase_add_test(hdr, test_jwe_malformed);
    suite_add_tcase(s, hdr);

    tcase_add_test(in, test_jwe_inner_not_signed);
    tcase_add_test(in, test_jwe_inner_alg_none);
    tcase_add_test(in, test_jwe_inner_signed_by_attacker);
    tcase_add_test(in, test_jwe_nested_jwe);
    tcase_add_test(in, test_jwe_inner_claim_failure);
    tcase_add_test(in, test_jwe_inner_garbage);
    tcase_add_test(in, test_jwe_inner_with_nul);
    suite_add_tcase(s, in);

    tcase_add_loop_test(interop, test_interop_jws, 0,
                        (int)(sizeof(interop_sig_algs) / sizeof(interop_sig_algs[0])));
    tcase_add_loop_test(interop, test_interop_jwe, 0, N_COMBOS);
    tcase_add_test(interop, test_interop_jwe_jwk_key);
    tcase_add_test(interop, test_interop_wrong_key);
    suite_add_tcase(s, interop);
    return s;
}
