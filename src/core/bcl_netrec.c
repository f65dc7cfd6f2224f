#include <stdio.h>
#include <string.h>
#include "bcl_netrec.h"

static const char hexdigits[] = "0123456789abcdef";

int bcl_netrec_prefix_ok(const char *prefix)
{
    size_t n = prefix ? strlen(prefix) : 0;
    if (n == 0 || n > BCL_NET_PREFIX_MAX)
        return 0;
    return prefix[strspn(prefix, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789:_.-")] == '\0';
}

char bcl_netrec_kind_letter(int kind)
{
    switch (kind) {
    case BCL_REC_REVOKED_SID: return 's';
    case BCL_REC_REVOKED_SUB: return 'u';
    case BCL_REC_BINDING: return 'c';
    case BCL_REC_JTI: return 'j';
    case BCL_REC_REVOKED_SUB_NOSID: return 'n';
    case BCL_REC_REVOKED_ISS: return 'i';
    default: return 0;
    }
}

static int kind_of_letter(char c)
{
    switch (c) {
    case 's': return BCL_REC_REVOKED_SID;
    case 'u': return BCL_REC_REVOKED_SUB;
    case 'c': return BCL_REC_BINDING;
    case 'j': return BCL_REC_JTI;
    case 'n': return BCL_REC_REVOKED_SUB_NOSID;
    case 'i': return BCL_REC_REVOKED_ISS;
    default: return BCL_REC_EMPTY;
    }
}

static char *put_hex(char *out, const bcl_hkey_t *k)
{
    for (int i = 0; i < BCL_KEY_LEN; i++) {
        *out++ = hexdigits[k->b[i] >> 4];
        *out++ = hexdigits[k->b[i] & 15];
    }
    return out;
}

size_t bcl_netrec_key(char *out, const char *prefix, int kind, const bcl_hkey_t *k)
{
    char letter = bcl_netrec_kind_letter(kind);
    size_t n;
    char *p;

    if (letter == 0 || !bcl_netrec_prefix_ok(prefix))
        return 0;
    n = strlen(prefix);
    memcpy(out, prefix, n);
    p = out + n;
    *p++ = letter;
    *p++ = ':';
    p = put_hex(p, k);
    *p = '\0';
    return (size_t)(p - out);
}

static char *put_key_or_dash(char *out, const bcl_hkey_t *k)
{
    if (bcl_hkey_is_zero(k)) {
        *out++ = '-';
        return out;
    }
    return put_hex(out, k);
}

size_t bcl_netrec_encode(char *out, const bcl_record_t *rec)
{
    char letter = bcl_netrec_kind_letter(rec->kind);
    unsigned char fp = 0;
    int n;
    char *p;

    if (letter == 0)
        return 0;
    /* at most 1+1+1+1 + 3 × (1 + 20) + 2 × (1 + 32) + 1 + 14 = 148 with
     * extreme numbers; real times (seconds and microseconds since 1970) are
     * far shorter, and snprintf bounds the rest */
    n = snprintf(out, BCL_NET_VALUE_MAX, "1 %c %lld %lld %lld ", letter, (long long)rec->expires,
                 (long long)rec->t_server, (long long)rec->t_op);
    if (n < 0 || n + 2 * (2 * BCL_KEY_LEN) + 2 + 1 + 2 * BCL_ISS_FP_LEN > BCL_NET_VALUE_MAX)
        return 0;
    p = out + n;
    p = put_key_or_dash(p, &rec->sid_key);
    *p++ = ' ';
    p = put_key_or_dash(p, &rec->sub_key);
    for (int i = 0; i < BCL_ISS_FP_LEN; i++)
        fp |= rec->iss_fp[i];
    if (fp != 0) {
        *p++ = ' ';
        for (int i = 0; i < BCL_ISS_FP_LEN; i++) {
            *p++ = hexdigits[rec->iss_fp[i] >> 4];
            *p++ = hexdigits[rec->iss_fp[i] & 15];
        }
    }
    *p = '\0';
    return (size_t)(p - out);
}

/* A signed decimal number ending at a space or at `end`. */
static int get_number(const char **pp, const char *end, int64_t *out)
{
    const char *p = *pp;
    int neg = 0, digits = 0;
    uint64_t v = 0;

    if (p < end && *p == '-') {
        neg = 1;
        p++;
    }
    while (p < end && *p >= '0' && *p <= '9') {
        if (++digits > 18)
            return -1;
        v = v * 10 + (uint64_t)(*p - '0');
        p++;
    }
    if (digits == 0)
        return -1;
    *out = neg ? -(int64_t)v : (int64_t)v;
    *pp = p;
    return 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

static int get_key_or_dash(const char **pp, const char *end, bcl_hkey_t *k)
{
    const char *p = *pp;
    memset(k, 0, sizeof(*k));
    if (p < end && *p == '-') {
        *pp = p + 1;
        return 0;
    }
    if (end - p < 2 * BCL_KEY_LEN)
        return -1;
    for (int i = 0; i < BCL_KEY_LEN; i++) {
        int hi = hexval(p[2 * i]), lo = hexval(p[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        k->b[i] = (unsigned char)(hi << 4 | lo);
    }
    *pp = p + 2 * BCL_KEY_LEN;
    return 0;
}

static int get_space(const char **pp, const char *end)
{
    if (*pp >= end || **pp != ' ')
        return -1;
    (*pp)++;
    return 0;
}

/* A binding's optional issuer fingerprint: " <14 hex digits>", absent in
 * values written before issuer cut-offs (and in every other kind). */
static int get_iss_fp(const char **pp, const char *end, bcl_record_t *rec)
{
    const char *p = *pp;
    unsigned char acc = 0;
    if (p == end)
        return 0;
    if (rec->kind != BCL_REC_BINDING || *p != ' ' || end - p < 1 + 2 * BCL_ISS_FP_LEN)
        return -1;
    p++;
    for (int i = 0; i < BCL_ISS_FP_LEN; i++) {
        int hi = hexval(p[2 * i]), lo = hexval(p[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        rec->iss_fp[i] = (uint8_t)(hi << 4 | lo);
        acc |= rec->iss_fp[i];
    }
    if (acc == 0)
        return -1;   /* never written: a zero fingerprint is left out */
    *pp = p + 2 * BCL_ISS_FP_LEN;
    return 0;
}

int bcl_netrec_decode(const char *data, size_t len, bcl_record_t *rec)
{
    const char *p = data, *end = data + len;
    int64_t expires, ts, top;

    memset(rec, 0, sizeof(*rec));
    if (len < 4 || p[0] != '1' || p[1] != ' ')
        return -1;
    rec->kind = (uint8_t)kind_of_letter(p[2]);
    p += 3;
    if (rec->kind == BCL_REC_EMPTY
        || get_space(&p, end) || get_number(&p, end, &expires)
        || get_space(&p, end) || get_number(&p, end, &ts)
        || get_space(&p, end) || get_number(&p, end, &top)
        || get_space(&p, end) || get_key_or_dash(&p, end, &rec->sid_key)
        || get_space(&p, end) || get_key_or_dash(&p, end, &rec->sub_key)
        || get_iss_fp(&p, end, rec)
        || p != end) {
        memset(rec, 0, sizeof(*rec));
        return -1;
    }
    rec->expires = expires;
    rec->t_server = ts;
    rec->t_op = top;
    return 0;
}

int64_t bcl_net_ttl(int64_t expires, int64_t now)
{
    return expires > now ? expires - now : 1;
}

uint32_t bcl_memcache_exptime(int64_t expires, int64_t now)
{
    int64_t ttl = bcl_net_ttl(expires, now);
    if (ttl <= BCL_MEMCACHE_RELATIVE_MAX)
        return (uint32_t)ttl;
    /* absolute: now + ttl, which is > 30 days after the epoch, never 0 */
    int64_t at = now + ttl;
    return at > (int64_t)UINT32_MAX ? UINT32_MAX : (uint32_t)at;
}

