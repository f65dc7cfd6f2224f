#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include "bcl_record.h"

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

static void hash_fields(bcl_hkey_t *out, const char *label, const char *a, size_t a_len,
                        const char *b, size_t b_len)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    static const unsigned char sep = 0;

    if (ctx != NULL && EVP_DigestInit_ex(ctx, sha256_md(), NULL) == 1
        && EVP_DigestUpdate(ctx, label, strlen(label) + 1) == 1
        && EVP_DigestUpdate(ctx, a, a_len) == 1
        && EVP_DigestUpdate(ctx, &sep, 1) == 1
        && EVP_DigestUpdate(ctx, b, b_len) == 1
        && EVP_DigestFinal_ex(ctx, md, &md_len) == 1 && md_len >= BCL_KEY_LEN) {
        memcpy(out->b, md, BCL_KEY_LEN);
        /* the all-zero key means "none"; a real hash is never it */
        if (bcl_hkey_is_zero(out))
            out->b[0] = 1;
    } else {
        memset(out->b, 0xff, BCL_KEY_LEN);
    }
    EVP_MD_CTX_free(ctx);
}

void bcl_hkey_sid(bcl_hkey_t *out, const char *iss, const char *sid)
{
    hash_fields(out, "sid", iss, strlen(iss), sid, strlen(sid));
}

void bcl_hkey_sub(bcl_hkey_t *out, const char *iss, const char *sub)
{
    hash_fields(out, "sub", iss, strlen(iss), sub, strlen(sub));
}

void bcl_hkey_jti(bcl_hkey_t *out, const char *iss, const char *jti)
{
    hash_fields(out, "jti", iss, strlen(iss), jti, strlen(jti));
}

void bcl_hkey_cookie(bcl_hkey_t *out, const char *name, const char *value, size_t value_len)
{
    hash_fields(out, "cookie", name, strlen(name), value, value_len);
}

int bcl_hkey_is_zero(const bcl_hkey_t *k)
{
    unsigned char acc = 0;
    for (int i = 0; i < BCL_KEY_LEN; i++)
        acc |= k->b[i];
    return acc == 0;
}

void bcl_hkey_stored(bcl_hkey_t *out, int kind, const bcl_hkey_t *k)
{
    if (kind == BCL_REC_REVOKED_SUB_NOSID)
        hash_fields(out, "sub-nosid", (const char *)k->b, BCL_KEY_LEN, "", 0);
    else
        *out = *k;
}
