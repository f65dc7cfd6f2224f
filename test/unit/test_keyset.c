/* bcl_keyset: JWKS parsing, the client secret, decryption keys, selection. */
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#include "test_helpers.h"
#include "bcl_keyset.h"

static apr_pool_t *pool;
static bcl_keyset_t *ks;
static th_logbuf_t logbuf;
static bcl_logger_t logger;

static void setup(void)
{
    ck_assert_int_eq(apr_pool_create(&pool, NULL), APR_SUCCESS);
    ks = bcl_keyset_create(pool);
    ck_assert_ptr_nonnull(ks);
    logger = th_logger(&logbuf);
}

static void teardown(void)
{
    apr_pool_destroy(pool);
    pool = NULL;
    ks = NULL;
}

static int add_jwks(const char *json, const char **err)
{
    *err = NULL;
    return bcl_keyset_add_jwks(ks, json, strlen(json), &logger, err);
}

static void assert_jwks_error(const char *json)
{
    const char *err;
    int rc = add_jwks(json, &err);
    ck_assert_msg(rc == -1, "JWKS accepted (rc %d): %s", rc, json);
    ck_assert_msg(err != NULL && *err != '\0', "no error message for %s", json);
}

/* A public JWK of `k` with one member replaced or added (value is raw JSON). */
static const char *jwk_with(const th_key_t *k, const char *member, const char *value_json)
{
    json_t *j = json_loads(k->pub_json, 0, NULL);
    const char *out;
    ck_assert_ptr_nonnull(j);
    if (value_json) {
        json_t *v = json_loads(value_json, JSON_DECODE_ANY, NULL);
        ck_assert_ptr_nonnull(v);
        json_object_set_new(j, member, v);
    }
    else {
        json_object_del(j, member);
    }
    out = th_json(pool, j);
    json_decref(j);
    return out;
}

static const char *jwks_of(const char *jwk1, const char *jwk2)
{
    return jwk2 ? apr_pstrcat(pool, "{\"keys\":[", jwk1, ",", jwk2, "]}", NULL)
                : apr_pstrcat(pool, "{\"keys\":[", jwk1, "]}", NULL);
}

/* ---- JWKS parsing ---- */

START_TEST(test_jwks_ok)
{
    const char *err;
    ck_assert_int_eq(add_jwks(th_op_jwks(pool), &err), 0);
    ck_assert_int_eq(bcl_keyset_count(ks), 6);
    ck_assert(bcl_keyset_has_kid(ks, "rsa1"));
    ck_assert(bcl_keyset_has_kid(ks, "rsa2"));
    ck_assert(bcl_keyset_has_kid(ks, "ec256"));
    ck_assert(bcl_keyset_has_kid(ks, "ec384"));
    ck_assert(bcl_keyset_has_kid(ks, "ec521"));
    ck_assert(bcl_keyset_has_kid(ks, "ed1"));
    ck_assert(!bcl_keyset_has_kid(ks, "attacker-rsa"));
    ck_assert(!bcl_keyset_has_kid(ks, "RSA1"));
    ck_assert(!bcl_keyset_has_kid(ks, ""));
    ck_assert(!bcl_keyset_has_client_secret(ks));
}
END_TEST

START_TEST(test_jwks_not_json)
{
    assert_jwks_error("");
    assert_jwks_error("not json");
    assert_jwks_error("{\"keys\":[");
    assert_jwks_error("{\"keys\":[]}}");
    ck_assert_int_eq(bcl_keyset_count(ks), 0);
}
END_TEST

START_TEST(test_jwks_length_is_authoritative)
{
    /* Only `len` bytes are the document; a trailing part must not be read. */
    const char *doc = apr_pstrcat(pool, th_jwks(pool, th_rsa1, (th_key_t *)NULL), "garbage", NULL);
    const char *err = NULL;
    ck_assert_int_eq(bcl_keyset_add_jwks(ks, doc, strlen(doc) - 7, &logger, &err), 0);
    ck_assert_int_eq(bcl_keyset_count(ks), 1);
}
END_TEST

