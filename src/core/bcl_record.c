#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include "bcl_record.h"
#include "bcl_record_digest.h"

/* The guard hashes a cookie on every request. With OpenSSL 3,
 * EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) looks the digest up in the
 * provider tables each time: about half of the guard's instructions per
 * request (bench/, docs/BENCHMARKS.md). A fetched EVP_MD is immutable and
 * safe to share between threads, so it is fetched once per process, kept
 * for the life of the process (like OpenSSL's own method cache), and never
 * written again. If the fetch fails, the implicit lookup is used. */
static CRYPTO_ONCE sha256_once = CRYPTO_ONCE_STATIC_INIT;
static EVP_MD *sha256_fetched;

static void fetch_sha256(void)
{
    sha256_fetched = EVP_MD_fetch(NULL, "SHA256", NULL);
}

static const EVP_MD *sha256_md(void)
{
    if (CRYPTO_THREAD_run_once(&sha256_once, fetch_sha256) && sha256_fetched != NULL)
        return sha256_fetched;
    return EVP_sha256();
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
    return bcl_hkey_digest(out, sha256_md(), "sid", iss, strlen(iss), sid, strlen(sid));
}

int bcl_hkey_sub(bcl_hkey_t *out, const char *iss, const char *sub)
{
    return bcl_hkey_digest(out, sha256_md(), "sub", iss, strlen(iss), sub, strlen(sub));
}

int bcl_hkey_jti(bcl_hkey_t *out, const char *iss, const char *jti)
{
    return bcl_hkey_digest(out, sha256_md(), "jti", iss, strlen(iss), jti, strlen(jti));
}

int bcl_hkey_cookie(bcl_hkey_t *out, const char *name, const char *value, size_t value_len)
{
    return bcl_hkey_digest(out, sha256_md(), "cookie", name, strlen(name), value, value_len);
}

int bcl_hkey_iss(bcl_hkey_t *out, const char *iss)
{
    int rc = bcl_hkey_digest(out, sha256_md(), "iss", iss, strlen(iss), "", 0);
    if (rc != 0)
        return rc;
    bcl_hkey_iss_finish(out);
    return 0;
}

void bcl_hkey_iss_finish(bcl_hkey_t *out)
{
    unsigned char acc = 0;
    memset(out->b + BCL_ISS_FP_LEN, 0, BCL_KEY_LEN - BCL_ISS_FP_LEN);
    for (int i = 0; i < BCL_ISS_FP_LEN; i++)
        acc |= out->b[i];
    if (acc == 0)
        out->b[0] = 1;   /* a zero fingerprint means "unknown" */
}

int bcl_hkey_iss_from_fp(bcl_hkey_t *out, const uint8_t fp[BCL_ISS_FP_LEN])
{
    memset(out->b, 0, BCL_KEY_LEN);
    memcpy(out->b, fp, BCL_ISS_FP_LEN);
    return !bcl_hkey_is_zero(out);
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
        return bcl_hkey_digest(out, sha256_md(), "sub-nosid", (const char *)k->b, BCL_KEY_LEN, "", 0);
    if (kind == BCL_REC_REVOKED_ISS) {
        /* the fingerprint, then a constant tail instead of the zero bytes:
         * other kinds' keys are SHA-256 prefixes (one ending in this tail:
         * a 2^-72 chance), and no digest is paid on every guarded request */
        static const unsigned char tail[BCL_KEY_LEN - BCL_ISS_FP_LEN] = { 'i', 's', 's', '-', 'c', 'u', 't', 0xff, 0x01 };
        memcpy(out->b, k->b, BCL_ISS_FP_LEN);
        memcpy(out->b + BCL_ISS_FP_LEN, tail, sizeof(tail));
        return 0;
    }
    *out = *k;
    return 0;
}
