#include <stdio.h>
#include <string.h>
#include "bcl_resp.h"

size_t bcl_resp_command(char *out, size_t cap, int argc, const char *const argv[], const size_t lens[])
{
    size_t used = 0;
    int n = snprintf(out, cap, "*%d\r\n", argc);

    if (n < 0 || (size_t)n >= cap)
        return 0;
    used = (size_t)n;
    for (int i = 0; i < argc; i++) {
        n = snprintf(out + used, cap - used, "$%zu\r\n", lens[i]);
        if (n < 0 || (size_t)n >= cap - used || cap - used - (size_t)n < lens[i] + 2)
            return 0;
        used += (size_t)n;
        memcpy(out + used, argv[i], lens[i]);
        used += lens[i];
        out[used++] = '\r';
        out[used++] = '\n';
    }
    return used;
}

/* The line at p (up to CRLF): its length without CRLF, or -1 if incomplete. */
static long line_len(const char *p, const char *end)
{
    for (const char *q = p; q + 1 < end; q++) {
        if (q[0] == '\r' && q[1] == '\n')
            return (long)(q - p);
    }
    return -1;
}

static int parse_int(const char *p, size_t n, long long *out)
{
    int neg = 0;
    long long v = 0;
    size_t i = 0;

    if (n > 0 && p[0] == '-') {
        neg = 1;
        i = 1;
    }
    if (i == n || n - i > 18)
        return -1;
    for (; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    *out = neg ? -v : v;
    return 0;
}

/* One scalar at p; sets *next past it. */
static bcl_resp_status_t parse_scalar(const char *p, const char *end, bcl_resp_value_t *v, const char **next)
{
    long n;
    long long len;

    if (p >= end)
        return BCL_RESP_INCOMPLETE;
    if ((n = line_len(p, end)) < 0)
        return (end - p) > 64 * 1024 ? BCL_RESP_BAD : BCL_RESP_INCOMPLETE;
    memset(v, 0, sizeof(*v));
    switch (p[0]) {
    case '+':
    case '-':
        v->type = p[0] == '+' ? BCL_RESP_SIMPLE : BCL_RESP_ERROR;
        v->str = p + 1;
        v->len = (size_t)n - 1;
        *next = p + n + 2;
        return BCL_RESP_OK;
    case ':':
        v->type = BCL_RESP_INTEGER;
        if (parse_int(p + 1, (size_t)n - 1, &v->integer) != 0)
            return BCL_RESP_BAD;
        *next = p + n + 2;
        return BCL_RESP_OK;
    case '$':
        if (parse_int(p + 1, (size_t)n - 1, &len) != 0 || len < -1 || len > BCL_RESP_MAX_BULK)
            return BCL_RESP_BAD;
        if (len == -1) {
            v->type = BCL_RESP_NIL;
            *next = p + n + 2;
            return BCL_RESP_OK;
        }
        p += n + 2;
        if (end - p < len + 2)
            return BCL_RESP_INCOMPLETE;
        if (p[len] != '\r' || p[len + 1] != '\n')
            return BCL_RESP_BAD;
        v->type = BCL_RESP_BULK;
        v->str = p;
        v->len = (size_t)len;
        *next = p + len + 2;
        return BCL_RESP_OK;
    default:
        return BCL_RESP_BAD;
    }
}

bcl_resp_status_t bcl_resp_parse(const char *buf, size_t len, bcl_resp_reply_t *out, size_t *consumed)
{
    const char *p = buf, *end = buf + len;
    bcl_resp_status_t st;
    long n;
    long long count;

    memset(out, 0, sizeof(*out));
    if (len == 0)
        return BCL_RESP_INCOMPLETE;
    if (buf[0] != '*') {
        if ((st = parse_scalar(p, end, &out->top, &p)) != BCL_RESP_OK)
            return st;
        *consumed = (size_t)(p - buf);
        return BCL_RESP_OK;
    }
    if ((n = line_len(p, end)) < 0)
        return len > 64 ? BCL_RESP_BAD : BCL_RESP_INCOMPLETE;
    if (parse_int(p + 1, (size_t)n - 1, &count) != 0 || count < -1 || count > BCL_RESP_MAX_ELEMS)
        return BCL_RESP_BAD;
    p += n + 2;
    if (count == -1) {
        out->top.type = BCL_RESP_NIL;
    } else {
        out->top.type = BCL_RESP_ARRAY;
        for (long long i = 0; i < count; i++) {
            if (p < end && *p == '*')
                return BCL_RESP_BAD;   /* nested arrays: not used by the store */
            if ((st = parse_scalar(p, end, &out->elems[i], &p)) != BCL_RESP_OK)
                return st;
        }
        out->n = (size_t)count;
    }
    *consumed = (size_t)(p - buf);
    return BCL_RESP_OK;
}
