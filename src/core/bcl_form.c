#include <string.h>
#include <apr_strings.h>
#include "bcl_form.h"

#define FORM_TYPE "application/x-www-form-urlencoded"

int bcl_form_content_type_ok(const char *ct)
{
    apr_size_t n = sizeof(FORM_TYPE) - 1;

    if (ct == NULL)
        return 0;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    if (strncasecmp(ct, FORM_TYPE, n) != 0)
        return 0;
    ct += n;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    return *ct == '\0' || *ct == ';';
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Percent-decodes s[0..len) ('+' is a space) into a pool string. */
static int form_unescape(apr_pool_t *p, const char *s, apr_size_t len,
                         char **out, apr_size_t *out_len)
{
    char *buf;
    apr_size_t o = 0;

    /* a logout token (base64url and dots) has nothing to decode: one copy */
    if (memchr(s, '%', len) == NULL && memchr(s, '+', len) == NULL) {
        *out = apr_pstrmemdup(p, s, len);
        *out_len = len;
        return 0;
    }
    buf = apr_palloc(p, len + 1);
    for (apr_size_t i = 0; i < len; i++) {
        if (s[i] == '%') {
            int hi, lo;
            if (len - i < 3)
                return -1;
            hi = hex_value(s[i + 1]);
            lo = hex_value(s[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            buf[o++] = (char)(hi * 16 + lo);
            i += 2;
        } else if (s[i] == '+') {
            buf[o++] = ' ';
        } else {
            buf[o++] = s[i];
        }
    }
    buf[o] = '\0';
    *out = buf;
    *out_len = o;
    return 0;
}

bcl_form_status_t bcl_form_logout_token(apr_pool_t *p, const char *body, apr_size_t len,
                                        const char **token, apr_size_t *token_len)
{
    static const char name_wanted[] = "logout_token";
    const char *found = NULL;
    apr_size_t found_len = 0;
    apr_size_t i = 0;

    while (i < len) {
        apr_size_t start = i, eq = (apr_size_t)-1;
        const char *amp = memchr(body + i, '&', len - i);
        const char *sep;
        i = amp ? (apr_size_t)(amp - body) : len;
        sep = memchr(body + start, '=', i - start);
        if (sep != NULL)
            eq = (apr_size_t)(sep - body);
        apr_size_t end = i;
        i++; /* skip '&' */
        if (end == start)
            continue;
        apr_size_t name_end = eq == (apr_size_t)-1 ? end : eq;
        char *name;
        apr_size_t name_len;
        if (form_unescape(p, body + start, name_end - start, &name, &name_len) != 0)
            continue; /* a malformed unknown parameter is ignored like any unknown one */
        if (name_len != sizeof(name_wanted) - 1 || memcmp(name, name_wanted, name_len) != 0)
            continue;
        if (found != NULL)
            return BCL_FORM_DUPLICATE;
        if (eq == (apr_size_t)-1) {
            found = "";
            found_len = 0;
        } else {
            found = body + eq + 1;
            found_len = end - eq - 1;
        }
    }
    if (found == NULL)
        return BCL_FORM_MISSING;
    if (found_len == 0)
        return BCL_FORM_EMPTY;

    char *value;
    apr_size_t value_len;
    if (form_unescape(p, found, found_len, &value, &value_len) != 0)
        return BCL_FORM_MALFORMED;
    if (value_len == 0 || memchr(value, '\0', value_len) != NULL)
        return value_len == 0 ? BCL_FORM_EMPTY : BCL_FORM_MALFORMED;
    *token = value;
    *token_len = value_len;
    return BCL_FORM_OK;
}
