/* bcl-check: validate a logout token offline, with the module's own core.
 * What an admin runs when an OP's logout tokens are refused. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <apr_tables.h>
#include "bcl_fetch.h"
#include "bcl_keyset.h"
#include "bcl_keysource.h"
#include "bcl_token.h"

static const char usage[] =
    "usage: bcl-check --issuer ISS --client-id ID [--client-id ID...]\n"
    "                 [--jwks FILE] [--jwks-uri URL | --metadata URL [--ca-file FILE]]\n"
    "                 [--secret SECRET] [--decryption-key FILE...]\n"
    "                 [--alg ALG...] [--require-sid] [--no-require-exp] [--require-encryption]\n"
    "                 [--clock-skew SECONDS] [--now EPOCH] [TOKEN | -]\n"
    "Validates a back-channel logout token as mod_backchannel_logout would.\n"
    "The token comes from the argument, or from standard input when it is '-' or absent.\n"
    "--jwks-uri and --metadata fetch the OP's keys (and, with --metadata, the issuer) as the module does.\n"
    "Prints 'valid: ...' (exit 0) or 'invalid: CODE: DETAIL' (exit 1); exit 2 on usage or key errors.\n";

static void stderr_log(void *baton, bcl_log_level_t level, const char *tag, const char *msg)
{
    (void)baton; (void)level;
    fprintf(stderr, "bcl-check: %s: %s\n", tag, msg);
}

static int die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int die(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "bcl-check: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return 2;
}

static char *read_stream(apr_pool_t *p, FILE *f, apr_size_t *len)
{
    apr_size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    size_t got;

    while (buf != NULL && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            char *bigger = cap < (64u << 20) ? realloc(buf, cap * 2) : NULL;
            if (bigger == NULL) {
                free(buf);
                return NULL;
            }
            buf = bigger;
            cap *= 2;
        }
    }
    if (buf == NULL)
        return NULL;
    char *out = apr_pstrmemdup(p, buf, n);
    free(buf);
    *len = n;
    return out;
}

static char *read_file(apr_pool_t *p, const char *path, apr_size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *data;
    if (f == NULL)
        return NULL;
    data = read_stream(p, f, len);
    fclose(f);
    return data;
}

/* Trims surrounding whitespace (a token pasted from a log or a file). */
static const char *trim(const char *s, apr_size_t *len)
{
    while (*len > 0 && (s[*len - 1] == '\n' || s[*len - 1] == '\r' || s[*len - 1] == ' ' || s[*len - 1] == '\t'))
        (*len)--;
    while (*len > 0 && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')) {
        s++;
        (*len)--;
    }
    return s;
}

/* Fetches keys as the module does (same URL rules, TLS always verified).
 * With `metadata_url`, the issuer comes from the discovery document; a
 * given --issuer must equal it. */
static int fetch_keys(apr_pool_t *p, bcl_keyset_t *keys, const bcl_logger_t *logger, const char *metadata_url,
                      const char *jwks_uri, const char *ca_file, const char **issuer)
{
    bcl_fetch_opts_t opts = { ca_file, NULL, 5000, 10000, 1024 * 1024, "bcl-check", NULL, NULL };
    bcl_fetch_result_t res;
    const char *err = NULL, *url = metadata_url ? metadata_url : jwks_uri;
    int loopback;

    if (bcl_keysource_check_url(p, url, &loopback, &err) != 0)
        return die("%s: %s", url, err);
    if (bcl_fetch_global_init() != 0)
        return die("libcurl cannot be initialised%s%s", "", "");
    if (metadata_url != NULL) {
        const char *found_issuer = NULL;
        if (bcl_fetch_get(p, metadata_url, &opts, &res) != BCL_FETCH_OK)
            return die("metadata %s: %s", metadata_url, res.error);
        if (bcl_keysource_parse_metadata(p, res.body, res.len, &found_issuer, &jwks_uri, &err) != 0)
            return die("metadata %s is refused: %s", metadata_url, err);
        if (*issuer != NULL && strcmp(*issuer, found_issuer) != 0) {
            fprintf(stderr, "bcl-check: --issuer \"%s\" differs from the issuer \"%s\" in the metadata\n",
                    *issuer, found_issuer);
            return 2;
        }
        *issuer = found_issuer;
    }
    if (bcl_fetch_get(p, jwks_uri, &opts, &res) != BCL_FETCH_OK)
        return die("JWKS %s: %s", jwks_uri, res.error);
    if (bcl_keyset_add_jwks(keys, res.body, res.len, logger, &err) != 0)
        return die("JWKS %s is refused: %s", jwks_uri, err);
    fprintf(stderr, "bcl-check: %d key(s) fetched from %s\n", bcl_keyset_count(keys), jwks_uri);
    return 0;
}