START_TEST(test_jwks_no_keys_array)
{
    assert_jwks_error("{}");
    assert_jwks_error("[]");
    assert_jwks_error("\"keys\"");
    assert_jwks_error("{\"keys\":{}}");
    assert_jwks_error("{\"keys\":\"x\"}");
    assert_jwks_error("{\"keys\":null}");
    assert_jwks_error("{\"key\":[]}");
    /* A bare JWK is not a JWKS. */
    assert_jwks_error(th_rsa1->pub_json);
}
END_TEST

START_TEST(test_jwks_empty_keys)
{
    /* A JWKS with no usable key is an error. */
    assert_jwks_error("{\"keys\":[]}");
}
END_TEST

START_TEST(test_jwks_key_not_object)
{
    assert_jwks_error("{\"keys\":[1]}");
    assert_jwks_error("{\"keys\":[\"x\"]}");
    assert_jwks_error("{\"keys\":[null]}");
}
END_TEST

START_TEST(test_jwks_key_without_kty)
{
    assert_jwks_error(jwks_of(jwk_with(th_rsa1, "kty", NULL), NULL));
    assert_jwks_error(jwks_of(jwk_with(th_rsa1, "kty", "1"), NULL));
    assert_jwks_error(jwks_of(jwk_with(th_rsa1, "kty", "\"\""), NULL));
}
END_TEST

START_TEST(test_jwks_error_names_the_key)
{
    /* The message says which key (index and/or kid) is wrong. */
    const char *err;
    const char *bad = jwk_with(th_rsa2, "n", "\"!!not-base64url!!\"");
    int rc = add_jwks(jwks_of(th_rsa1->pub_json, bad), &err);
    ck_assert_int_eq(rc, -1);
    ck_assert_ptr_nonnull(err);
    ck_assert_msg(strstr(err, "rsa2") != NULL || strstr(err, "1") != NULL,
                  "error does not name the key: %s", err);
}
END_TEST

START_TEST(test_jwks_bad_rsa)
{
    assert_jwks_error(jwks_of(jwk_with(th_rsa1, "n", NULL), NULL));
    assert_jwks_error(jwks_of(jwk_with(th_rsa1, "e", NULL), NULL));
    assert_jwks_error(jwks_of(jwk_with(th_rsa1, "n", "\"!!!\""), NULL));
    assert_jwks_error(jwks_of(jwk_with(th_rsa1, "n", "\"\""), NULL));
    assert_jwks_error(jwks_of(jwk_with(th_rsa1, "n", "12345"), NULL));
}
END_TEST

START_TEST(test_jwks_bad_ec)
{
    assert_jwks_error(jwks_of(jwk_with(th_ec256, "crv", NULL), NULL));
    assert_jwks_error(jwks_of(jwk_with(th_ec256, "crv", "\"P-192\""), NULL));
    assert_jwks_error(jwks_of(jwk_with(th_ec256, "x", NULL), NULL));
    assert_jwks_error(jwks_of(jwk_with(th_ec256, "y", "\"AAAA\""), NULL));
    /* A point that is not on the curve. */
    assert_jwks_error(jwks_of(jwk_with(th_ec256, "y", "\"AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\""), NULL));
}
END_TEST

START_TEST(test_jwks_bad_okp)
{
    assert_jwks_error(jwks_of(jwk_with(th_ed1, "x", NULL), NULL));
    assert_jwks_error(jwks_of(jwk_with(th_ed1, "x", "\"AAAA\""), NULL));
    assert_jwks_error(jwks_of(jwk_with(th_ed1, "crv", NULL), NULL));
}
END_TEST

START_TEST(test_jwks_bad_base64url_members)
{
    /* cjose 0.6.2's base64url decoder assert()s (abort: a crashed httpd
     * child) on some malformed values, e.g. one character then '='. The
     * key set must refuse them before cjose sees them. Run only when Check
     * forks (an abort would end a CK_FORK=no run, e.g. under valgrind). */
    const char *env = getenv("CK_FORK");
    if (env && strcmp(env, "no") == 0)
        return;
    assert_jwks_error(jwks_of(jwk_with(th_rsa1, "n", "\"A=\""), NULL));
    assert_jwks_error(jwks_of(jwk_with(th_rsa1, "e", "\"AQABA=\""), NULL));
    assert_jwks_error(jwks_of(jwk_with(th_ec256, "x", "\"AAAAA=A\""), NULL));
    assert_jwks_error(jwks_of(jwk_with(th_ec256, "y", "\"A=\""), NULL));
}
END_TEST

