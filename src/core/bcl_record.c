/* SHA256_Init/Update/Final: see sha256_key */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include "bcl_record.h"
#include "bcl_record_digest.h"

/* The guard hashes on every request (a cookie in response-header mode;
 * iss+sid and iss+sub in env mode), so a key must cost the SHA-256
 * compression and little else. Through EVP each key cost about 3,700
 * instructions, half of it EVP_MD_CTX_new/init/free and the provider's
 * context (two heap allocations per key); OpenSSL's low-level SHA256_CTX
 * lives on the stack: no allocation, no provider dispatch, no method to
 * fetch or keep (so no process-wide state here), the same assembly
 * compression (SHA-NI where the CPU has it) and, being SHA-256, the same
 * keys. It is deprecated in OpenSSL 3 but present in every 3.x; a
 * build of OpenSSL without the deprecated API (OPENSSL_NO_DEPRECATED_3_0)
 * gets the EVP one-shot instead: slower, same keys. The keys are pinned by
 * known answers in test/unit/test_record.c. */
static int sha256_key(bcl_hkey_t *out, const char *label, const char *a, size_t a_len, const char *b,
                      size_t b_len)
{
#ifndef OPENSSL_NO_DEPRECATED_3_0
    unsigned char buf[SHA256_DIGEST_LENGTH];
    static const unsigned char sep = 0;
    size_t l_len = strlen(label) + 1;
    unsigned char msg[192];
    SHA256_CTX c;
    int ok;

    if (l_len + a_len + 1 + b_len <= sizeof(msg)) {
        /* the usual short message: one update */
        memcpy(msg, label, l_len);
        memcpy(msg + l_len, a, a_len);
        msg[l_len + a_len] = 0;
        memcpy(msg + l_len + a_len + 1, b, b_len);
        ok = SHA256_Init(&c) == 1 && SHA256_Update(&c, msg, l_len + a_len + 1 + b_len) == 1;
    } else {
        ok = SHA256_Init(&c) == 1 && SHA256_Update(&c, label, l_len) == 1 && SHA256_Update(&c, a, a_len) == 1
             && SHA256_Update(&c, &sep, 1) == 1 && SHA256_Update(&c, b, b_len) == 1;
    }
    if (ok && SHA256_Final(buf, &c) == 1) {
        memcpy(out->b, buf, BCL_KEY_LEN);
        /* msg and c are not wiped: the value they hold is in the request's
         * headers (request pool) for the whole request anyway, and nothing
         * of them outlives this stack frame's reuse */
        /* the all-zero key means "none"; a real hash is never it */
        if (bcl_hkey_is_zero(out))
            out->b[0] = 1;
        return 0;
    }
    memset(out->b, 0, BCL_KEY_LEN);
    return -1;
#else
    return bcl_hkey_digest(out, EVP_sha256(), label, a, a_len, b, b_len);
#endif
}

int bcl_hkey_digest(bcl_hkey_t *out, const EVP_MD *md, const char *label, const char *a, size_t a_len,
                    const char *b, size_t b_len)
{
    unsigned char buf[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    static const unsigned char sep = 0;
    int rc = -1;

    if (ctx != NULL && md != NULL && EVP_DigestInit_ex(ctx, md, NULL) == 1
        && EVP_DigestUpdate(ctx, label, strlen(label) + 1) == 1
        && EVP_DigestUpdate(ctx, a, a_len) == 1
        && EVP_DigestUpdate(ctx, &sep, 1) == 1
        && EVP_DigestUpdate(ctx, b, b_len) == 1
        && EVP_DigestFinal_ex(ctx, buf, &md_len) == 1 && md_len >= BCL_KEY_LEN) {
        memcpy(out->b, buf, BCL_KEY_LEN);
        /* the all-zero key means "none"; a real hash is never it */
        if (bcl_hkey_is_zero(out))
            out->b[0] = 1;
        rc = 0;
    } else {
        /* No key: the caller fails closed. Never a stand-in key (a constant
         * one would be shared by every value that failed). */
        memset(out->b, 0, BCL_KEY_LEN);
    }
    EVP_MD_CTX_free(ctx);
    return rc;
}

int bcl_hkey_sid(bcl_hkey_t *out, const char *iss, const char *sid)
{
    return sha256_key(out, "sid", iss, strlen(iss), sid, strlen(sid));
}

int bcl_hkey_sub(bcl_hkey_t *out, const char *iss, const char *sub)
{
    return sha256_key(out, "sub", iss, strlen(iss), sub, strlen(sub));
}

int bcl_hkey_jti(bcl_hkey_t *out, const char *iss, const char *jti)
{
    return sha256_key(out, "jti", iss, strlen(iss), jti, strlen(jti));
}

int bcl_hkey_cookie(bcl_hkey_t *out, const char *name, const char *value, size_t value_len)
{
    return sha256_key(out, "cookie", name, strlen(name), value, value_len);
}

int bcl_hkey_is_zero(const bcl_hkey_t *k)
{
    unsigned char acc = 0;
    for (int i = 0; i < BCL_KEY_LEN; i++)
        acc |= k->b[i];
    return acc == 0;
}

int bcl_hkey_stored(bcl_hkey_t *out, int kind, const bcl_hkey_t *k)
{
    if (kind == BCL_REC_REVOKED_SUB_NOSID)
        return sha256_key(out, "sub-nosid", (const char *)k->b, BCL_KEY_LEN, "", 0);
    *out = *k;
    return 0;
}
