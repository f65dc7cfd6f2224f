#include <string.h>
#include <strings.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <apr_strings.h>
#include "bcl_admin_req.h"

static int digest(const char *s, size_t len, unsigned char out[BCL_ADMIN_DIGEST_LEN])
{
    unsigned int n = 0;
    return EVP_Digest(s, len, out, &n, EVP_sha256(), NULL) == 1 && n == BCL_ADMIN_DIGEST_LEN ? 0 : -1;
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

apr_array_header_t *bcl_admin_tokens_parse(apr_pool_t *p, const char *data, size_t len, const char **why)
{
    apr_array_header_t *out = apr_array_make(p, 4, sizeof(bcl_admin_token_t));
    const char *end = data + len, *line = data;
    int lineno = 0;

    while (line < end) {
        const char *eol = memchr(line, '\n', (size_t)(end - line)), *s = line, *e;
        if (eol == NULL)
            eol = end;
        lineno++;
        e = eol;
        if (e > s && e[-1] == '\r')
            e--;
        while (s < e && is_blank(*s))
            s++;
        while (e > s && is_blank(e[-1]))
            e--;
        line = eol + 1;
        if (s == e || *s == '#')
            continue;
        for (const char *c = s; c < e; c++) {
            if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7f) {
                *why = apr_psprintf(p, "line %d: a token is visible ASCII without spaces", lineno);
                return NULL;
            }
        }
        if (e - s < BCL_ADMIN_TOKEN_MIN || e - s > BCL_ADMIN_TOKEN_MAX) {
            *why = apr_psprintf(p, "line %d: a token has %d to %d characters (this one has %d)", lineno,
                                BCL_ADMIN_TOKEN_MIN, BCL_ADMIN_TOKEN_MAX, (int)(e - s));
            return NULL;
        }
        bcl_admin_token_t *t = apr_array_push(out);
        t->line = lineno;
        if (digest(s, (size_t)(e - s), t->d) != 0) {
            *why = apr_psprintf(p, "line %d: SHA-256 is not available", lineno);
            return NULL;
        }
    }
    if (out->nelts == 0) {
        *why = "no token in the file (one per line; # starts a comment)";
        return NULL;
    }
    return out;
}

int bcl_admin_token_find(const apr_array_header_t *tokens, const char *token, size_t len)
{
    unsigned char d[BCL_ADMIN_DIGEST_LEN];
    int line = 0;

    if (tokens == NULL || len < BCL_ADMIN_TOKEN_MIN || len > BCL_ADMIN_TOKEN_MAX || digest(token, len, d) != 0)
        return 0;
    for (int i = 0; i < tokens->nelts; i++) {
        const bcl_admin_token_t *t = &APR_ARRAY_IDX(tokens, i, bcl_admin_token_t);
        /* no early exit: every digest is compared */
        int same = CRYPTO_memcmp(d, t->d, BCL_ADMIN_DIGEST_LEN) == 0;
        line = same && line == 0 ? t->line : line;
    }
    return line;
}

const char *bcl_admin_bearer(apr_pool_t *p, const char *authorization)
{
    const char *s = authorization, *e;
    if (s == NULL || strncasecmp(s, "Bearer", 6) != 0 || !is_blank(s[6]))
        return NULL;
    s += 6;
    while (is_blank(*s))
        s++;
    e = s + strlen(s);
    while (e > s && is_blank(e[-1]))
        e--;
    return e > s ? apr_pstrmemdup(p, s, (apr_size_t)(e - s)) : NULL;
}

/* A member's string value: 0, or -1 with `*why`. */
static int string_member(apr_pool_t *p, const char *name, json_t *v, const char **out, const char **why)
{
    size_t n;
    if (!json_is_string(v)) {
        *why = apr_psprintf(p, "\"%s\" must be a string", name);
        return -1;
    }
    n = json_string_length(v);
    if (n == 0 || n > BCL_ADMIN_VALUE_MAX) {
        *why = apr_psprintf(p, "\"%s\" must have 1 to %d characters", name, BCL_ADMIN_VALUE_MAX);
        return -1;
    }
    *out = apr_pstrmemdup(p, json_string_value(v), n);
    return 0;
}

int bcl_admin_request_parse(apr_pool_t *p, const char *body, size_t len, bcl_admin_req_t *out, const char **why)
{
    json_error_t err;
    json_t *doc, *v;
    const char *name;
    int named = 0, rc = -1;

    memset(out, 0, sizeof(*out));
    if (len > BCL_ADMIN_BODY_MAX) {
        *why = apr_psprintf(p, "the body is larger than %d bytes", BCL_ADMIN_BODY_MAX);
        return -1;
    }
    /* duplicate members are refused: {"sub":"a","sub":"b"} has no one meaning */
    doc = json_loadb(body, len, JSON_REJECT_DUPLICATES, &err);
    if (doc == NULL) {
        *why = apr_psprintf(p, "the body is not valid JSON (%s at character %d)", err.text, err.position);
        return -1;
    }
    if (!json_is_object(doc)) {
        *why = "the body must be a JSON object";
        goto out;
    }
    json_object_foreach(doc, name, v) {
        if (strcmp(name, "iss") == 0) {
            if (string_member(p, name, v, &out->iss, why) != 0)
                goto out;
            continue;
        }
        if (strcmp(name, "sub") == 0 || strcmp(name, "sid") == 0) {
            if (string_member(p, name, v, &out->value, why) != 0)
                goto out;
            out->what = name[1] == 'u' ? BCL_ADMIN_SUB : BCL_ADMIN_SID;
        } else if (strcmp(name, "all") == 0) {
            if (!json_is_true(v)) {
                *why = "\"all\" must be true";
                goto out;
            }
            out->what = BCL_ADMIN_ALL;
        } else {
            *why = apr_psprintf(p, "unknown member \"%s\" (allowed: sub, sid, all, iss)",
                                apr_pstrndup(p, name, 64));
            goto out;
        }
        named++;
    }
    if (named != 1) {
        *why = named == 0 ? "the body names nothing to revoke: one of \"sub\", \"sid\" or \"all\""
                          : "the body must name exactly one of \"sub\", \"sid\" or \"all\"";
        goto out;
    }
    rc = 0;
out:
    json_decref(doc);
    if (rc != 0)
        memset(out, 0, sizeof(*out));
    return rc;
}