START_TEST(test_jwks_private_members)
{
    /* An OP that (wrongly) publishes private members: the key may be used as
     * a public key or refused, but nothing may leak (cjose 0.6.2 leaks a
     * BIGNUM when "q" comes without "p"; valgrind / LeakSanitizer see it). */
    const char *err = NULL;
    json_t *j = json_loads(th_rsa1->priv_json, 0, NULL);
    int rc;
    json_object_del(j, "p");
    rc = add_jwks(jwks_of(th_json(pool, j), NULL), &err);
    json_decref(j);
    ck_assert_msg(rc == 0 || (rc == -1 && err != NULL), "rc %d", rc);
    /* A complete private key still verifies as the public key. */
    ks = bcl_keyset_create(pool);
    ck_assert_int_eq(add_jwks(jwks_of(th_ec256->priv_json, NULL), &err), 0);
    ck_assert_int_eq(bcl_keyset_count(ks), 1);
}
END_TEST

START_TEST(test_jwks_unknown_kty)
{
    /* An unknown key type is not silently treated as another. Either the
     * key is skipped (and the JWKS, having no usable key, refused) or the
     * JWKS is refused outright. */
    assert_jwks_error("{\"keys\":[{\"kty\":\"XYZ\",\"kid\":\"x\"}]}");
}
END_TEST

START_TEST(test_jwks_enc_keys_skipped)
{
    const char *err;
    const char *enc = jwk_with(th_enc1, "use", "\"enc\"");
    ck_assert_int_eq(add_jwks(jwks_of(th_rsa1->pub_json, enc), &err), 0);
    ck_assert_int_eq(bcl_keyset_count(ks), 1);
    ck_assert(bcl_keyset_has_kid(ks, "rsa1"));
    ck_assert(!bcl_keyset_has_kid(ks, "enc1"));
    /* bcl_keyset.h says "skipped with a warning"; bcl_keyset.c logs an enc
     * key at INFO (every Keycloak JWKS has one). Either level will do. */
    ck_assert_msg(logbuf.warnings + logbuf.infos >= 1, "skipping an enc key was not logged");
}
END_TEST

START_TEST(test_jwks_only_enc_keys)
{
    assert_jwks_error(jwks_of(jwk_with(th_enc1, "use", "\"enc\""), NULL));
}
END_TEST

START_TEST(test_jwks_sig_use_kept)
{
    const char *err;
    ck_assert_int_eq(add_jwks(jwks_of(jwk_with(th_rsa1, "use", "\"sig\""), NULL), &err), 0);
    ck_assert_int_eq(bcl_keyset_count(ks), 1);
}
END_TEST

START_TEST(test_jwks_oct_keys_skipped)
{
    const char *err;
    const char *oct = "{\"kty\":\"oct\",\"kid\":\"hmac\",\"k\":\"c2VjcmV0LXNlY3JldC1zZWNyZXQ\"}";
    ck_assert_int_eq(add_jwks(jwks_of(oct, th_ec256->pub_json), &err), 0);
    ck_assert_int_eq(bcl_keyset_count(ks), 1);
    ck_assert(!bcl_keyset_has_kid(ks, "hmac"));
    ck_assert_msg(logbuf.warnings >= 1, "skipping an oct key was not logged");
    /* HMAC algorithms never get the JWKS's oct key. */
    {
        const bcl_key_t *out[8];
        ck_assert_int_eq(bcl_keyset_select(ks, BCL_ALG_HS256, "hmac", out, 8), 0);
        ck_assert_int_eq(bcl_keyset_select(ks, BCL_ALG_HS256, NULL, out, 8), 0);
    }
}
END_TEST

START_TEST(test_jwks_only_oct_keys)
{
    assert_jwks_error("{\"keys\":[{\"kty\":\"oct\",\"kid\":\"hmac\",\"k\":\"c2VjcmV0\"}]}");
}
END_TEST

