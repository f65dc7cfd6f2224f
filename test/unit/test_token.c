/* bcl_token_validate on signed (JWS) logout tokens: one test per rule of
 * OpenID Connect Back-Channel Logout 1.0 section 2.6 and docs/receiver.md
 * ("Validation steps"), each asserting the reason code. Tokens are made at
 * TH_NOW by the helpers. */
#include <limits.h>
#include <string.h>

#include <apr_strings.h>
#include <openssl/ec.h>

#include "test_helpers.h"
#include "bcl_token.h"

static apr_pool_t *pool;
static bcl_keyset_t *ks;
static bcl_policy_t pol;
static bcl_verdict_t v;
static json_t *claims;

static void setup(void)
{
    ck_assert_int_eq(apr_pool_create(&pool, NULL), APR_SUCCESS);
    ks = th_keyset(pool, 1);
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

/* The current claims, signed RS256 by rsa1 with kid and typ logout+jwt. */
static const char *rs256(void)
{
    return th_sign_claims(pool, "RS256", th_rsa1, "rsa1", "logout+jwt", claims);
}

/* The current claims under an arbitrary header, signed with `alg` by `key`. */
static const char *raw(const char *alg, const th_key_t *key, const char *header)
{
    return th_sign_raw(pool, alg, key, TH_SECRET, strlen(TH_SECRET), header, th_json(pool, claims));
}

static void set_raw(const char *name, const char *value_json)
{
    json_error_t err;
    json_t *val = json_loads(value_json, JSON_DECODE_ANY, &err);
    ck_assert_msg(val != NULL, "bad JSON in test: %s", value_json);
    json_object_set_new(claims, name, val);
}

static void set_int(const char *name, long long value)
{
    json_object_set_new(claims, name, json_integer((json_int_t)value));
}

static void set_str(const char *name, const char *value)
{
    json_object_set_new(claims, name, json_string(value));
}

static void del(const char *name)
{
    json_object_del(claims, name);
}

/* ------------------------------------------------------------------ */
/* algorithms */

static const struct {
    const char *alg;
    bcl_alg_t id;
} algs[] = {
    {"RS256", BCL_ALG_RS256}, {"RS384", BCL_ALG_RS384}, {"RS512", BCL_ALG_RS512},
    {"PS256", BCL_ALG_PS256}, {"PS384", BCL_ALG_PS384}, {"PS512", BCL_ALG_PS512},
    {"ES256", BCL_ALG_ES256}, {"ES384", BCL_ALG_ES384}, {"ES512", BCL_ALG_ES512},
    {"HS256", BCL_ALG_HS256}, {"HS384", BCL_ALG_HS384}, {"HS512", BCL_ALG_HS512},
    {"EdDSA", BCL_ALG_EDDSA},
};
#define N_ALGS ((int)(sizeof(algs) / sizeof(algs[0])))

/* The OP key that signs `alg` (NULL for HMAC: the client secret). */
static const th_key_t *key_for(bcl_alg_t id)
{
    switch (id) {
    case BCL_ALG_RS256: case BCL_ALG_RS384: case BCL_ALG_RS512:
    case BCL_ALG_PS256: case BCL_ALG_PS384: case BCL_ALG_PS512:
        return th_rsa1;
    case BCL_ALG_ES256: return th_ec256;
    case BCL_ALG_ES384: return th_ec384;
    case BCL_ALG_ES512: return th_ec521;
    case BCL_ALG_EDDSA: return th_ed1;
    default: return NULL;
    }
}

START_TEST(test_valid_alg)
{
    const th_key_t *k = key_for(algs[_i].id);
    const char *tok;
    pol.allowed_algs = BCL_ALG_BIT(algs[_i].id);
    tok = th_sign_claims(pool, algs[_i].alg, k, k ? k->kid : NULL, "logout+jwt", claims);
    EXPECT(tok, BCL_OK);
    ck_assert_str_eq(v.alg, algs[_i].alg);
    if (k) ck_assert_str_eq(v.kid, k->kid);
    else ck_assert_ptr_null(v.kid);
    ck_assert_int_eq(v.encrypted, 0);
}
END_TEST

START_TEST(test_valid_alg_all_allowed)
{
    const th_key_t *k = key_for(algs[_i].id);
    pol.allowed_algs = th_all_algs();
    EXPECT(th_sign_claims(pool, algs[_i].alg, k, k ? k->kid : NULL, "JWT", claims), BCL_OK);
}
END_TEST

START_TEST(test_valid_alg_openssl_signed)
{
    /* The same with signatures made by OpenSSL rather than cjose (PSS salt
     * length, ECDSA R||S padding): interoperability with other OPs. */
    const th_key_t *k = key_for(algs[_i].id);
    const char *hdr = k ? apr_psprintf(pool, "{\"alg\":\"%s\",\"kid\":\"%s\",\"typ\":\"logout+jwt\"}",
                                       algs[_i].alg, k->kid)
                        : apr_psprintf(pool, "{\"alg\":\"%s\",\"typ\":\"logout+jwt\"}", algs[_i].alg);
    pol.allowed_algs = BCL_ALG_BIT(algs[_i].id);
    EXPECT(raw(algs[_i].alg, k, hdr), BCL_OK);
}
END_TEST

START_TEST(test_valid_alg_no_kid)
{
    /* Without kid every configured key whose type fits alg is tried: for
     * RSA, rsa2 is tried after rsa1. */
    const th_key_t *k = key_for(algs[_i].id);
    if (k == th_rsa1) k = th_rsa2;
    pol.allowed_algs = BCL_ALG_BIT(algs[_i].id);
    EXPECT(th_sign_claims(pool, algs[_i].alg, k, NULL, NULL, claims), BCL_OK);
    ck_assert_ptr_null(v.kid);
}
END_TEST

START_TEST(test_wrong_key_each_alg)
{
    /* Signed by a key the OP does not publish (HMAC: another secret). */
    bcl_alg_t id = algs[_i].id;
    const char *hdr = apr_psprintf(pool, "{\"alg\":\"%s\"}", algs[_i].alg);
    th_key_t eph;
    const th_key_t *att = NULL;
    memset(&eph, 0, sizeof(eph));
    pol.allowed_algs = BCL_ALG_BIT(id);
    switch (bcl_alg_key_type(id)) {
    case BCL_KTY_RSA: att = th_att_rsa; break;
    case BCL_KTY_EC_P256: att = th_att_ec; break;
    case BCL_KTY_OKP_ED25519: att = th_att_ed; break;
    case BCL_KTY_EC_P384:
    case BCL_KTY_EC_P521:
        eph.type = id == BCL_ALG_ES384 ? TH_EC384 : TH_EC521;
        eph.pkey = EVP_EC_gen(id == BCL_ALG_ES384 ? "P-384" : "P-521");
        ck_assert_ptr_nonnull(eph.pkey);
        att = &eph;
        break;
    default: break;
    }
    if (bcl_alg_key_type(id) == BCL_KTY_OCT) {
        const char *other = "not-the-client-secret";
        EXPECT(th_sign_raw(pool, algs[_i].alg, NULL, other, strlen(other), hdr, th_json(pool, claims)),
               BCL_R_SIGNATURE);
    }
    else {
        EXPECT(raw(algs[_i].alg, att, hdr), BCL_R_SIGNATURE);
    }
    EVP_PKEY_free(eph.pkey);
}
END_TEST

/* A validly signed token whose signature is cut short or made longer is
 * refused, for every alg. cjose 0.6.2 compared an HS* signature over the
 * HMAC's length before checking its own length: a 1-byte signature was
 * read past its end (valgrind reports it; fuzz_token crashed on it). */
START_TEST(test_signature_of_the_wrong_length_each_alg)
{
    const th_key_t *k = key_for(algs[_i].id);
    char *tok = th_sign_claims(pool, algs[_i].alg, k, k ? k->kid : NULL, "logout+jwt", claims);
    char *sig = strrchr(tok, '.') + 1;
    size_t full = strlen(sig);

    pol.allowed_algs = BCL_ALG_BIT(algs[_i].id);
    /* 1 byte; whole groups of 4 characters, at least 3 bytes short; 3 bytes longer */
    EXPECT(apr_pstrcat(pool, apr_pstrmemdup(pool, tok, (apr_size_t)(sig - tok)), "AA", NULL), BCL_R_SIGNATURE);
    EXPECT(apr_pstrmemdup(pool, tok, (apr_size_t)(sig - tok) + (full - 4) / 4 * 4), BCL_R_SIGNATURE);
    EXPECT(apr_pstrcat(pool, tok, "AAAA", NULL), BCL_R_SIGNATURE);
}
END_TEST

START_TEST(test_alg_none)
{
    static const char *names[] = {"none", "None", "NONE", "nOnE"};
    size_t i;
    pol.allowed_algs = th_all_algs();
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        const char *hdr = apr_psprintf(pool, "{\"alg\":\"%s\",\"kid\":\"rsa1\"}", names[i]);
        const char *payload = th_json(pool, claims);
        EXPECT(th_compact(pool, hdr, payload, ""), BCL_R_ALG);
        /* ... also with something in the signature slot. */
        EXPECT(th_compact(pool, hdr, payload, "c2lnbmF0dXJl"), BCL_R_ALG);
    }
}
END_TEST