static int run(apr_pool_t *p, int argc, const char *const *argv)
{
    const char *jwks_uri = NULL, *metadata_url = NULL, *ca_file = NULL;
    apr_array_header_t *client_ids = apr_array_make(p, 2, sizeof(const char *));
    bcl_keyset_t *keys = bcl_keyset_create(p);
    bcl_logger_t logger = { stderr_log, NULL };
    bcl_policy_t policy = { 0 };
    bcl_verdict_t v;
    const char *token_arg = NULL, *err = NULL;
    long long now = (long long)time(NULL);
    int have_keys = 0;

    policy.require_exp = 1;
    policy.clock_skew = 60;
    policy.client_ids = client_ids;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        int takes = 1;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage, stdout);
            return 0;
        } else if (strcmp(a, "--require-sid") == 0) {
            policy.require_sid = 1; takes = 0;
        } else if (strcmp(a, "--no-require-exp") == 0) {
            policy.require_exp = 0; takes = 0;
        } else if (strcmp(a, "--require-encryption") == 0) {
            policy.require_encryption = 1; takes = 0;
        } else if (a[0] == '-' && a[1] == '-') {
            if (val == NULL)
                return die("%s needs a value%s", a, "");
            if (strcmp(a, "--issuer") == 0) {
                policy.issuer = val;
            } else if (strcmp(a, "--client-id") == 0) {
                APR_ARRAY_PUSH(client_ids, const char *) = val;
            } else if (strcmp(a, "--alg") == 0) {
                int alg = bcl_alg_from_name(val);
                if (alg < 0)
                    return die("unknown algorithm \"%s\"%s", val, "");
                policy.allowed_algs |= BCL_ALG_BIT(alg);
            } else if (strcmp(a, "--jwks") == 0) {
                apr_size_t len;
                char *data = read_file(p, val, &len);
                if (data == NULL)
                    return die("cannot read %s: %s", val, strerror(errno));
                if (bcl_keyset_add_jwks(keys, data, len, &logger, &err) != 0)
                    return die("%s: %s", val, err);
                have_keys = 1;
            } else if (strcmp(a, "--jwks-uri") == 0) {
                jwks_uri = val;
            } else if (strcmp(a, "--metadata") == 0) {
                metadata_url = val;
            } else if (strcmp(a, "--ca-file") == 0) {
                ca_file = val;
            } else if (strcmp(a, "--secret") == 0) {
                if (bcl_keyset_set_client_secret(keys, val, strlen(val), &err) != 0)
                    return die("--secret: %s%s", err, "");
                have_keys = 1;
            } else if (strcmp(a, "--decryption-key") == 0) {
                apr_size_t len;
                char *data = read_file(p, val, &len);
                if (data == NULL)
                    return die("cannot read %s: %s", val, strerror(errno));
                if (bcl_keyset_add_decryption_key(keys, data, len, &err) != 0)
                    return die("%s: %s", val, err);
            } else if (strcmp(a, "--clock-skew") == 0) {
                policy.clock_skew = atol(val);
            } else if (strcmp(a, "--now") == 0) {
                now = atoll(val);
            } else {
                return die("unknown option %s%s", a, "");
            }
        } else {
            if (token_arg != NULL)
                return die("more than one token given%s%s", "", "");
            token_arg = a;
            takes = 0;
        }
        i += takes;
    }
    if (jwks_uri != NULL && metadata_url != NULL)
        return die("use --jwks-uri or --metadata, not both%s%s", "", "");
    if (jwks_uri != NULL || metadata_url != NULL) {
        int rc = fetch_keys(p, keys, &logger, metadata_url, jwks_uri, ca_file, &policy.issuer);
        if (rc != 0)
            return rc;
        have_keys = 1;
    }
    if (policy.issuer == NULL || client_ids->nelts == 0 || !have_keys) {
        fputs(usage, stderr);
        return die("--issuer (or --metadata), --client-id and --jwks, --jwks-uri, --metadata or --secret "
                   "are required%s%s", "", "");
    }
    if (policy.allowed_algs == 0)
        policy.allowed_algs = BCL_ALG_BIT(BCL_ALG_RS256);

    apr_size_t len;
    const char *token;
    if (token_arg == NULL || strcmp(token_arg, "-") == 0) {
        token = read_stream(p, stdin, &len);
        if (token == NULL)
            return die("cannot read the token from standard input%s%s", "", "");
    } else {
        token = token_arg;
        len = strlen(token_arg);
    }
    token = trim(token, &len);

    if (bcl_token_validate(p, token, len, keys, &policy, now, &v) != BCL_OK) {
        printf("invalid: %s: %s\n", bcl_reason_code(v.reason), v.detail ? v.detail : bcl_reason_text(v.reason));
        if (v.alg || v.kid || v.iss || v.jti)
            printf("  alg=%s kid=%s iss=%s jti=%s\n", v.alg ? v.alg : "-", v.kid ? v.kid : "-",
                   v.iss ? v.iss : "-", v.jti ? v.jti : "-");
        return 1;
    }
    printf("valid: iss=%s sub=%s sid=%s jti=%s alg=%s iat=%lld exp=%lld%s\n", v.iss, v.sub ? v.sub : "-",
           v.sid ? v.sid : "-", v.jti, v.alg, v.iat, v.exp, v.encrypted ? " encrypted" : "");
    return 0;
}

int main(int argc, const char *const *argv)
{
    apr_pool_t *pool;
    int rc;

    apr_app_initialize(&argc, &argv, NULL);
    apr_pool_create(&pool, NULL);
    rc = run(pool, argc, argv);
    apr_pool_destroy(pool);
    bcl_fetch_global_cleanup();
    apr_terminate();
    return rc;
}