START_TEST(test_jwks_realistic_shape)
{
    /* Keycloak publishes x5c/x5t and an RSA-OAEP encryption key alongside
     * the signature keys; extra members are fine. */
    const char *err;
    const char *sig = jwk_with(th_rsa1, "x5c",
                               apr_psprintf(pool, "[\"%s\"]", th_x5c_cert(pool, th_rsa1)));
    const char *enc;
    json_t *j = json_loads(sig, 0, NULL);
    json_object_set_new(j, "use", json_string("sig"));
    json_object_set_new(j, "alg", json_string("RS256"));
    json_object_set_new(j, "x5t", json_string("dGVzdA"));
    json_object_set_new(j, "x5t#S256", json_string("dGVzdA"));
    sig = th_json(pool, j);
    json_decref(j);
    j = json_loads(th_enc1->pub_json, 0, NULL);
    json_object_set_new(j, "use", json_string("enc"));
    json_object_set_new(j, "alg", json_string("RSA-OAEP"));
    enc = th_json(pool, j);
    json_decref(j);
    ck_assert_msg(add_jwks(apr_pstrcat(pool, "{\"keys\":[", sig, ",", enc, ",", th_ec256->pub_json,
                                       "]}", NULL), &err) == 0, "%s", err ? err : "?");
    ck_assert_int_eq(bcl_keyset_count(ks), 2);
}
END_TEST

START_TEST(test_jwks_duplicate_members)
{
    /* A JWKS with duplicate members is ambiguous: refuse it. */
    assert_jwks_error(apr_pstrcat(pool, "{\"keys\":[", th_rsa1->pub_json, "],\"keys\":[",
                                  th_rsa2->pub_json, "]}", NULL));
}
END_TEST

START_TEST(test_jwks_added_twice)
{
    /* Two documents add up (e.g. a file and a URL). */
    const char *err;
    ck_assert_int_eq(add_jwks(th_jwks(pool, th_rsa1, (th_key_t *)NULL), &err), 0);
    ck_assert_int_eq(add_jwks(th_jwks(pool, th_ec256, (th_key_t *)NULL), &err), 0);
    ck_assert_int_eq(bcl_keyset_count(ks), 2);
}
END_TEST

/* ---- selection ---- */

static void load_op(void)
{
    const char *err;
    ck_assert_int_eq(add_jwks(th_op_jwks(pool), &err), 0);
}

static int has(const bcl_key_t **keys, int n, const char *kid)
{
    int i;
    for (i = 0; i < n; i++)
        if (keys[i]->kid && strcmp(keys[i]->kid, kid) == 0) return 1;
    return 0;
}

START_TEST(test_select_by_kid)
{
    const bcl_key_t *out[8];
    int n;
    load_op();
    n = bcl_keyset_select(ks, BCL_ALG_RS256, "rsa1", out, 8);
    ck_assert_int_eq(n, 1);
    ck_assert_str_eq(out[0]->kid, "rsa1");
    ck_assert_int_eq(out[0]->kty, BCL_KTY_RSA);
    n = bcl_keyset_select(ks, BCL_ALG_PS512, "rsa2", out, 8);
    ck_assert_int_eq(n, 1);
    ck_assert_str_eq(out[0]->kid, "rsa2");
    n = bcl_keyset_select(ks, BCL_ALG_ES384, "ec384", out, 8);
    ck_assert_int_eq(n, 1);
    ck_assert_int_eq(out[0]->kty, BCL_KTY_EC_P384);
    n = bcl_keyset_select(ks, BCL_ALG_EDDSA, "ed1", out, 8);
    ck_assert_int_eq(n, 1);
    ck_assert_int_eq(out[0]->kty, BCL_KTY_OKP_ED25519);
    ck_assert_ptr_nonnull(out[0]->pkey);
    ck_assert_int_eq(bcl_keyset_select(ks, BCL_ALG_RS256, "nope", out, 8), 0);
}
END_TEST

START_TEST(test_select_kid_of_wrong_type)
{
    const bcl_key_t *out[8];
    load_op();
    /* The kid exists, but its key cannot check this alg. */
    ck_assert_int_eq(bcl_keyset_select(ks, BCL_ALG_RS256, "ec256", out, 8), 0);
    ck_assert_int_eq(bcl_keyset_select(ks, BCL_ALG_ES256, "rsa1", out, 8), 0);
    ck_assert_int_eq(bcl_keyset_select(ks, BCL_ALG_ES256, "ec384", out, 8), 0);
    ck_assert_int_eq(bcl_keyset_select(ks, BCL_ALG_ES512, "ec256", out, 8), 0);
    ck_assert_int_eq(bcl_keyset_select(ks, BCL_ALG_EDDSA, "rsa1", out, 8), 0);
    ck_assert_int_eq(bcl_keyset_select(ks, BCL_ALG_RS256, "ed1", out, 8), 0);
}
END_TEST