START_TEST(test_alg_missing)
{
    pol.allowed_algs = th_all_algs();
    EXPECT(raw("RS256", th_rsa1, "{\"kid\":\"rsa1\",\"typ\":\"JWT\"}"), BCL_R_ALG);
    EXPECT(raw("RS256", th_rsa1, "{}"), BCL_R_ALG);
}
END_TEST

START_TEST(test_alg_not_a_string)
{
    pol.allowed_algs = th_all_algs();
    EXPECT2(raw("RS256", th_rsa1, "{\"alg\":256,\"kid\":\"rsa1\"}"), BCL_R_ALG, BCL_R_HEADER);
    EXPECT2(raw("RS256", th_rsa1, "{\"alg\":[\"RS256\"],\"kid\":\"rsa1\"}"), BCL_R_ALG, BCL_R_HEADER);
    EXPECT2(raw("RS256", th_rsa1, "{\"alg\":null,\"kid\":\"rsa1\"}"), BCL_R_ALG, BCL_R_HEADER);
}
END_TEST

START_TEST(test_alg_unknown)
{
    static const char *names[] = {"RS999", "rs256", "Rs256", "RS256 ", " RS256", "HS1", "ES256K",
                                  "RSA-OAEP", "A128KW", "dir", "", "EDDSA", "Ed25519"};
    size_t i;
    pol.allowed_algs = th_all_algs();
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        EXPECT(raw("RS256", th_rsa1, apr_psprintf(pool, "{\"alg\":\"%s\",\"kid\":\"rsa1\"}", names[i])),
               BCL_R_ALG);
}
END_TEST

START_TEST(test_alg_not_allowed)
{
    /* ES256 with a key that IS in the JWKS, while only RS256 is allowed. */
    EXPECT(th_sign_claims(pool, "ES256", th_ec256, "ec256", NULL, claims), BCL_R_ALG);
    EXPECT(th_sign_claims(pool, "ES256", th_ec256, NULL, NULL, claims), BCL_R_ALG);
    EXPECT(th_sign_claims(pool, "RS512", th_rsa1, "rsa1", NULL, claims), BCL_R_ALG);
    EXPECT(th_sign_claims(pool, "PS256", th_rsa1, "rsa1", NULL, claims), BCL_R_ALG);
    EXPECT(th_sign_claims(pool, "HS256", NULL, NULL, NULL, claims), BCL_R_ALG);
    EXPECT(th_sign_claims(pool, "EdDSA", th_ed1, "ed1", NULL, claims), BCL_R_ALG);
    /* Nothing allowed at all. */
    pol.allowed_algs = 0;
    EXPECT(rs256(), BCL_R_ALG);
}
END_TEST

START_TEST(test_alg_confusion_hmac_with_public_key)
{
    /* The classic attack: HS256 keyed with the bytes of the OP's public key,
     * naming the RSA key's kid. With a (different) client secret configured
     * the HMAC is checked with that secret only. */
    const char *hdr = "{\"alg\":\"HS256\",\"kid\":\"rsa1\",\"typ\":\"logout+jwt\"}";
    const char *payload = th_json(pool, claims);
    pol.allowed_algs = BCL_ALG_BIT(BCL_ALG_RS256) | BCL_ALG_BIT(BCL_ALG_HS256);
    EXPECT(th_sign_raw(pool, "HS256", NULL, th_rsa1->pub_json, strlen(th_rsa1->pub_json), hdr, payload),
           BCL_R_SIGNATURE);
    EXPECT(th_sign_raw(pool, "HS256", NULL, th_rsa1->pub_pem, strlen(th_rsa1->pub_pem), hdr, payload),
           BCL_R_SIGNATURE);
    EXPECT(th_sign_raw(pool, "HS256", NULL, th_op_jwks(pool), strlen(th_op_jwks(pool)),
                       "{\"alg\":\"HS256\"}", payload),
           BCL_R_SIGNATURE);
}
END_TEST

START_TEST(test_alg_confusion_no_client_secret)
{
    /* Without a client secret there is no HMAC key at all: never the RSA key. */
    const char *hdr = "{\"alg\":\"HS256\",\"kid\":\"rsa1\"}";
    ks = th_keyset(pool, 0);
    pol.allowed_algs = BCL_ALG_BIT(BCL_ALG_RS256) | BCL_ALG_BIT(BCL_ALG_HS256);
    EXPECT(th_sign_raw(pool, "HS256", NULL, th_rsa1->pub_json, strlen(th_rsa1->pub_json), hdr,
                       th_json(pool, claims)),
           BCL_R_NO_KEY);
    EXPECT(th_sign_raw(pool, "HS256", NULL, th_rsa1->pub_json, strlen(th_rsa1->pub_json),
                       "{\"alg\":\"HS256\"}", th_json(pool, claims)),
           BCL_R_NO_KEY);
}
END_TEST

START_TEST(test_alg_confusion_ps_header_rs_signature)
{
    /* The header says PS256 but the signature is PKCS#1 v1.5 (and vice versa). */
    pol.allowed_algs = th_all_algs();
    EXPECT(raw("RS256", th_rsa1, "{\"alg\":\"PS256\",\"kid\":\"rsa1\"}"), BCL_R_SIGNATURE);
    EXPECT(raw("PS256", th_rsa1, "{\"alg\":\"RS256\",\"kid\":\"rsa1\"}"), BCL_R_SIGNATURE);
    EXPECT(raw("RS384", th_rsa1, "{\"alg\":\"RS256\",\"kid\":\"rsa1\"}"), BCL_R_SIGNATURE);
    EXPECT(raw("ES256", th_ec256, "{\"alg\":\"ES256\",\"kid\":\"ec256\"}"), BCL_OK);
}
END_TEST

START_TEST(test_alg_ecdsa_der_signature_refused)
{
    /* JWS ECDSA signatures are R||S; a DER signature must not verify. Make
     * one with OpenSSL directly. */
    const char *hdr = "{\"alg\":\"ES256\",\"kid\":\"ec256\"}";
    const char *payload = th_json(pool, claims);
    const char *input = apr_pstrcat(pool, th_b64url(pool, hdr, strlen(hdr)), ".",
                                    th_b64url(pool, payload, strlen(payload)), NULL);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char der[128];
    size_t len = sizeof(der);
    pol.allowed_algs = BCL_ALG_BIT(BCL_ALG_ES256);
    ck_assert_int_eq(EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, th_ec256->pkey), 1);
    ck_assert_int_eq(EVP_DigestSign(ctx, der, &len, (const unsigned char *)input, strlen(input)), 1);
    EVP_MD_CTX_free(ctx);
    EXPECT2(apr_pstrcat(pool, input, ".", th_b64url(pool, der, len), NULL), BCL_R_SIGNATURE, BCL_R_MALFORMED);
}
END_TEST

/* ------------------------------------------------------------------ */
/* key selection, embedded keys */

START_TEST(test_unknown_kid)
{
    EXPECT(th_sign_claims(pool, "RS256", th_rsa1, "nope", NULL, claims), BCL_R_UNKNOWN_KID);
    ck_assert_str_eq(v.kid, "nope");
    EXPECT(th_sign_claims(pool, "RS256", th_att_rsa, "attacker-rsa", NULL, claims), BCL_R_UNKNOWN_KID);
    EXPECT(th_sign_claims(pool, "RS256", th_rsa1, "", NULL, claims), BCL_R_UNKNOWN_KID);
    EXPECT(th_sign_claims(pool, "RS256", th_rsa1, "RSA1", NULL, claims), BCL_R_UNKNOWN_KID);
}
END_TEST

START_TEST(test_kid_of_other_key_type)
{
    /* The kid exists but names an EC key; alg is RS256. Never tried. */
    pol.allowed_algs = th_all_algs();
    EXPECT2(th_sign_claims(pool, "RS256", th_rsa1, "ec256", NULL, claims), BCL_R_UNKNOWN_KID, BCL_R_NO_KEY);
    EXPECT2(th_sign_claims(pool, "ES384", th_ec384, "ec256", NULL, claims), BCL_R_UNKNOWN_KID, BCL_R_NO_KEY);
    EXPECT2(th_sign_claims(pool, "EdDSA", th_ed1, "rsa1", NULL, claims), BCL_R_UNKNOWN_KID, BCL_R_NO_KEY);
}
END_TEST

START_TEST(test_kid_selects_only_that_key)
{
    /* Signed by rsa2 but naming rsa1: only rsa1 is tried. */
    EXPECT(th_sign_claims(pool, "RS256", th_rsa2, "rsa1", NULL, claims), BCL_R_SIGNATURE);
    EXPECT(th_sign_claims(pool, "RS256", th_rsa2, "rsa2", NULL, claims), BCL_OK);
}
END_TEST

START_TEST(test_kid_not_a_string)
{
    EXPECT(raw("RS256", th_rsa1, "{\"alg\":\"RS256\",\"kid\":5}"), BCL_R_HEADER);
    EXPECT(raw("RS256", th_rsa1, "{\"alg\":\"RS256\",\"kid\":[\"rsa1\"]}"), BCL_R_HEADER);
}
END_TEST

