#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>
#include <apr_uri.h>
#include <jansson.h>
#include "bcl_keysource.h"

static int host_is_loopback(const char *host)
{
    if (strcasecmp(host, "localhost") == 0 || strcmp(host, "::1") == 0)
        return 1;
    /* 127.0.0.0/8 written as a dotted quad */
    if (strncmp(host, "127.", 4) == 0) {
        int dots = 0;
        for (const char *c = host; *c; c++) {
            if (*c == '.')
                dots++;
            else if (!isdigit((unsigned char)*c))
                return 0;
        }
        return dots == 3;
    }
    return 0;
}

int bcl_keysource_check_url(apr_pool_t *p, const char *url, int *loopback_http, const char **err)
{
    apr_uri_t u;

    *loopback_http = 0;
    if (url == NULL || *url == '\0') {
        *err = "the URL is empty";
        return -1;
    }
    if (strlen(url) > BCL_KEYSOURCE_MAX_URL) {
        *err = apr_psprintf(p, "the URL is longer than %d characters", BCL_KEYSOURCE_MAX_URL);
        return -1;
    }
    for (const char *c = url; *c; c++) {
        if ((unsigned char)*c <= 0x20 || *c == 0x7f) {
            *err = "the URL contains a space or a control character";
            return -1;
        }
    }
    if (apr_uri_parse(p, url, &u) != APR_SUCCESS || u.scheme == NULL || u.hostname == NULL
        || *u.hostname == '\0') {
        *err = "not an absolute URL with a host";
        return -1;
    }
    if (u.user != NULL || u.password != NULL) {
        *err = "user or password in the URL is not supported";
        return -1;
    }
    if (u.fragment != NULL) {
        *err = "a URL with a fragment (#...) is not a key or metadata URL";
        return -1;
    }
    if (strcasecmp(u.scheme, "https") == 0)
        return 0;
    if (strcasecmp(u.scheme, "http") == 0) {
        if (host_is_loopback(u.hostname)) {
            *loopback_http = 1;
            return 0;
        }
        *err = "plain http:// is allowed only to a loopback host (127.0.0.1, ::1, localhost); use https://";
        return -1;
    }
    *err = apr_psprintf(p, "scheme \"%s\" is not https", u.scheme);
    return -1;
}

/* Advances past optional whitespace and commas. */
static const char *skip_sep(const char *s)
{
    while (*s == ' ' || *s == '\t' || *s == ',')
        s++;
    return s;
}

long bcl_keysource_max_age(const char *cc)
{
    long max_age = -1;
    int no_cache = 0;

    if (cc == NULL)
        return -1;
    for (const char *s = skip_sep(cc); *s; s = skip_sep(s)) {
        const char *name = s;
        apr_size_t name_len;
        while (*s && *s != '=' && *s != ',' && *s != ' ' && *s != '\t')
            s++;
        name_len = (apr_size_t)(s - name);
        while (*s == ' ' || *s == '\t')
            s++;
        const char *val = NULL;
        apr_size_t val_len = 0;
        if (*s == '=') {
            s++;
            while (*s == ' ' || *s == '\t')
                s++;
            if (*s == '"') {
                val = ++s;
                while (*s && *s != '"')
                    s++;
                val_len = (apr_size_t)(s - val);
                if (*s == '"')
                    s++;
            } else {
                val = s;
                while (*s && *s != ',' && *s != ' ' && *s != '\t')
                    s++;
                val_len = (apr_size_t)(s - val);
            }
        }
        /* skip anything up to the next directive */
        while (*s && *s != ',')
            s++;
        if ((name_len == 8 && strncasecmp(name, "no-cache", 8) == 0)
            || (name_len == 8 && strncasecmp(name, "no-store", 8) == 0)) {
            no_cache = 1;
        } else if (name_len == 7 && strncasecmp(name, "max-age", 7) == 0 && val != NULL && val_len > 0) {
            long v = 0;
            apr_size_t i;
            for (i = 0; i < val_len && isdigit((unsigned char)val[i]); i++)
                v = v > 100000000L ? v : v * 10 + (val[i] - '0');
            if (i == val_len)   /* a malformed max-age is ignored (RFC 9111, 4.2.1) */
                max_age = v;
        }
    }
    return no_cache ? 0 : max_age;
}

long bcl_keysource_refresh_delay(long max_age, long min, long max)
{
    if (min > max)
        min = max;
    if (max_age < 0)
        return max;
    if (max_age < min)
        return min;
    return max_age > max ? max : max_age;
}

long bcl_keysource_retry_delay(unsigned failures, long max)
{
    long d = 5;
    for (unsigned i = 1; i < failures && d < 300; i++)
        d *= 2;
    if (d > 300)
        d = 300;
    if (d > max)
        d = max;
    return d < 1 ? 1 : d;
}

int bcl_keysource_parse_metadata(apr_pool_t *p, const char *json, apr_size_t len,
                                 const char **issuer, const char **jwks_uri, const char **err)
{
    json_error_t jerr;
    json_t *doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    json_t *iss, *uri;
    int loopback;
    int rc = -1;

    if (doc == NULL) {
        *err = apr_psprintf(p, "not JSON: %s (line %d)", jerr.text, jerr.line);
        return -1;
    }
    if (!json_is_object(doc)) {
        *err = "not a JSON object";
        goto out;
    }
    iss = json_object_get(doc, "issuer");
    uri = json_object_get(doc, "jwks_uri");
    if (!json_is_string(iss) || json_string_length(iss) == 0) {
        *err = "no \"issuer\" string";
        goto out;
    }
    if (json_string_length(iss) > BCL_KEYSOURCE_MAX_ISSUER || strlen(json_string_value(iss)) != json_string_length(iss)) {
        *err = "\"issuer\" is too long or contains a NUL character";
        goto out;
    }
    if (!json_is_string(uri) || json_string_length(uri) == 0) {
        *err = "no \"jwks_uri\" string";
        goto out;
    }
    if (strlen(json_string_value(uri)) != json_string_length(uri)) {
        *err = "\"jwks_uri\" contains a NUL character";
        goto out;
    }
    if (bcl_keysource_check_url(p, json_string_value(uri), &loopback, err) != 0) {
        *err = apr_psprintf(p, "\"jwks_uri\" is not usable: %s", *err);
        goto out;
    }
    /* a URL taken from a fetched document is never fetched over plain http,
     * not even on loopback: that exception is for URLs the administrator wrote */
    if (strncasecmp(json_string_value(uri), "https://", 8) != 0) {
        *err = apr_psprintf(p, "\"jwks_uri\" %s is not https://: a URL taken from the OP's document is never "
                            "fetched over plain http", json_string_value(uri));
        goto out;
    }
    *issuer = apr_pstrdup(p, json_string_value(iss));
    *jwks_uri = apr_pstrdup(p, json_string_value(uri));
    rc = 0;
out:
    json_decref(doc);
    return rc;
}