START_TEST(test_select_by_type)
{
    const bcl_key_t *out[8];
    int n;
    load_op();
    n = bcl_keyset_select(ks, BCL_ALG_RS256, NULL, out, 8);
    ck_assert_int_eq(n, 2);
    ck_assert(has(out, n, "rsa1") && has(out, n, "rsa2"));
    n = bcl_keyset_select(ks, BCL_ALG_PS384, NULL, out, 8);
    ck_assert_int_eq(n, 2);
    n = bcl_keyset_select(ks, BCL_ALG_ES256, NULL, out, 8);
    ck_assert_int_eq(n, 1);
    ck_assert_str_eq(out[0]->kid, "ec256");
    n = bcl_keyset_select(ks, BCL_ALG_ES384, NULL, out, 8);
    ck_assert_int_eq(n, 1);
    ck_assert_str_eq(out[0]->kid, "ec384");
    n = bcl_keyset_select(ks, BCL_ALG_ES512, NULL, out, 8);
    ck_assert_int_eq(n, 1);
    ck_assert_str_eq(out[0]->kid, "ec521");
    n = bcl_keyset_select(ks, BCL_ALG_EDDSA, NULL, out, 8);
    ck_assert_int_eq(n, 1);
    ck_assert_str_eq(out[0]->kid, "ed1");
}
END_TEST

START_TEST(test_select_respects_capacity)
{
    const bcl_key_t *out[1];
    load_op();
    ck_assert_int_le(bcl_keyset_select(ks, BCL_ALG_RS256, NULL, out, 1), 1);
}
END_TEST

START_TEST(test_select_hmac)
{
    const bcl_key_t *out[8];
    const char *err;
    load_op();
    /* No client secret: nothing for HMAC, whatever the kid. */
    ck_assert_int_eq(bcl_keyset_select(ks, BCL_ALG_HS256, NULL, out, 8), 0);
    ck_assert_int_eq(bcl_keyset_select(ks, BCL_ALG_HS256, "rsa1", out, 8), 0);
    ck_assert_int_eq(bcl_keyset_set_client_secret(ks, TH_SECRET, strlen(TH_SECRET), &err), 0);
    ck_assert(bcl_keyset_has_client_secret(ks));
    ck_assert_int_eq(bcl_keyset_count(ks), 6);
    ck_assert_int_eq(bcl_keyset_select(ks, BCL_ALG_HS256, NULL, out, 8), 1);
    ck_assert_int_eq(out[0]->kty, BCL_KTY_OCT);
    ck_assert_int_eq(bcl_keyset_select(ks, BCL_ALG_HS512, "anything", out, 8), 1);
    ck_assert_int_eq(out[0]->kty, BCL_KTY_OCT);
    /* And the secret is never offered for an asymmetric alg. */
    ck_assert_int_eq(bcl_keyset_select(ks, BCL_ALG_RS256, NULL, out, 8), 2);
    ck_assert_int_eq(out[0]->kty, BCL_KTY_RSA);
    ck_assert_int_eq(out[1]->kty, BCL_KTY_RSA);
}
END_TEST

START_TEST(test_select_key_alg_member)
{
    /* A JWK with "alg" is used for that alg only. */
    const bcl_key_t *out[8];
    const char *err;
    ck_assert_int_eq(add_jwks(jwks_of(jwk_with(th_rsa1, "alg", "\"RS384\""), NULL), &err), 0);
    ck_assert_int_eq(bcl_keyset_select(ks, BCL_ALG_RS384, "rsa1", out, 8), 1);
    ck_assert_str_eq(out[0]->alg, "RS384");
    ck_assert_int_eq(bcl_keyset_select(ks, BCL_ALG_RS384, NULL, out, 8), 1);
    ck_assert_int_eq(bcl_keyset_select(ks, BCL_ALG_RS256, "rsa1", out, 8), 0);
    ck_assert_int_eq(bcl_keyset_select(ks, BCL_ALG_PS384, NULL, out, 8), 0);
}
END_TEST