START_TEST(test_no_kid_tries_each_key)
{
    EXPECT(th_sign_claims(pool, "RS256", th_rsa1, NULL, NULL, claims), BCL_OK);
    EXPECT(th_sign_claims(pool, "RS256", th_rsa2, NULL, NULL, claims), BCL_OK);
    EXPECT(th_sign_claims(pool, "RS256", th_att_rsa, NULL, NULL, claims), BCL_R_SIGNATURE);
}
END_TEST

START_TEST(test_no_key_of_type)
{
    /* Only RSA keys are configured; an ES256 token has no key to check it. */
    const char *err, *jwks = th_jwks(pool, th_rsa1, (th_key_t *)NULL);
    ks = bcl_keyset_create(pool);
    ck_assert_int_eq(bcl_keyset_add_jwks(ks, jwks, strlen(jwks), NULL, &err), 0);
    pol.allowed_algs = th_all_algs();
    EXPECT(th_sign_claims(pool, "ES256", th_ec256, NULL, NULL, claims), BCL_R_NO_KEY);
    EXPECT(th_sign_claims(pool, "EdDSA", th_ed1, NULL, NULL, claims), BCL_R_NO_KEY);
}
END_TEST

static const char *embedded_jwk_header(const char *alg, const th_key_t *att, const char *kid)
{
    return kid ? apr_psprintf(pool, "{\"alg\":\"%s\",\"kid\":\"%s\",\"jwk\":%s}", alg, kid, att->pub_json)
               : apr_psprintf(pool, "{\"alg\":\"%s\",\"jwk\":%s}", alg, att->pub_json);
}

START_TEST(test_embedded_jwk_attacker)
{
    /* The attacker signs with his key and ships it in "jwk": never used. */
    EXPECT(raw("RS256", th_att_rsa, embedded_jwk_header("RS256", th_att_rsa, "attacker-rsa")), BCL_R_UNKNOWN_KID);
    EXPECT(raw("RS256", th_att_rsa, embedded_jwk_header("RS256", th_att_rsa, NULL)), BCL_R_SIGNATURE);
    EXPECT(raw("RS256", th_att_rsa, embedded_jwk_header("RS256", th_att_rsa, "rsa1")), BCL_R_SIGNATURE);
    pol.allowed_algs = th_all_algs();
    EXPECT(raw("ES256", th_att_ec, embedded_jwk_header("ES256", th_att_ec, NULL)), BCL_R_SIGNATURE);
    EXPECT(raw("ES256", th_att_ec, embedded_jwk_header("ES256", th_att_ec, "ec256")), BCL_R_SIGNATURE);
    EXPECT(raw("EdDSA", th_att_ed, embedded_jwk_header("EdDSA", th_att_ed, NULL)), BCL_R_SIGNATURE);
    EXPECT(raw("EdDSA", th_att_ed, embedded_jwk_header("EdDSA", th_att_ed, "attacker-ed")), BCL_R_UNKNOWN_KID);
}
END_TEST

START_TEST(test_embedded_jku_x5u)
{
    static const char *members[] = {"jku", "x5u"};
    size_t i;
    for (i = 0; i < 2; i++) {
        EXPECT(raw("RS256", th_att_rsa,
                   apr_psprintf(pool, "{\"alg\":\"RS256\",\"kid\":\"attacker-rsa\",\"%s\":\"https://attacker.example/keys\"}", members[i])),
               BCL_R_UNKNOWN_KID);
        EXPECT(raw("RS256", th_att_rsa,
                   apr_psprintf(pool, "{\"alg\":\"RS256\",\"%s\":\"https://attacker.example/keys\"}", members[i])),
               BCL_R_SIGNATURE);
        EXPECT(raw("RS256", th_att_rsa,
                   apr_psprintf(pool, "{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"%s\":\"https://op.example.com/realms/main/certs\"}", members[i])),
               BCL_R_SIGNATURE);
    }
}
END_TEST

START_TEST(test_embedded_x5c)
{
    const char *cert = th_x5c_cert(pool, th_att_rsa);
    EXPECT(raw("RS256", th_att_rsa, apr_psprintf(pool, "{\"alg\":\"RS256\",\"x5c\":[\"%s\"]}", cert)),
           BCL_R_SIGNATURE);
    EXPECT(raw("RS256", th_att_rsa, apr_psprintf(pool, "{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"x5c\":[\"%s\"]}", cert)),
           BCL_R_SIGNATURE);
    EXPECT(raw("RS256", th_att_rsa, apr_psprintf(pool, "{\"alg\":\"RS256\",\"kid\":\"attacker-rsa\",\"x5c\":[\"%s\"],\"x5t\":\"AAAA\"}", cert)),
           BCL_R_UNKNOWN_KID);
}
END_TEST

START_TEST(test_embedded_headers_ignored_on_good_token)
{
    /* jwk/jku/x5u/x5c are ignored, not fatal: a token the OP signed with a
     * configured key is still good when it carries them. */
    const char *hdr = apr_psprintf(pool,
        "{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"typ\":\"logout+jwt\",\"jku\":\"https://attacker.example/k\","
        "\"x5u\":\"https://attacker.example/c\",\"jwk\":%s,\"x5c\":[\"%s\"]}",
        th_att_rsa->pub_json, th_x5c_cert(pool, th_att_rsa));
    EXPECT(raw("RS256", th_rsa1, hdr), BCL_OK);
}
END_TEST

/* ------------------------------------------------------------------ */
/* tampering */

START_TEST(test_tampered_payload)
{
    const char *good = rs256();
    const char *forged;
    set_str("sub", "admin");
    forged = th_replace_part(pool, good, 1, th_b64url(pool, th_json(pool, claims), strlen(th_json(pool, claims))));
    EXPECT(forged, BCL_R_SIGNATURE);
    EXPECT(th_flip(pool, good, 1, 3, 0x01), BCL_R_SIGNATURE);
    EXPECT(th_flip(pool, good, 1, -1, 0x20), BCL_R_SIGNATURE);
}
END_TEST

START_TEST(test_tampered_signature)
{
    const char *good;
    int i;
    pol.allowed_algs = th_all_algs();
    for (i = 0; i < N_ALGS; i++) {
        const th_key_t *k = key_for(algs[i].id);
        good = th_sign_claims(pool, algs[i].alg, k, k ? k->kid : NULL, NULL, claims);
        EXPECT(good, BCL_OK);
        EXPECT(th_flip(pool, good, 2, 0, 0x80), BCL_R_SIGNATURE);
        EXPECT(th_flip(pool, good, 2, -1, 0x01), BCL_R_SIGNATURE);
    }
}
END_TEST

START_TEST(test_truncated_and_extended_signature)
{
    const char *good = rs256();
    const char *sig = th_part(pool, good, 2);
    size_t n;
    unsigned char *bin = th_b64url_dec(pool, sig, strlen(sig), &n);
    unsigned char *longer = apr_palloc(pool, n + 1);
    EXPECT2(th_replace_part(pool, good, 2, th_b64url(pool, bin, n - 1)), BCL_R_SIGNATURE, BCL_R_MALFORMED);
    EXPECT2(th_replace_part(pool, good, 2, th_b64url(pool, bin, 1)), BCL_R_SIGNATURE, BCL_R_MALFORMED);
    memcpy(longer, bin, n);
    longer[n] = 0;
    EXPECT2(th_replace_part(pool, good, 2, th_b64url(pool, longer, n + 1)), BCL_R_SIGNATURE, BCL_R_MALFORMED);
    /* EdDSA and ECDSA too. */
    pol.allowed_algs = th_all_algs();
    good = th_sign_claims(pool, "EdDSA", th_ed1, "ed1", NULL, claims);
    sig = th_part(pool, good, 2);
    bin = th_b64url_dec(pool, sig, strlen(sig), &n);
    EXPECT2(th_replace_part(pool, good, 2, th_b64url(pool, bin, n - 1)), BCL_R_SIGNATURE, BCL_R_MALFORMED);
    good = th_sign_claims(pool, "ES256", th_ec256, "ec256", NULL, claims);
    sig = th_part(pool, good, 2);
    bin = th_b64url_dec(pool, sig, strlen(sig), &n);
    EXPECT2(th_replace_part(pool, good, 2, th_b64url(pool, bin, n - 1)), BCL_R_SIGNATURE, BCL_R_MALFORMED);
}
END_TEST

START_TEST(test_empty_signature)
{
    const char *good = rs256();
    EXPECT2(th_replace_part(pool, good, 2, ""), BCL_R_SIGNATURE, BCL_R_MALFORMED);
    pol.allowed_algs = th_all_algs();
    good = th_sign_claims(pool, "HS256", NULL, NULL, NULL, claims);
    EXPECT2(th_replace_part(pool, good, 2, ""), BCL_R_SIGNATURE, BCL_R_MALFORMED);
}
END_TEST

START_TEST(test_signature_of_other_token)
{
    const char *a = rs256(), *b;
    set_str("sub", "someone-else");
    b = rs256();
    EXPECT(th_replace_part(pool, a, 2, th_part(pool, b, 2)), BCL_R_SIGNATURE);
}
END_TEST

