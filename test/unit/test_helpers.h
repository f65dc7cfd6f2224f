/* Shared helpers for the core unit tests: keys made at start-up, tokens
 * signed and encrypted in C (with cjose where it can, OpenSSL where it
 * cannot or where a test needs bytes cjose would not produce), and small
 * assertion macros. Nothing here uses the core's own base64url or JOSE code,
 * so a bug there cannot hide behind the same bug in the test. */
#ifndef TEST_HELPERS_H
#define TEST_HELPERS_H

#include <stddef.h>
#include <check.h>
#include <apr_pools.h>
#include <apr_tables.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <cjose/jwk.h>

#include "bcl_alg.h"
#include "bcl_keyset.h"
#include "bcl_log.h"
#include "bcl_reason.h"
#include "bcl_record.h"
#include "bcl_token.h"

#ifndef BCL_TEST_DATA_DIR
#define BCL_TEST_DATA_DIR "test/unit/data"
#endif

/* The fixed clock every token test runs at (2023-11-14T22:13:20Z). */
#define TH_NOW 1700000000LL
#define TH_ISSUER "https://op.example.com/realms/main"
#define TH_CLIENT "portal"
#define TH_SECRET "the-real-client-secret-0123456789abcdef"

typedef enum { TH_RSA, TH_EC256, TH_EC384, TH_EC521, TH_ED25519 } th_key_type_t;

typedef struct {
    char kid[32];
    th_key_type_t type;
    cjose_jwk_t *jwk;   /* RSA and EC keys (made by cjose); NULL for Ed25519 */
    EVP_PKEY *pkey;     /* the same key for OpenSSL (every type) */
    char *pub_json;     /* public JWK, with kid */
    char *priv_json;    /* private JWK, with kid (RSA and EC) */
    char *priv_pem;     /* PKCS#8 PEM */
    char *priv_pem_trad;/* traditional PEM ("BEGIN RSA PRIVATE KEY"), RSA only */
    char *pub_pem;      /* SubjectPublicKeyInfo PEM */
} th_key_t;

/* Keys made once by th_init (before the runner forks). The first six are
 * the OP's published keys; the attacker keys are in no key set; enc1/enc2
 * are RSA decryption keys of the relying party. */
extern th_key_t *th_rsa1, *th_rsa2, *th_ec256, *th_ec384, *th_ec521, *th_ed1;
extern th_key_t *th_att_rsa, *th_att_ec, *th_att_ed;
extern th_key_t *th_enc1, *th_enc2;

/* The identity of a session of issuer https://op (sid and/or sub; NULL
 * for none) that began at `began_us` (server clock) / `began_op` (OP). */
bcl_identity_t th_identity(const char *sid, const char *sub, int64_t began_us, int64_t began_op);

void th_init(void);
void th_cleanup(void);

/* ---- plain helpers ---- */
char *th_b64url(apr_pool_t *p, const void *data, size_t len);
/* Lenient decoder for test use (accepts what th_b64url makes); NULL on error. */
unsigned char *th_b64url_dec(apr_pool_t *p, const char *s, size_t len, size_t *out_len);
/* Standard base64 with padding (for x5c). */
char *th_b64std(apr_pool_t *p, const void *data, size_t len);
/* Reads a file of BCL_TEST_DATA_DIR into the pool (NUL-terminated); fails the test if absent. */
char *th_read_data(apr_pool_t *p, const char *name, size_t *len);

/* {"keys":[...]} of the public JWKs of the given keys (NULL-terminated list). */
char *th_jwks(apr_pool_t *p, ...);
/* The OP's JWKS: rsa1, rsa2, ec256, ec384, ec521, ed1. */
char *th_op_jwks(apr_pool_t *p);
/* A key set holding th_op_jwks and, if with_secret, TH_SECRET. Fails the test on error. */
bcl_keyset_t *th_keyset(apr_pool_t *p, int with_secret);

/* A policy: TH_ISSUER, client TH_CLIENT, only `algs` allowed, skew 60, require_exp on. */
void th_policy(apr_pool_t *p, bcl_policy_t *pol, bcl_alg_mask_t algs);
bcl_alg_mask_t th_all_algs(void);

/* ---- claims ---- */
/* Valid logout token claims at `now`: iss, aud (string), iat now-5,
 * exp now+115, a fresh jti, sub, sid, events. Caller json_decref's. */
json_t *th_claims(long long now);
char *th_json(apr_pool_t *p, const json_t *j);  /* compact, sorted keys: stable */

/* ---- signing ---- */
/* Signs `payload` with `alg` and `key` the normal way: cjose_jws_sign for
 * RS/PS/ES/HS (key ignored for HS: TH_SECRET), OpenSSL for EdDSA. The
 * header has alg, and kid / typ when non-NULL. */