START_TEST(test_select_key_without_kid)
{
    const bcl_key_t *out[8];
    const char *err;
    ck_assert_int_eq(add_jwks(jwks_of(jwk_with(th_rsa1, "kid", NULL), NULL), &err), 0);
    ck_assert_int_eq(bcl_keyset_count(ks), 1);
    ck_assert_int_eq(bcl_keyset_select(ks, BCL_ALG_RS256, NULL, out, 8), 1);
    ck_assert_ptr_null(out[0]->kid);
    /* A token naming a kid does not get a kid-less key. */
    ck_assert_int_eq(bcl_keyset_select(ks, BCL_ALG_RS256, "rsa1", out, 8), 0);
}
END_TEST

/* ---- client secret ---- */

START_TEST(test_client_secret)
{
    const char *err = NULL;
    ck_assert(!bcl_keyset_has_client_secret(ks));
    ck_assert_int_eq(bcl_keyset_set_client_secret(ks, "s3cr3t-\xc3\xa9", 9, &err), 0);
    ck_assert(bcl_keyset_has_client_secret(ks));
    ck_assert_int_eq(bcl_keyset_count(ks), 0);
}
END_TEST

/* ---- decryption keys ---- */

static int add_dec(const char *data, const char **err)
{
    *err = NULL;
    return bcl_keyset_add_decryption_key(ks, data, strlen(data), err);
}

START_TEST(test_dec_pem_pkcs8)
{
    const char *err;
    ck_assert_msg(add_dec(th_enc1->priv_pem, &err) == 0, "%s", err ? err : "?");
    ck_assert_ptr_nonnull(bcl_keyset_decryption_keys(ks));
    ck_assert_int_eq(bcl_keyset_decryption_keys(ks)->nelts, 1);
    /* Decryption keys are not verification keys. */
    ck_assert_int_eq(bcl_keyset_count(ks), 0);
}
END_TEST

START_TEST(test_dec_pem_traditional)
{
    const char *err;
    ck_assert_msg(add_dec(th_enc1->priv_pem_trad, &err) == 0, "%s", err ? err : "?");
    ck_assert_int_eq(bcl_keyset_decryption_keys(ks)->nelts, 1);
}
END_TEST

START_TEST(test_dec_jwk_private)
{
    const char *err;
    ck_assert_msg(add_dec(th_enc1->priv_json, &err) == 0, "%s", err ? err : "?");
    ck_assert_int_eq(bcl_keyset_decryption_keys(ks)->nelts, 1);
}
END_TEST

START_TEST(test_dec_jwks_private)
{
    const char *err;
    const char *doc = apr_pstrcat(pool, "{\"keys\":[", th_enc1->priv_json, ",",
                                  th_enc2->priv_json, "]}", NULL);
    ck_assert_msg(add_dec(doc, &err) == 0, "%s", err ? err : "?");
    ck_assert_int_eq(bcl_keyset_decryption_keys(ks)->nelts, 2);
}
END_TEST

START_TEST(test_dec_several)
{
    const char *err;
    ck_assert_int_eq(add_dec(th_enc1->priv_pem, &err), 0);
    ck_assert_int_eq(add_dec(th_enc2->priv_json, &err), 0);
    ck_assert_int_eq(bcl_keyset_decryption_keys(ks)->nelts, 2);
}
END_TEST

START_TEST(test_dec_rejects_public_only)
{
    const char *err;
    ck_assert_int_eq(add_dec(th_enc1->pub_json, &err), -1);
    ck_assert_ptr_nonnull(err);
    ck_assert_int_eq(add_dec(th_enc1->pub_pem, &err), -1);
    ck_assert_ptr_nonnull(err);
}
END_TEST

START_TEST(test_dec_rejects_garbage)
{
    const char *err;
    ck_assert_int_eq(add_dec("", &err), -1);
    ck_assert_ptr_nonnull(err);
    ck_assert_int_eq(add_dec("not a key", &err), -1);
    ck_assert_int_eq(add_dec("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", &err), -1);
    ck_assert_int_eq(add_dec("{\"kty\":\"RSA\"}", &err), -1);
    ck_assert_int_eq(add_dec("{}", &err), -1);
}
END_TEST