START_TEST(test_tampered_header)
{
    /* The header is signed too: adding a member breaks the signature. */
    const char *good = rs256();
    const char *hdr = "{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"typ\":\"logout+jwt\",\"x\":1}";
    EXPECT(th_replace_part(pool, good, 0, th_b64url(pool, hdr, strlen(hdr))), BCL_R_SIGNATURE);
    /* Switching the kid to the other RSA key. */
    hdr = "{\"alg\":\"RS256\",\"kid\":\"rsa2\",\"typ\":\"logout+jwt\"}";
    EXPECT(th_replace_part(pool, good, 0, th_b64url(pool, hdr, strlen(hdr))), BCL_R_SIGNATURE);
}
END_TEST

/* ------------------------------------------------------------------ */
/* compact serialisation */

START_TEST(test_malformed_part_count)
{
    const char *good = rs256();
    const char *h = th_part(pool, good, 0), *p = th_part(pool, good, 1), *s = th_part(pool, good, 2);
    EXPECT(apr_pstrcat(pool, h, ".", p, NULL), BCL_R_MALFORMED);
    EXPECT(h, BCL_R_MALFORMED);
    EXPECT(apr_pstrcat(pool, good, ".", s, NULL), BCL_R_MALFORMED);
    EXPECT(apr_pstrcat(pool, good, ".", NULL), BCL_R_MALFORMED);
    EXPECT(apr_pstrcat(pool, good, ".", s, ".", s, ".", s, NULL), BCL_R_MALFORMED);
    EXPECT(".", BCL_R_MALFORMED);
    EXPECT("..", BCL_R_MALFORMED);
    EXPECT("...", BCL_R_MALFORMED);
    EXPECT("....", BCL_R_MALFORMED);
}
END_TEST

START_TEST(test_malformed_empty)
{
    EXPECT("", BCL_R_MALFORMED);
    ck_assert_reason(bcl_token_validate(pool, "x", 0, ks, &pol, TH_NOW, &v), v, BCL_R_MALFORMED);
}
END_TEST

START_TEST(test_malformed_bad_base64url)
{
    const char *good = rs256();
    const char *h = th_part(pool, good, 0), *p = th_part(pool, good, 1), *s = th_part(pool, good, 2);
    /* A character outside the alphabet in each part. */
    EXPECT(apr_pstrcat(pool, "!", h + 1, ".", p, ".", s, NULL), BCL_R_MALFORMED);
    EXPECT(apr_pstrcat(pool, h, ".", p, "*", ".", s, NULL), BCL_R_MALFORMED);
    EXPECT(apr_pstrcat(pool, h, ".", p, ".", s, "+", NULL), BCL_R_MALFORMED);
    /* Standard-alphabet characters. */
    EXPECT(apr_pstrcat(pool, h, ".", p, ".+/", s + 2, NULL), BCL_R_MALFORMED);
    /* Whitespace inside or around. */
    EXPECT(apr_pstrcat(pool, " ", good, NULL), BCL_R_MALFORMED);
    EXPECT(apr_pstrcat(pool, good, "\n", NULL), BCL_R_MALFORMED);
    EXPECT(apr_pstrcat(pool, good, " ", NULL), BCL_R_MALFORMED);
    EXPECT(apr_pstrcat(pool, h, ". ", p, ".", s, NULL), BCL_R_MALFORMED);
    /* A length of 1 mod 4. */
    {
        static const char *fill[] = {"A", "", "AAA", "AA"};
        ck_assert_int_ne(strlen(p) % 4, 1);
        EXPECT(apr_pstrcat(pool, h, ".", p, fill[strlen(p) % 4], ".", s, NULL), BCL_R_MALFORMED);
    }
}
END_TEST

START_TEST(test_malformed_padding)
{
    /* Make parts whose encodings would need padding, then pad them. */
    const char *hdr = "{\"alg\":\"RS256\",\"kid\":\"rsa1\"}";    /* 28 bytes: 1 pad */
    const char *good = raw("RS256", th_rsa1, hdr);
    const char *h = th_part(pool, good, 0), *p = th_part(pool, good, 1), *s = th_part(pool, good, 2);
    EXPECT(good, BCL_OK);
    ck_assert_int_ne(strlen(h) % 4, 0);
    EXPECT(apr_pstrcat(pool, h, strlen(h) % 4 == 2 ? "==" : "=", ".", p, ".", s, NULL), BCL_R_MALFORMED);
    ck_assert_int_ne(strlen(s) % 4, 0); /* 256 bytes: 2 pads */
    EXPECT(apr_pstrcat(pool, h, ".", p, ".", s, strlen(s) % 4 == 2 ? "==" : "=", NULL), BCL_R_MALFORMED);
    if (strlen(p) % 4 != 0)
        EXPECT(apr_pstrcat(pool, h, ".", p, strlen(p) % 4 == 2 ? "==" : "=", ".", s, NULL), BCL_R_MALFORMED);
}
END_TEST

START_TEST(test_malformed_non_canonical_base64url)
{
    /* Non-zero spare bits: a second encoding of the same signature. */
    const char *good = rs256();
    char *s = th_part(pool, good, 2);
    size_t n = strlen(s);
    ck_assert_int_eq(n % 4, 2);  /* 256 bytes -> 342 characters, 4 spare bits */
    s[n - 1] = (char)(s[n - 1] == 'A' ? 'B' : s[n - 1] == 'Q' ? 'R' : s[n - 1] == 'g' ? 'h' : 'x');
    EXPECT2(th_replace_part(pool, good, 2, s), BCL_R_MALFORMED, BCL_R_SIGNATURE);
}
END_TEST

START_TEST(test_malformed_embedded_nul)
{
    const char *good = rs256();
    size_t n = strlen(good);
    char *buf = apr_pmemdup(pool, good, n + 1);
    buf[10] = '\0';
    ck_assert_reason(bcl_token_validate(pool, buf, n, ks, &pol, TH_NOW, &v), v, BCL_R_MALFORMED);
    buf = apr_pmemdup(pool, good, n + 1);
    buf[n - 3] = '\0';
    ck_assert_reason(bcl_token_validate(pool, buf, n, ks, &pol, TH_NOW, &v), v, BCL_R_MALFORMED);
}
END_TEST

START_TEST(test_length_is_authoritative)
{
    /* The token need not be NUL-terminated: only len bytes count. */
    const char *good = rs256();
    size_t n = strlen(good);
    char *buf = apr_palloc(pool, n + 16);
    memcpy(buf, good, n);
    memcpy(buf + n, ".AAAA.BBBB!!!!\0", 15);
    ck_assert_reason(bcl_token_validate(pool, buf, n, ks, &pol, TH_NOW, &v), v, BCL_OK);
    ck_assert_reason(bcl_token_validate(pool, buf, n + 5, ks, &pol, TH_NOW, &v), v, BCL_R_MALFORMED);
    /* One byte short. */
    ck_assert_reason2(bcl_token_validate(pool, buf, n - 1, ks, &pol, TH_NOW, &v), v, BCL_R_SIGNATURE,
                      BCL_R_MALFORMED);
    ck_assert_int_ne(v.reason, BCL_OK);
}
END_TEST

START_TEST(test_header_not_json)
{
    EXPECT(th_compact(pool, "not json", th_json(pool, claims), "c2ln"), BCL_R_HEADER);
    EXPECT(raw("RS256", th_rsa1, "{\"alg\":\"RS256\",\"kid\":\"rsa1\""), BCL_R_HEADER);
    EXPECT(raw("RS256", th_rsa1, "{\"alg\":\"RS256\",\"kid\":\"rsa1\"} x"), BCL_R_HEADER);
    EXPECT(raw("RS256", th_rsa1, "{'alg':'RS256'}"), BCL_R_HEADER);
    EXPECT(th_compact(pool, "\xff\xfe{}", th_json(pool, claims), "c2ln"), BCL_R_HEADER);
    /* An empty header part. */
    EXPECT2(apr_pstrcat(pool, ".", th_part(pool, rs256(), 1), ".", th_part(pool, rs256(), 2), NULL),
            BCL_R_MALFORMED, BCL_R_HEADER);
}
END_TEST

START_TEST(test_header_not_object)
{
    EXPECT(raw("RS256", th_rsa1, "[{\"alg\":\"RS256\",\"kid\":\"rsa1\"}]"), BCL_R_HEADER);
    EXPECT(raw("RS256", th_rsa1, "[]"), BCL_R_HEADER);
    EXPECT(raw("RS256", th_rsa1, "\"RS256\""), BCL_R_HEADER);
    EXPECT(raw("RS256", th_rsa1, "null"), BCL_R_HEADER);
    EXPECT(raw("RS256", th_rsa1, "42"), BCL_R_HEADER);
}
END_TEST

START_TEST(test_header_duplicate_members)
{
    pol.allowed_algs = th_all_algs();
    EXPECT(raw("RS256", th_rsa1, "{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"alg\":\"RS256\"}"), BCL_R_HEADER);
    EXPECT(raw("RS256", th_rsa1, "{\"alg\":\"none\",\"alg\":\"RS256\",\"kid\":\"rsa1\"}"), BCL_R_HEADER);
    EXPECT(raw("RS256", th_rsa1, "{\"alg\":\"RS256\",\"alg\":\"none\",\"kid\":\"rsa1\"}"), BCL_R_HEADER);
    EXPECT(raw("RS256", th_rsa1, "{\"alg\":\"RS256\",\"kid\":\"rsa2\",\"kid\":\"rsa1\"}"), BCL_R_HEADER);
    EXPECT(raw("RS256", th_rsa1, "{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"typ\":\"JWT\",\"typ\":\"at+jwt\"}"), BCL_R_HEADER);
}
END_TEST

