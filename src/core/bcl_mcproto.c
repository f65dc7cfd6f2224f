#include <stdio.h>
#include <string.h>
#include "bcl_mcproto.h"

int bcl_mc_key_ok(const char *key, size_t len)
{
    if (len == 0 || len > BCL_MC_KEY_MAX)
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)key[i];
        if (c <= 32 || c == 127)
            return 0;
    }
    return 1;
}

size_t bcl_mc_get_command(char *out, size_t cap, const char *verb, int n, const char *const keys[])
{
    size_t used = strlen(verb);

    if (n < 1 || cap < used + 3 || (strcmp(verb, "get") != 0 && strcmp(verb, "gets") != 0))
        return 0;
    memcpy(out, verb, used);
    for (int i = 0; i < n; i++) {
        size_t k = strlen(keys[i]);
        if (!bcl_mc_key_ok(keys[i], k) || cap - used < k + 1 + 3)
            return 0;
        out[used++] = ' ';
        memcpy(out + used, keys[i], k);
        used += k;
    }
    out[used++] = '\r';
    out[used++] = '\n';
    return used;
}

/* set, add or cas (with_version) */
static size_t storage_command(char *out, size_t cap, const char *verb, const char *key, uint32_t exptime,
                              const char *data, size_t len, int with_version, uint64_t version)
{
    int n;

    if (!bcl_mc_key_ok(key, strlen(key)) || exptime == 0)
        return 0;
    if (with_version)
        n = snprintf(out, cap, "%s %s 0 %u %zu %llu\r\n", verb, key, (unsigned)exptime, len,
                     (unsigned long long)version);
    else
        n = snprintf(out, cap, "%s %s 0 %u %zu\r\n", verb, key, (unsigned)exptime, len);
    if (n < 0 || (size_t)n >= cap || cap - (size_t)n < len + 2)
        return 0;
    memcpy(out + n, data, len);
    out[(size_t)n + len] = '\r';
    out[(size_t)n + len + 1] = '\n';
    return (size_t)n + len + 2;
}

size_t bcl_mc_store_command(char *out, size_t cap, const char *verb, const char *key,
                            uint32_t exptime, const char *data, size_t len)
{
    if (strcmp(verb, "set") != 0 && strcmp(verb, "add") != 0)
        return 0;
    return storage_command(out, cap, verb, key, exptime, data, len, 0, 0);
}

size_t bcl_mc_cas_command(char *out, size_t cap, const char *key, uint32_t exptime, const char *data, size_t len,
                          uint64_t version)
{
    return storage_command(out, cap, "cas", key, exptime, data, len, 1, version);
}

size_t bcl_mc_delete_command(char *out, size_t cap, const char *key)
{
    int n;
    if (!bcl_mc_key_ok(key, strlen(key)))
        return 0;
    n = snprintf(out, cap, "delete %s\r\n", key);
    return n < 0 || (size_t)n >= cap ? 0 : (size_t)n;
}

static long line_len(const char *p, const char *end)
{
    for (const char *q = p; q + 1 < end; q++) {
        if (q[0] == '\r' && q[1] == '\n')
            return (long)(q - p);
    }
    return -1;
}

static int starts(const char *p, long n, const char *word)
{
    size_t w = strlen(word);
    return (size_t)n >= w && memcmp(p, word, w) == 0 && ((size_t)n == w || p[w] == ' ');
}

static int is_error_line(const char *p, long n)
{
    return starts(p, n, "ERROR") || starts(p, n, "CLIENT_ERROR") || starts(p, n, "SERVER_ERROR");
}

/* "VALUE <key> <flags> <bytes>[ <cas>]" */
static int parse_value_header(const char *p, long n, bcl_mc_value_t *v, size_t *bytes)
{
    const char *end = p + n, *k, *q;
    unsigned long long b = 0;
    int digits = 0;

    if (!starts(p, n, "VALUE") || n < 7)
        return -1;
    k = p + 6;
    for (q = k; q < end && *q != ' '; q++)
        ;
    if (q == k || q == end)
        return -1;
    v->key = k;
    v->key_len = (size_t)(q - k);
    for (q++; q < end && *q >= '0' && *q <= '9'; q++)   /* flags */
        digits++;
    if (digits == 0 || q == end || *q != ' ')
        return -1;
    digits = 0;
    for (q++; q < end && *q >= '0' && *q <= '9'; q++) {
        if (++digits > 9)
            return -1;
        b = b * 10 + (unsigned)(*q - '0');
    }
    if (digits == 0 || (q != end && *q != ' '))
        return -1;
    *bytes = (size_t)b;
    v->cas = 0;
    v->has_cas = 0;
    if (q == end)
        return 0;
    /* " <cas>": a 64-bit unsigned number, nothing after it */
    digits = 0;
    for (q++; q < end && *q >= '0' && *q <= '9'; q++) {
        unsigned d = (unsigned)(*q - '0');
        if (++digits > 20 || v->cas > (UINT64_MAX - d) / 10)
            return -1;
        v->cas = v->cas * 10 + d;
    }
    if (digits == 0 || q != end)
        return -1;
    v->has_cas = 1;
    return 0;
}

bcl_mc_status_t bcl_mc_parse_values(const char *buf, size_t len, bcl_mc_value_t *vals, size_t max,
                                    size_t *n, size_t *consumed)
{
    const char *p = buf, *end = buf + len;
    long ln;

    *n = 0;
    for (;;) {
        if ((ln = line_len(p, end)) < 0)
            return end - p > 1024 ? BCL_MC_BAD : BCL_MC_INCOMPLETE;
        if (ln == 3 && memcmp(p, "END", 3) == 0) {
            *consumed = (size_t)(p + 5 - buf);
            return BCL_MC_OK;
        }
        if (is_error_line(p, ln))
            return BCL_MC_SERVER_ERROR;
        bcl_mc_value_t v;
        size_t bytes;
        if (*n >= max || parse_value_header(p, ln, &v, &bytes) != 0)
            return BCL_MC_BAD;
        p += ln + 2;
        if ((size_t)(end - p) < bytes + 2)
            return bytes > 1024 * 1024 ? BCL_MC_BAD : BCL_MC_INCOMPLETE;
        if (p[bytes] != '\r' || p[bytes + 1] != '\n')
            return BCL_MC_BAD;
        v.data = p;
        v.len = bytes;
        vals[(*n)++] = v;
        p += bytes + 2;
    }
}

bcl_mc_status_t bcl_mc_parse_reply(const char *buf, size_t len, bcl_mc_reply_t *reply, size_t *consumed)
{
    static const struct { const char *word; bcl_mc_reply_t reply; } words[] = {
        { "STORED", BCL_MC_STORED }, { "NOT_STORED", BCL_MC_NOT_STORED }, { "EXISTS", BCL_MC_EXISTS },
        { "NOT_FOUND", BCL_MC_NOT_FOUND }, { "DELETED", BCL_MC_DELETED },
    };
    long ln = line_len(buf, buf + len);

    if (ln < 0)
        return len > 1024 ? BCL_MC_BAD : BCL_MC_INCOMPLETE;
    *consumed = (size_t)ln + 2;
    if (is_error_line(buf, ln))
        return BCL_MC_SERVER_ERROR;
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        if ((size_t)ln == strlen(words[i].word) && memcmp(buf, words[i].word, (size_t)ln) == 0) {
            *reply = words[i].reply;
            return BCL_MC_OK;
        }
    }
    return BCL_MC_BAD;
}