START_TEST(test_dec_rejects_non_rsa)
{
    /* Only RSA key management (RSA-OAEP, RSA-OAEP-256) is supported. */
    const char *err;
    ck_assert_int_eq(add_dec(th_ec256->priv_pem, &err), -1);
    ck_assert_ptr_nonnull(err);
    ck_assert_int_eq(add_dec(th_ec256->priv_json, &err), -1);
}
END_TEST

START_TEST(test_keyset_pool_cleanup)
{
    /* Keys are released with the pool (valgrind / ASan see the rest). */
    apr_pool_t *sub;
    bcl_keyset_t *k2;
    const char *err, *doc;
    ck_assert_int_eq(apr_pool_create(&sub, pool), APR_SUCCESS);
    k2 = bcl_keyset_create(sub);
    doc = th_op_jwks(sub);
    ck_assert_int_eq(bcl_keyset_add_jwks(k2, doc, strlen(doc), NULL, &err), 0);
    ck_assert_int_eq(bcl_keyset_add_decryption_key(k2, th_enc1->priv_pem, strlen(th_enc1->priv_pem), &err), 0);
    ck_assert_int_eq(bcl_keyset_set_client_secret(k2, "x", 1, &err), 0);
    apr_pool_destroy(sub);
}
END_TEST

Suite *keyset_suite(void)
{
    Suite *s = suite_create("keyset");
    TCase *jwks = tcase_create("jwks");
    TCase *sel = tcase_create("select");
    TCase *dec = tcase_create("decryption");

    tcase_add_checked_fixture(jwks, setup, teardown);
    tcase_add_test(jwks, test_jwks_ok);
    tcase_add_test(jwks, test_jwks_not_json);
    tcase_add_test(jwks, test_jwks_length_is_authoritative);
    tcase_add_test(jwks, test_jwks_no_keys_array);
    tcase_add_test(jwks, test_jwks_empty_keys);
    tcase_add_test(jwks, test_jwks_key_not_object);
    tcase_add_test(jwks, test_jwks_key_without_kty);
    tcase_add_test(jwks, test_jwks_error_names_the_key);
    tcase_add_test(jwks, test_jwks_bad_rsa);
    tcase_add_test(jwks, test_jwks_bad_ec);
    tcase_add_test(jwks, test_jwks_bad_okp);
    tcase_add_test(jwks, test_jwks_bad_base64url_members);
    tcase_add_test(jwks, test_jwks_private_members);
    tcase_add_test(jwks, test_jwks_unknown_kty);
    tcase_add_test(jwks, test_jwks_enc_keys_skipped);
    tcase_add_test(jwks, test_jwks_only_enc_keys);
    tcase_add_test(jwks, test_jwks_sig_use_kept);
    tcase_add_test(jwks, test_jwks_oct_keys_skipped);
    tcase_add_test(jwks, test_jwks_only_oct_keys);
    tcase_add_test(jwks, test_jwks_realistic_shape);
    tcase_add_test(jwks, test_jwks_duplicate_members);
    tcase_add_test(jwks, test_jwks_added_twice);
    suite_add_tcase(s, jwks);

    tcase_add_checked_fixture(sel, setup, teardown);
    tcase_add_test(sel, test_select_by_kid);
    tcase_add_test(sel, test_select_kid_of_wrong_type);
    tcase_add_test(sel, test_select_by_type);
    tcase_add_test(sel, test_select_respects_capacity);
    tcase_add_test(sel, test_select_hmac);
    tcase_add_test(sel, test_select_key_alg_member);
    tcase_add_test(sel, test_select_key_without_kid);
    tcase_add_test(sel, test_client_secret);
    suite_add_tcase(s, sel);

    tcase_add_checked_fixture(dec, setup, teardown);
    tcase_add_test(dec, test_dec_pem_pkcs8);
    tcase_add_test(dec, test_dec_pem_traditional);
    tcase_add_test(dec, test_dec_jwk_private);
    tcase_add_test(dec, test_dec_jwks_private);
    tcase_add_test(dec, test_dec_several);
    tcase_add_test(dec, test_dec_rejects_public_only);
    tcase_add_test(dec, test_dec_rejects_garbage);
    tcase_add_test(dec, test_dec_rejects_non_rsa);
    tcase_add_test(dec, test_keyset_pool_cleanup);
    suite_add_tcase(s, dec);
    return s;
}