START_TEST(test_payload_duplicate_members)
{
    const char *payload = th_json(pool, claims);
    const char *hdr = "{\"alg\":\"RS256\",\"kid\":\"rsa1\"}";
    /* Append a second iss (and others) just before the final brace. */
    static const char *extras[] = {
        ",\"iss\":\"https://evil.example\"", ",\"aud\":\"other\"", ",\"sub\":\"admin\"",
        ",\"sid\":\"x\"", ",\"jti\":\"again\"", ",\"exp\":9999999999",
        ",\"events\":{}",
    };
    size_t i, n = strlen(payload);
    for (i = 0; i < sizeof(extras) / sizeof(extras[0]); i++) {
        const char *dup = apr_pstrcat(pool, apr_pstrmemdup(pool, payload, n - 1), extras[i], "}", NULL);
        EXPECT(th_sign_raw(pool, "RS256", th_rsa1, NULL, 0, hdr, dup), BCL_R_PAYLOAD);
    }
    /* Also inside a nested object. */
    set_raw("events", "{\"" BCL_LOGOUT_EVENT "\":{}}");
    payload = th_json(pool, claims);
    {
        const char *dup = apr_pstrcat(pool, apr_pstrmemdup(pool, payload, strlen(payload) - 1),
                                      ",\"x\":{\"a\":1,\"a\":2}}", NULL);
        EXPECT(th_sign_raw(pool, "RS256", th_rsa1, NULL, 0, hdr, dup), BCL_R_PAYLOAD);
    }
}
END_TEST

START_TEST(test_payload_not_json_object)
{
    const char *hdr = "{\"alg\":\"RS256\",\"kid\":\"rsa1\"}";
    static const char *bad[] = {"", "not json", "[]", "[{\"iss\":\"x\"}]", "null", "\"claims\"", "42",
                                "{\"iss\":", "{} {}"};
    size_t i;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        EXPECT(th_sign_raw(pool, "RS256", th_rsa1, NULL, 0, hdr, bad[i]), BCL_R_PAYLOAD);
}
END_TEST

/* ------------------------------------------------------------------ */
/* typ and crit */

static const char *typ_ok[] = {
    "logout+jwt", "application/logout+jwt", "JWT", "Application/LOGOUT+JWT", "application/jwt",
    "jwt", "LOGOUT+JWT", "APPLICATION/JWT",
};
static const char *typ_bad[] = {
    "at+jwt", "id_token", "", "application/", "logout+jwt ", " JWT", "application/at+jwt", "JOSE",
    "JOSE+JSON", "secevent+jwt", "applicationlogout+jwt", "application/application/jwt",
    "logout", "jwt+logout", "text/jwt", "application/logout+jwt;x=1", "logout+jwt\n",
};

START_TEST(test_typ_accepted)
{
    EXPECT(th_sign_claims(pool, "RS256", th_rsa1, "rsa1", typ_ok[_i], claims), BCL_OK);
}
END_TEST

START_TEST(test_typ_absent)
{
    EXPECT(th_sign_claims(pool, "RS256", th_rsa1, "rsa1", NULL, claims), BCL_OK);
}
END_TEST

START_TEST(test_typ_refused)
{
    EXPECT(th_sign_claims(pool, "RS256", th_rsa1, "rsa1", typ_bad[_i], claims), BCL_R_TYP);
}
END_TEST

START_TEST(test_typ_not_a_string)
{
    EXPECT(raw("RS256", th_rsa1, "{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"typ\":1}"), BCL_R_TYP);
    EXPECT(raw("RS256", th_rsa1, "{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"typ\":null}"), BCL_R_TYP);
    EXPECT(raw("RS256", th_rsa1, "{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"typ\":[\"JWT\"]}"), BCL_R_TYP);
    EXPECT(raw("RS256", th_rsa1, "{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"typ\":true}"), BCL_R_TYP);
}
END_TEST

START_TEST(test_typ_with_nul)
{
    /* "logout+jwt\u0000evil": JSON that a C string would cut short. */
    EXPECT2(raw("RS256", th_rsa1, "{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"typ\":\"logout+jwt\\u0000evil\"}"),
            BCL_R_HEADER, BCL_R_TYP);
}
END_TEST

START_TEST(test_crit)
{
    EXPECT(raw("RS256", th_rsa1, "{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"crit\":[\"exp\"],\"exp\":1}"), BCL_R_CRIT);
    EXPECT(raw("RS256", th_rsa1, "{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"crit\":[\"b64\"],\"b64\":false}"), BCL_R_CRIT);
    EXPECT(raw("RS256", th_rsa1, "{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"crit\":[\"http://example.com/x\"],\"http://example.com/x\":true}"), BCL_R_CRIT);
    /* Malformed crit (RFC 7515 4.1.11: a non-empty array of names). */
    EXPECT2(raw("RS256", th_rsa1, "{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"crit\":[]}"), BCL_R_CRIT, BCL_R_HEADER);
    EXPECT2(raw("RS256", th_rsa1, "{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"crit\":\"exp\"}"), BCL_R_CRIT, BCL_R_HEADER);
    EXPECT2(raw("RS256", th_rsa1, "{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"crit\":[1]}"), BCL_R_CRIT, BCL_R_HEADER);
    EXPECT2(raw("RS256", th_rsa1, "{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"crit\":null}"), BCL_R_CRIT, BCL_R_HEADER);
}
END_TEST

/* ------------------------------------------------------------------ */
/* claims */

START_TEST(test_valid_token)
{
    EXPECT(rs256(), BCL_OK);
}
END_TEST

START_TEST(test_iss_mismatch)
{
    set_str("iss", "https://evil.example.com/realms/main");
    EXPECT(rs256(), BCL_R_ISS);
    set_str("iss", TH_ISSUER "/");
    EXPECT(rs256(), BCL_R_ISS);
    set_str("iss", "HTTPS://OP.EXAMPLE.COM/realms/main");
    EXPECT(rs256(), BCL_R_ISS);
    set_str("iss", "https://op.example.com/realms/mai");
    EXPECT(rs256(), BCL_R_ISS);
    set_str("iss", "");
    EXPECT(rs256(), BCL_R_ISS);
}
END_TEST

START_TEST(test_iss_missing)
{
    del("iss");
    EXPECT(rs256(), BCL_R_ISS);
}
END_TEST

START_TEST(test_iss_not_string)
{
    set_int("iss", 1);
    EXPECT(rs256(), BCL_R_ISS);
    set_raw("iss", "[\"" TH_ISSUER "\"]");
    EXPECT(rs256(), BCL_R_ISS);
    set_raw("iss", "null");
    EXPECT(rs256(), BCL_R_ISS);
}
END_TEST

START_TEST(test_aud_string_match)
{
    set_str("aud", TH_CLIENT);
    EXPECT(rs256(), BCL_OK);
}
END_TEST

START_TEST(test_aud_array_match)
{
    set_raw("aud", "[\"" TH_CLIENT "\"]");
    EXPECT(rs256(), BCL_OK);
}
END_TEST

START_TEST(test_aud_no_match)
{
    set_str("aud", "other");
    EXPECT(rs256(), BCL_R_AUD);
    set_str("aud", "Portal");
    EXPECT(rs256(), BCL_R_AUD);
    set_str("aud", TH_CLIENT " ");
    EXPECT(rs256(), BCL_R_AUD);
    set_str("aud", "");
    EXPECT(rs256(), BCL_R_AUD);
    set_raw("aud", "[\"a\",\"b\"]");
    EXPECT(rs256(), BCL_R_AUD);
    set_raw("aud", "[\"other\"]");
    EXPECT(rs256(), BCL_R_AUD);
}
END_TEST

START_TEST(test_aud_missing_or_bad_type)
{
    del("aud");
    EXPECT(rs256(), BCL_R_AUD);
    set_int("aud", 7);
    EXPECT(rs256(), BCL_R_AUD);
    set_raw("aud", "[]");
    EXPECT(rs256(), BCL_R_AUD);
    set_raw("aud", "null");
    EXPECT(rs256(), BCL_R_AUD);
    set_raw("aud", "{\"" TH_CLIENT "\":true}");
    EXPECT(rs256(), BCL_R_AUD);
    set_raw("aud", "[\"" TH_CLIENT "\",5]");
    EXPECT2(rs256(), BCL_R_AUD, BCL_R_AZP);
}
END_TEST

START_TEST(test_aud_several_without_azp)
{
    set_raw("aud", "[\"" TH_CLIENT "\",\"other\"]");
    EXPECT(rs256(), BCL_R_AZP);
}
END_TEST

START_TEST(test_aud_several_with_azp)
{
    set_raw("aud", "[\"other\",\"" TH_CLIENT "\"]");
    set_str("azp", TH_CLIENT);
    EXPECT(rs256(), BCL_OK);
}
END_TEST

