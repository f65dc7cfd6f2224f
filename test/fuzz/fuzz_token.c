/* libFuzzer target: bcl_token_validate on arbitrary bytes (compact JWS or
 * JWE), with the embedded OP keys, client secret and RP decryption key, and
 * every algorithm allowed.
 *
 * An input starting "SIGN\n" is instead HEADER "\n" PAYLOAD: the target
 * signs it with HS256 and the client secret, so that the fuzzer gets past
 * the signature and explores the header and claim checks (the seeds in
 * corpus/token/sign-* are such inputs). */
#include <string.h>

#include <apr_strings.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "bcl_b64url.h"
#include "fuzz_common.h"
#include "fuzz_keys.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_env();
    return 0;
}

/* HEADER "\n" PAYLOAD -> a compact JWS signed HS256 with the client secret. */
static const char *sign_hs256(apr_pool_t *p, const char *in, size_t len, size_t *out_len)
{
    const char *nl = memchr(in, '\n', len);
    const char *input;
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    const char *tok;

    if (nl == NULL)
        return NULL;
    input = apr_pstrcat(p, bcl_b64url_encode(p, (const unsigned char *)in, (apr_size_t)(nl - in)), ".",
                        bcl_b64url_encode(p, (const unsigned char *)nl + 1, len - (size_t)(nl - in) - 1),
                        NULL);
    if (HMAC(EVP_sha256(), FUZZ_CLIENT_SECRET, (int)strlen(FUZZ_CLIENT_SECRET),
             (const unsigned char *)input, strlen(input), mac, &mac_len) == NULL)
        return NULL;
    tok = apr_pstrcat(p, input, ".", bcl_b64url_encode(p, mac, mac_len), NULL);
    *out_len = strlen(tok);
    return tok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool_new();
    if (size >= 5 && memcmp(data, "SIGN\n", 5) == 0) {
        size_t len = 0;
        const char *tok = sign_hs256(p, (const char *)data + 5, size - 5, &len);
        if (tok != NULL)
            fuzz_validate(p, tok, len);
    } else {
        fuzz_validate(p, (const char *)data, size);
    }
    fuzz_pool_destroy(p);
    return 0;
}
