/* SHA256_Init/Update/Final: deprecated in OpenSSL 3 in favour of EVP, but
 * present in every 3.x; used only when the fetched SHA-256 is the default
 * provider's, whose implementation they are (see bcl_hasher.h). A build of
 * OpenSSL without the deprecated API always takes the EVP path. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <string.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/provider.h>
#include <openssl/sha.h>
#include "bcl_hasher.h"
#include "bcl_record_digest.h"

enum { HASH_NONE, HASH_STACK, HASH_EVP };

struct bcl_hasher_t {
    EVP_MD *md;               /* NULL when SHA-256 could not be fetched */
    int how;
};

static apr_status_t free_md(void *data)
{
    bcl_hasher_t *h = data;
    EVP_MD_free(h->md);
    h->md = NULL;
    h->how = HASH_NONE;
    return APR_SUCCESS;
}

bcl_hasher_t *bcl_hasher_create(apr_pool_t *p, const char *propq)
{
    bcl_hasher_t *h = apr_pcalloc(p, sizeof(*h));
    const OSSL_PROVIDER *prov;

    h->md = EVP_MD_fetch(NULL, "SHA256", propq);
    if (h->md == NULL) {
        ERR_clear_error();    /* the failed fetch's queue: not for a later caller to find */
        h->how = HASH_NONE;
        return h;
    }
    prov = EVP_MD_get0_provider(h->md);
    h->how = HASH_EVP;
#ifndef OPENSSL_NO_DEPRECATED_3_0
    if (prov != NULL && strcmp(OSSL_PROVIDER_get0_name(prov), "default") == 0)
        h->how = HASH_STACK;
#else
    (void)prov;
#endif
    apr_pool_cleanup_register(p, h, free_md, apr_pool_cleanup_null);
    return h;
}

int bcl_hasher_ok(const bcl_hasher_t *h)
{
    return h->how != HASH_NONE;
}

const char *bcl_hasher_kind(const bcl_hasher_t *h)
{
    return h->how == HASH_STACK ? "stack" : h->how == HASH_EVP ? "evp" : "none";
}

/* label NUL a NUL b, as bcl_hkey_digest hashes it */
static int key_of(const bcl_hasher_t *h, bcl_hkey_t *out, const char *label, const char *a, size_t a_len,
                  const char *b, size_t b_len)
{
#ifndef OPENSSL_NO_DEPRECATED_3_0
    if (h->how == HASH_STACK) {
        unsigned char buf[SHA256_DIGEST_LENGTH], msg[192];
        static const unsigned char sep = 0;
        size_t l_len = strlen(label) + 1, n = l_len + a_len + 1 + b_len;
        SHA256_CTX c;
        int ok;

        if (n <= sizeof(msg)) {
            /* the usual short message: one update */
            memcpy(msg, label, l_len);
            memcpy(msg + l_len, a, a_len);
            msg[l_len + a_len] = 0;
            memcpy(msg + l_len + a_len + 1, b, b_len);
            ok = SHA256_Init(&c) == 1 && SHA256_Update(&c, msg, n) == 1;
        } else {
            ok = SHA256_Init(&c) == 1 && SHA256_Update(&c, label, l_len) == 1 && SHA256_Update(&c, a, a_len) == 1
                 && SHA256_Update(&c, &sep, 1) == 1 && SHA256_Update(&c, b, b_len) == 1;
        }
        /* msg and c are not wiped: the value they hold stays in the
         * request's headers (request pool) for the whole request anyway */
        if (ok && SHA256_Final(buf, &c) == 1) {
            memcpy(out->b, buf, BCL_KEY_LEN);
            /* the all-zero key means "none"; a real hash is never it */
            if (bcl_hkey_is_zero(out))
                out->b[0] = 1;
            return 0;
        }
        memset(out->b, 0, BCL_KEY_LEN);
        return -1;
    }
#endif
    if (h->how == HASH_EVP)
        return bcl_hkey_digest(out, h->md, label, a, a_len, b, b_len);
    memset(out->b, 0, BCL_KEY_LEN);
    return -1;
}

int bcl_hasher_cookie(const bcl_hasher_t *h, bcl_hkey_t *out, const char *name, const char *value, size_t value_len)
{
    return key_of(h, out, "cookie", name, strlen(name), value, value_len);
}

int bcl_hasher_sid(const bcl_hasher_t *h, bcl_hkey_t *out, const char *iss, const char *sid)
{
    return key_of(h, out, "sid", iss, strlen(iss), sid, strlen(sid));
}

int bcl_hasher_sub(const bcl_hasher_t *h, bcl_hkey_t *out, const char *iss, const char *sub)
{
    return key_of(h, out, "sub", iss, strlen(iss), sub, strlen(sub));
}

int bcl_hasher_iss(const bcl_hasher_t *h, bcl_hkey_t *out, const char *iss)
{
    if (key_of(h, out, "iss", iss, strlen(iss), "", 0) != 0)
        return -1;
    bcl_hkey_iss_finish(out);
    return 0;
}