START_TEST(test_azp_other)
{
    set_raw("aud", "[\"" TH_CLIENT "\",\"other\"]");
    set_str("azp", "other");
    EXPECT(rs256(), BCL_R_AZP);
    set_int("azp", 1);
    EXPECT(rs256(), BCL_R_AZP);
}
END_TEST

START_TEST(test_azp_with_single_aud)
{
    /* azp, when present, names the client (OpenID Connect Core 3.1.3.7). */
    set_str("azp", TH_CLIENT);
    EXPECT(rs256(), BCL_OK);
    set_str("azp", "other");
    EXPECT(rs256(), BCL_R_AZP);
}
END_TEST

START_TEST(test_several_client_ids)
{
    apr_array_header_t *ids = apr_array_make(pool, 2, sizeof(const char *));
    APR_ARRAY_PUSH(ids, const char *) = TH_CLIENT;
    APR_ARRAY_PUSH(ids, const char *) = "admin";
    pol.client_ids = ids;
    set_str("aud", "admin");
    EXPECT(rs256(), BCL_OK);
    /* azp names one of our client ids: fine. */
    set_raw("aud", "[\"" TH_CLIENT "\",\"admin\"]");
    set_str("azp", "admin");
    EXPECT(rs256(), BCL_OK);
    set_str("azp", "third");
    EXPECT(rs256(), BCL_R_AZP);
    set_raw("aud", "[\"third\",\"fourth\"]");
    set_str("azp", "admin");
    EXPECT(rs256(), BCL_R_AUD);
}
END_TEST

START_TEST(test_iat_missing)
{
    del("iat");
    EXPECT(rs256(), BCL_R_IAT);
}
END_TEST

START_TEST(test_iat_future_beyond_skew)
{
    set_int("iat", TH_NOW + 61);
    EXPECT(rs256(), BCL_R_IAT);
    set_int("iat", TH_NOW + 3600);
    EXPECT(rs256(), BCL_R_IAT);
    pol.clock_skew = 0;
    set_int("iat", TH_NOW + 1);
    EXPECT(rs256(), BCL_R_IAT);
}
END_TEST

START_TEST(test_iat_future_within_skew)
{
    set_int("iat", TH_NOW + 59);
    EXPECT(rs256(), BCL_OK);
    set_int("iat", TH_NOW + 60);
    EXPECT(rs256(), BCL_OK);
    set_int("iat", TH_NOW);
    EXPECT(rs256(), BCL_OK);
}
END_TEST

START_TEST(test_iat_not_number)
{
    set_str("iat", "1700000000");
    EXPECT(rs256(), BCL_R_IAT);
    set_raw("iat", "null");
    EXPECT(rs256(), BCL_R_IAT);
    set_raw("iat", "true");
    EXPECT(rs256(), BCL_R_IAT);
    set_raw("iat", "[1700000000]");
    EXPECT(rs256(), BCL_R_IAT);
}
END_TEST

START_TEST(test_iat_fractional)
{
    /* NumericDate may be non-integer (RFC 7519 2). */
    json_object_set_new(claims, "iat", json_real((double)TH_NOW - 5.5));
    EXPECT(rs256(), BCL_OK);
}
END_TEST

START_TEST(test_iat_out_of_range)
{
    /* Far beyond what a long long holds: must be refused as in the future,
     * not wrap around (a double -> long long conversion out of range is UB). */
    json_object_set_new(claims, "iat", json_real(1e20));
    EXPECT(rs256(), BCL_R_IAT);
    json_object_set_new(claims, "iat", json_real(1e300));
    EXPECT(rs256(), BCL_R_IAT);
    set_int("iat", LLONG_MAX);
    EXPECT(rs256(), BCL_R_IAT);
}
END_TEST

START_TEST(test_iat_very_negative)
{
    /* An absurd iat must not overflow arithmetic (UBSan checks). */
    set_int("iat", LLONG_MIN);
    del("exp");
    pol.require_exp = 0;
    EXPECT2(rs256(), BCL_R_EXP, BCL_R_IAT);
    json_object_set_new(claims, "iat", json_real(-1e300));
    EXPECT2(rs256(), BCL_R_EXP, BCL_R_IAT);
}
END_TEST

START_TEST(test_exp_past_beyond_skew)
{
    set_int("exp", TH_NOW - 61);
    EXPECT(rs256(), BCL_R_EXP);
    set_int("exp", TH_NOW - 86400);
    EXPECT(rs256(), BCL_R_EXP);
    set_int("exp", 0);
    EXPECT(rs256(), BCL_R_EXP);
    pol.clock_skew = 0;
    set_int("exp", TH_NOW - 1);
    EXPECT(rs256(), BCL_R_EXP);
}
END_TEST

START_TEST(test_exp_past_within_skew)
{
    set_int("exp", TH_NOW - 59);
    EXPECT(rs256(), BCL_OK);
    set_int("exp", TH_NOW - 60);
    EXPECT(rs256(), BCL_OK);
    set_int("exp", TH_NOW);
    EXPECT(rs256(), BCL_OK);
}
END_TEST

START_TEST(test_exp_not_number)
{
    set_str("exp", "1700000115");
    EXPECT(rs256(), BCL_R_EXP);
    set_raw("exp", "null");
    EXPECT(rs256(), BCL_R_EXP);
    set_raw("exp", "{}");
    EXPECT(rs256(), BCL_R_EXP);
}
END_TEST

START_TEST(test_exp_out_of_range)
{
    json_object_set_new(claims, "exp", json_real(-1e300));
    EXPECT(rs256(), BCL_R_EXP);
    set_int("exp", LLONG_MIN);
    EXPECT(rs256(), BCL_R_EXP);
    /* Far future is not an error in itself (no rule bounds exp). */
    set_int("exp", TH_NOW + 10LL * 365 * 86400);
    EXPECT(rs256(), BCL_OK);
}
END_TEST

START_TEST(test_exp_missing_required)
{
    del("exp");
    ck_assert_int_eq(pol.require_exp, 1);
    EXPECT(rs256(), BCL_R_EXP);
}
END_TEST

START_TEST(test_exp_missing_not_required_fresh)
{
    del("exp");
    pol.require_exp = 0;
    set_int("iat", TH_NOW - 10);
    EXPECT(rs256(), BCL_OK);
    ck_assert_int_eq(v.exp, 0);
    /* The boundary: 120 s plus the skew. */
    set_int("iat", TH_NOW - BCL_NO_EXP_MAX_AGE - 60);
    EXPECT(rs256(), BCL_OK);
}
END_TEST

START_TEST(test_exp_missing_not_required_old)
{
    /* bcl_token.c reports a stale exp-less token as BCL_R_EXP. */
    del("exp");
    pol.require_exp = 0;
    set_int("iat", TH_NOW - BCL_NO_EXP_MAX_AGE - 61);
    EXPECT(rs256(), BCL_R_EXP);
    set_int("iat", TH_NOW - 86400);
    EXPECT(rs256(), BCL_R_EXP);
}
END_TEST

START_TEST(test_exp_present_checked_even_if_not_required)
{
    pol.require_exp = 0;
    set_int("exp", TH_NOW - 61);
    EXPECT(rs256(), BCL_R_EXP);
}
END_TEST

START_TEST(test_jti_missing_or_empty)
{
    del("jti");
    EXPECT(rs256(), BCL_R_JTI);
    set_str("jti", "");
    EXPECT(rs256(), BCL_R_JTI);
    set_int("jti", 12345);
    EXPECT(rs256(), BCL_R_JTI);
    set_raw("jti", "null");
    EXPECT(rs256(), BCL_R_JTI);
}
END_TEST

START_TEST(test_sub_only)
{
    del("sid");
    EXPECT(rs256(), BCL_OK);
    ck_assert_ptr_null(v.sid);
    ck_assert_str_eq(v.sub, "248289761001");
}
END_TEST

START_TEST(test_sid_only)
{
    del("sub");
    EXPECT(rs256(), BCL_OK);
    ck_assert_ptr_null(v.sub);
    ck_assert_str_eq(v.sid, "08a5019c-17e1-4977-8f42-65a12843ea02");
}
END_TEST

START_TEST(test_neither_sub_nor_sid)
{
    del("sub");
    del("sid");
    EXPECT(rs256(), BCL_R_SUB_SID);
}
END_TEST

START_TEST(test_sub_sid_bad_types)
{
    del("sid");
    set_int("sub", 5);
    EXPECT(rs256(), BCL_R_SUB_SID);
    set_str("sub", "");
    EXPECT(rs256(), BCL_R_SUB_SID);
    del("sub");
    set_raw("sid", "{}");
    EXPECT(rs256(), BCL_R_SUB_SID);
}
END_TEST

START_TEST(test_require_sid_without_sid)
{
    pol.require_sid = 1;
    del("sid");
    EXPECT(rs256(), BCL_R_SID_REQUIRED);
}
END_TEST

START_TEST(test_require_sid_with_sid)
{
    pol.require_sid = 1;
    EXPECT(rs256(), BCL_OK);
    del("sub");
    EXPECT(rs256(), BCL_OK);
}
END_TEST

START_TEST(test_events_missing)
{
    del("events");
    EXPECT(rs256(), BCL_R_EVENTS);
}
END_TEST