char *th_sign(apr_pool_t *p, const char *alg, const th_key_t *key, const char *kid,
              const char *typ, const char *payload);
/* Same with the claims object serialised. */
char *th_sign_claims(apr_pool_t *p, const char *alg, const th_key_t *key, const char *kid,
                     const char *typ, const json_t *claims);
/* Signs exactly `header_json` "." `payload_json` with OpenSSL. For HS*
 * `hmac_key`/`hmac_len` is the key and `key` is ignored. The alg used for
 * the signature is `alg`, whatever the header says. */
char *th_sign_raw(apr_pool_t *p, const char *alg, const th_key_t *key,
                  const void *hmac_key, size_t hmac_len,
                  const char *header_json, const char *payload_json);
/* b64url(header) "." b64url(payload) "." sig (sig already encoded, may be ""). */
char *th_compact(apr_pool_t *p, const char *header_json, const char *payload_json,
                 const char *sig_b64);

/* ---- compact-token surgery ---- */
int th_count_parts(const char *tok);
char *th_part(apr_pool_t *p, const char *tok, int idx);
char *th_replace_part(apr_pool_t *p, const char *tok, int idx, const char *s);
/* Decodes part idx, XORs byte `at` (negative: from the end) with `mask`, re-encodes. */
char *th_flip(apr_pool_t *p, const char *tok, int idx, int at, unsigned char mask);

/* ---- encryption ---- */
/* A compact JWE of `plain` to `pub` with header {"alg","enc","cty":"JWT"}.
 * alg: RSA-OAEP, RSA-OAEP-256, RSA1_5 or dir (dir: a random CEK, no
 * encrypted key). enc: A128GCM A192GCM A256GCM A128CBC-HS256 A192CBC-HS384
 * A256CBC-HS512. Implemented with OpenSSL only (RFC 7516 / RFC 7518 5.2, 5.3). */
char *th_jwe(apr_pool_t *p, const char *alg, const char *enc, EVP_PKEY *pub,
             const char *plain, size_t plain_len);
/* Same with a caller-made protected header (which must agree with wrap/enc for
 * the result to be decryptable). */
char *th_jwe_hdr(apr_pool_t *p, const char *header_json, const char *wrap, const char *enc,
                 EVP_PKEY *pub, const char *plain, size_t plain_len);

/* A self-signed certificate for `key` in x5c form (base64 DER). */
char *th_x5c_cert(apr_pool_t *p, const th_key_t *key);

/* ---- a logger that keeps what it was told ---- */
typedef struct {
    int errors, warnings, infos, debugs;
    char last[1024];
    char all[8192];
} th_logbuf_t;
bcl_logger_t th_logger(th_logbuf_t *buf);

/* ---- assertions ---- */
#define TH_REASON_NAME(r) (bcl_reason_code(r) ? bcl_reason_code(r) : "?")

/* Asserts a verdict's reason, printing the reason code and detail on failure. */
#define ck_assert_reason(got, v, expected) do { \
        bcl_reason_t got_ = (got), exp_ = (expected); \
        ck_assert_msg(got_ == exp_, "expected reason %s (%d), got %s (%d): %s", \
                      TH_REASON_NAME(exp_), (int)exp_, TH_REASON_NAME(got_), (int)got_, \
                      (v).detail ? (v).detail : "(no detail)"); \
        ck_assert_msg((v).reason == got_, "v.reason (%d) differs from the return value (%d)", \
                      (int)(v).reason, (int)got_); \
    } while (0)

/* Asserts the verdict is one of two reasons (where the contract allows either). */
#define ck_assert_reason2(got, v, e1, e2) do { \
        bcl_reason_t got_ = (got); \
        ck_assert_msg(got_ == (e1) || got_ == (e2), "expected reason %s or %s, got %s (%d): %s", \
                      TH_REASON_NAME(e1), TH_REASON_NAME(e2), TH_REASON_NAME(got_), (int)got_, \
                      (v).detail ? (v).detail : "(no detail)"); \
    } while (0)

/* Suites. */
Suite *b64url_suite(void);
Suite *json_suite(void);
Suite *form_suite(void);
Suite *keyset_suite(void);
Suite *token_suite(void);
Suite *jwe_suite(void);
Suite *store_suite(void);
Suite *seqlock_suite(void);
Suite *netstore_suite(void);
Suite *storecontract_suite(void);
Suite *rules_suite(void);
Suite *keysource_suite(void);
Suite *journal_suite(void);
Suite *record_suite(void);
Suite *cookie_suite(void);
Suite *admin_suite(void);

#endif