START_TEST(test_events_not_object)
{
    set_raw("events", "[\"" BCL_LOGOUT_EVENT "\"]");
    EXPECT(rs256(), BCL_R_EVENTS);
    set_str("events", BCL_LOGOUT_EVENT);
    EXPECT(rs256(), BCL_R_EVENTS);
    set_raw("events", "null");
    EXPECT(rs256(), BCL_R_EVENTS);
    set_raw("events", "true");
    EXPECT(rs256(), BCL_R_EVENTS);
}
END_TEST

START_TEST(test_events_member_missing)
{
    set_raw("events", "{}");
    EXPECT(rs256(), BCL_R_EVENTS);
    set_raw("events", "{\"http://schemas.openid.net/event/backchannel-logout/\":{}}");
    EXPECT(rs256(), BCL_R_EVENTS);
    set_raw("events", "{\"https://schemas.openid.net/event/backchannel-logout\":{}}");
    EXPECT(rs256(), BCL_R_EVENTS);
    set_raw("events", "{\"https://schemas.openid.net/secevent/risc/event-type/sessions-revoked\":{}}");
    EXPECT(rs256(), BCL_R_EVENTS);
}
END_TEST

START_TEST(test_events_member_not_object)
{
    static const char *vals[] = {"true", "\"\"", "[]", "null", "1", "\"{}\""};
    size_t i;
    for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
        set_raw("events", apr_psprintf(pool, "{\"" BCL_LOGOUT_EVENT "\":%s}", vals[i]));
        EXPECT(rs256(), BCL_R_EVENTS);
    }
}
END_TEST

START_TEST(test_events_extra_members_ok)
{
    set_raw("events", "{\"" BCL_LOGOUT_EVENT "\":{\"reason\":\"admin\"},"
                      "\"https://example.com/other-event\":{}}");
    EXPECT(rs256(), BCL_OK);
}
END_TEST

START_TEST(test_nonce)
{
    set_str("nonce", "n-0S6_WzA2Mj");
    EXPECT(rs256(), BCL_R_NONCE);
    set_str("nonce", "");
    EXPECT(rs256(), BCL_R_NONCE);
    set_raw("nonce", "null");
    EXPECT(rs256(), BCL_R_NONCE);
}
END_TEST

START_TEST(test_unknown_claims_ignored)
{
    set_str("azp_hint", "x");
    set_raw("amr", "[\"pwd\"]");
    set_raw("extra", "{\"deep\":[1,2,{\"x\":null}]}");
    EXPECT(rs256(), BCL_OK);
}
END_TEST

START_TEST(test_unicode_claims)
{
    set_str("sub", "\xc3\xa9l\xc3\xa8ve-\xe2\x9c\x93");
    EXPECT(rs256(), BCL_OK);
    ck_assert_str_eq(v.sub, "\xc3\xa9l\xc3\xa8ve-\xe2\x9c\x93");
}
END_TEST

START_TEST(test_require_encryption_plain_jws)
{
    pol.require_encryption = 1;
    EXPECT(rs256(), BCL_R_ENCRYPTION_REQUIRED);
}
END_TEST

/* ------------------------------------------------------------------ */
/* the verdict */

START_TEST(test_verdict_filled_on_success)
{
    EXPECT(rs256(), BCL_OK);
    ck_assert_ptr_null(v.detail);
    ck_assert_str_eq(v.alg, "RS256");
    ck_assert_str_eq(v.kid, "rsa1");
    ck_assert_str_eq(v.iss, TH_ISSUER);
    ck_assert_str_eq(v.sub, "248289761001");
    ck_assert_str_eq(v.sid, "08a5019c-17e1-4977-8f42-65a12843ea02");
    ck_assert_str_eq(v.jti, json_string_value(json_object_get(claims, "jti")));
    ck_assert_int_eq(v.iat, TH_NOW - 5);
    ck_assert_int_eq(v.exp, TH_NOW + 115);
    ck_assert_int_eq(v.encrypted, 0);
}
END_TEST

START_TEST(test_verdict_filled_on_claim_failure)
{
    /* What was read is there for the log even when a claim fails. */
    set_str("aud", "other");
    EXPECT(rs256(), BCL_R_AUD);
    ck_assert_ptr_nonnull(v.detail);
    ck_assert_str_eq(v.alg, "RS256");
    ck_assert_str_eq(v.kid, "rsa1");
    ck_assert_str_eq(v.iss, TH_ISSUER);
    ck_assert_str_eq(v.jti, json_string_value(json_object_get(claims, "jti")));
}
END_TEST

START_TEST(test_verdict_detail_on_every_failure)
{
    EXPECT(th_sign_claims(pool, "RS256", th_rsa1, "nope", NULL, claims), BCL_R_UNKNOWN_KID);
    ck_assert_ptr_nonnull(v.detail);
    ck_assert_uint_gt(strlen(v.detail), 0);
    EXPECT("x.y", BCL_R_MALFORMED);
    ck_assert_ptr_nonnull(v.detail);
}
END_TEST

START_TEST(test_verdict_reset_between_calls)
{
    /* The verdict does not keep values from an earlier call. */
    EXPECT(rs256(), BCL_OK);
    EXPECT("a.b", BCL_R_MALFORMED);
    ck_assert_ptr_null(v.iss);
    ck_assert_ptr_null(v.jti);
    ck_assert_int_eq(v.iat, 0);
}
END_TEST

START_TEST(test_verdict_detail_has_no_secret)
{
    /* A failed HMAC check never reveals the secret or the expected MAC. */
    const char *tok;
    pol.allowed_algs = BCL_ALG_BIT(BCL_ALG_HS256);
    tok = th_sign_raw(pool, "HS256", NULL, "wrong", 5, "{\"alg\":\"HS256\"}", th_json(pool, claims));
    EXPECT(tok, BCL_R_SIGNATURE);
    ck_assert_ptr_nonnull(v.detail);
    ck_assert_ptr_null(strstr(v.detail, TH_SECRET));
    ck_assert_ptr_null(strstr(v.detail, th_part(pool, th_sign_claims(pool, "HS256", NULL, NULL, NULL, claims), 2)));
}
END_TEST

START_TEST(test_verdict_detail_clips_attacker_strings)
{
    /* A huge kid is not copied whole into the message. */
    char *kid = apr_palloc(pool, 5001);
    memset(kid, 'k', 5000);
    kid[5000] = '\0';
    EXPECT(th_sign_claims(pool, "RS256", th_rsa1, kid, NULL, claims), BCL_R_UNKNOWN_KID);
    ck_assert_ptr_nonnull(v.detail);
    ck_assert_uint_lt(strlen(v.detail), 1000);
}
END_TEST

START_TEST(test_nothing_retained)
{
    /* Validating in a subpool that is then destroyed leaves nothing behind
     * (valgrind and LeakSanitizer runs check this). */
    int i;
    for (i = 0; i < 20; i++) {
        apr_pool_t *sub;
        bcl_verdict_t vv;
        const char *tok;
        ck_assert_int_eq(apr_pool_create(&sub, pool), APR_SUCCESS);
        tok = i % 2 ? rs256() : "x.y.z";
        bcl_token_validate(sub, tok, strlen(tok), ks, &pol, TH_NOW, &vv);
        apr_pool_destroy(sub);
    }
}
END_TEST

/* ------------------------------------------------------------------ */
/* small tables: algorithms, reasons */

START_TEST(test_alg_names)
{
    int i;
    for (i = 0; i < N_ALGS; i++) {
        ck_assert_int_eq(bcl_alg_from_name(algs[i].alg), (int)algs[i].id);
        ck_assert_str_eq(bcl_alg_name(algs[i].id), algs[i].alg);
        ck_assert_int_ne(bcl_alg_key_type(algs[i].id), BCL_KTY_NONE);
    }
    ck_assert_int_eq(bcl_alg_from_name("none"), -1);
    ck_assert_int_eq(bcl_alg_from_name("rs256"), -1);
    ck_assert_int_eq(bcl_alg_from_name(""), -1);
    ck_assert_int_eq(bcl_alg_from_name(NULL), -1);
    ck_assert_int_eq(bcl_alg_key_type(BCL_ALG_HS256), BCL_KTY_OCT);
    ck_assert_int_eq(bcl_alg_key_type(BCL_ALG_PS384), BCL_KTY_RSA);
    ck_assert_int_eq(bcl_alg_key_type(BCL_ALG_ES512), BCL_KTY_EC_P521);
    ck_assert_int_eq(bcl_alg_key_type(BCL_ALG_EDDSA), BCL_KTY_OKP_ED25519);
    ck_assert_int_eq(bcl_jwe_alg_from_name("RSA-OAEP"), BCL_JWE_ALG_RSA_OAEP);
    ck_assert_int_eq(bcl_jwe_alg_from_name("RSA-OAEP-256"), BCL_JWE_ALG_RSA_OAEP_256);
    ck_assert_int_eq(bcl_jwe_alg_from_name("RSA1_5"), -1);
    ck_assert_int_eq(bcl_jwe_alg_from_name("dir"), -1);
    ck_assert_int_eq(bcl_jwe_alg_from_name(NULL), -1);
    ck_assert_int_eq(bcl_jwe_enc_from_name("A128GCM"), BCL_JWE_ENC_A128GCM);
    ck_assert_int_eq(bcl_jwe_enc_from_name("A256CBC-HS512"), BCL_JWE_ENC_A256CBC_HS512);
    ck_assert_int_eq(bcl_jwe_enc_from_name("A128CBC"), -1);
    ck_assert_int_eq(bcl_jwe_enc_from_name(NULL), -1);
}
END_TEST

START_TEST(test_reason_codes)
{
    int i, j;
    ck_assert_str_eq(bcl_reason_code(BCL_R_AUD), "aud");
    ck_assert_str_eq(bcl_reason_code(BCL_R_SIGNATURE), "signature");
    for (i = 0; i < BCL_R_COUNT; i++) {
        const char *c = bcl_reason_code((bcl_reason_t)i);
        ck_assert_msg(c != NULL && *c != '\0', "reason %d has no code", i);
        ck_assert_msg(bcl_reason_text((bcl_reason_t)i) != NULL && *bcl_reason_text((bcl_reason_t)i),
                      "reason %d has no text", i);
        /* Codes are stable identifiers: lower case, no spaces. */
        for (j = 0; c[j]; j++)
            ck_assert_msg((c[j] >= 'a' && c[j] <= 'z') || c[j] == '_', "code %s", c);
        for (j = 0; j < i; j++)
            ck_assert_msg(strcmp(c, bcl_reason_code((bcl_reason_t)j)) != 0, "code %s twice", c);
    }
    ck_assert_ptr_nonnull(bcl_reason_code(BCL_R_COUNT));
    ck_assert_ptr_nonnull(bcl_reason_code((bcl_reason_t)-1));
}
END_TEST

Suite *token_suite(void)
{
    Suite *s = suite_create("token");
    TCase *alg = tcase_create("alg");
    TCase *keys = tcase_create("keys");
    TCase *tamper = tcase_create("tamper");
    TCase *compact = tcase_create("compact");
    TCase *hdr = tcase_create("typ_crit");
    TCase *cl = tcase_create("claims");
    TCase *verdict = tcase_create("verdict");
    TCase *tables = tcase_create("tables");
    TCase *all[] = {alg, keys, tamper, compact, hdr, cl, verdict, tables};
    size_t i;

    for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        tcase_add_checked_fixture(all[i], setup, teardown);
        tcase_set_timeout(all[i], 60);
    }

    tcase_add_loop_test(alg, test_valid_alg, 0, N_ALGS);
    tcase_add_loop_test(alg, test_valid_alg_all_allowed, 0, N_ALGS);
    tcase_add_loop_test(alg, test_valid_alg_openssl_signed, 0, N_ALGS);
    tcase_add_loop_test(alg, test_valid_alg_no_kid, 0, N_ALGS);
    tcase_add_loop_test(alg, test_wrong_key_each_alg, 0, N_ALGS);
    tcase_add_loop_test(alg, test_signature_of_the_wrong_length_each_alg, 0, N_ALGS);
    tcase_add_test(alg, test_alg_none);
    tcase_add_test(alg, test_alg_missing);
    tcase_add_test(alg, test_alg_not_a_string);
    tcase_add_test(alg, test_alg_unknown);
    tcase_add_test(alg, test_alg_not_allowed);
    tcase_add_test(alg, test_alg_confusion_hmac_with_public_key);
    tcase_add_test(alg, test_alg_confusion_no_client_secret);
    tcase_add_test(alg, test_alg_confusion_ps_header_rs_signature);
    tcase_add_test(alg, test_alg_ecdsa_der_signature_refused);
    suite_add_tcase(s, alg);

    tcase_add_test(keys, test_unknown_kid);
    tcase_add_test(keys, test_kid_of_other_key_type);
    tcase_add_test(keys, test_kid_selects_only_that_key);
    tcase_add_test(keys, test_kid_not_a_string);
    tcase_add_test(keys, test_no_kid_tries_each_key);
    tcase_add_test(keys, test_no_key_of_type);
    tcase_add_test(keys, test_embedded_jwk_attacker);
    tcase_add_test(keys, test_embedded_jku_x5u);
    tcase_add_test(keys, test_embedded_x5c);
    tcase_add_test(keys, test_embedded_headers_ignored_on_good_token);
    suite_add_tcase(s, keys);

    tcase_add_test(tamper, test_tampered_payload);
    tcase_add_test(tamper, test_tampered_signature);
    tcase_add_test(tamper, test_truncated_and_extended_signature);
    tcase_add_test(tamper, test_empty_signature);
    tcase_add_test(tamper, test_signature_of_other_token);
    tcase_add_test(tamper, test_tampered_header);
    suite_add_tcase(s, tamper);

    tcase_add_test(compact, test_malformed_part_count);
    tcase_add_test(compact, test_malformed_empty);
    tcase_add_test(compact, test_malformed_bad_base64url);
    tcase_add_test(compact, test_malformed_padding);
    tcase_add_test(compact, test_malformed_non_canonical_base64url);
    tcase_add_test(compact, test_malformed_embedded_nul);
    tcase_add_test(compact, test_length_is_authoritative);
    tcase_add_test(compact, test_header_not_json);
    tcase_add_test(compact, test_header_not_object);
    tcase_add_test(compact, test_header_duplicate_members);
    tcase_add_test(compact, test_payload_duplicate_members);
    tcase_add_test(compact, test_payload_not_json_object);
    suite_add_tcase(s, compact);

    tcase_add_loop_test(hdr, test_typ_accepted, 0, (int)(sizeof(typ_ok) / sizeof(typ_ok[0])));
    tcase_add_test(hdr, test_typ_absent);
    tcase_add_loop_test(hdr, test_typ_refused, 0, (int)(sizeof(typ_bad) / sizeof(typ_bad[0])));
    tcase_add_test(hdr, test_typ_not_a_string);
    tcase_add_test(hdr, test_typ_with_nul);
    tcase_add_test(hdr, test_crit);
    suite_add_tcase(s, hdr);

    tcase_add_test(cl, test_valid_token);
    tcase_add_test(cl, test_iss_mismatch);
    tcase_add_test(cl, test_iss_missing);
    tcase_add_test(cl, test_iss_not_string);
    tcase_add_test(cl, test_aud_string_match);
    tcase_add_test(cl, test_aud_array_match);
    tcase_add_test(cl, test_aud_no_match);
    tcase_add_test(cl, test_aud_missing_or_bad_type);
    tcase_add_test(cl, test_aud_several_without_azp);
    tcase_add_test(cl, test_aud_several_with_azp);
    tcase_add_test(cl, test_azp_other);
    tcase_add_test(cl, test_azp_with_single_aud);
    tcase_add_test(cl, test_several_client_ids);
    tcase_add_test(cl, test_iat_missing);
    tcase_add_test(cl, test_iat_future_beyond_skew);
    tcase_add_test(cl, test_iat_future_within_skew);
    tcase_add_test(cl, test_iat_not_number);
    tcase_add_test(cl, test_iat_fractional);
    tcase_add_test(cl, test_iat_out_of_range);
    tcase_add_test(cl, test_iat_very_negative);
    tcase_add_test(cl, test_exp_past_beyond_skew);
    tcase_add_test(cl, test_exp_past_within_skew);
    tcase_add_test(cl, test_exp_not_number);
    tcase_add_test(cl, test_exp_out_of_range);
    tcase_add_test(cl, test_exp_missing_required);
    tcase_add_test(cl, test_exp_missing_not_required_fresh);
    tcase_add_test(cl, test_exp_missing_not_required_old);
    tcase_add_test(cl, test_exp_present_checked_even_if_not_required);
    tcase_add_test(cl, test_jti_missing_or_empty);
    tcase_add_test(cl, test_sub_only);
    tcase_add_test(cl, test_sid_only);
    tcase_add_test(cl, test_neither_sub_nor_sid);
    tcase_add_test(cl, test_sub_sid_bad_types);
    tcase_add_test(cl, test_require_sid_without_sid);
    tcase_add_test(cl, test_require_sid_with_sid);
    tcase_add_test(cl, test_events_missing);
    tcase_add_test(cl, test_events_not_object);
    tcase_add_test(cl, test_events_member_missing);
    tcase_add_test(cl, test_events_member_not_object);
    tcase_add_test(cl, test_events_extra_members_ok);
    tcase_add_test(cl, test_nonce);
    tcase_add_test(cl, test_unknown_claims_ignored);
    tcase_add_test(cl, test_unicode_claims);
    tcase_add_test(cl, test_require_encryption_plain_jws);
    suite_add_tcase(s, cl);

    tcase_add_test(verdict, test_verdict_filled_on_success);
    tcase_add_test(verdict, test_verdict_filled_on_claim_failure);
    tcase_add_test(verdict, test_verdict_detail_on_every_failure);
    tcase_add_test(verdict, test_verdict_reset_between_calls);
    tcase_add_test(verdict, test_verdict_detail_has_no_secret);
    tcase_add_test(verdict, test_verdict_detail_clips_attacker_strings);
    tcase_add_test(verdict, test_nothing_retained);
    suite_add_tcase(s, verdict);

    tcase_add_test(tables, test_alg_names);
    tcase_add_test(tables, test_reason_codes);
    suite_add_tcase(s, tables);
    return s;
}
