#include "bcl_b64url.h"

static const char b64url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* The value of each character, 255 for one outside the alphabet: one table
 * look-up per character (the receiver decodes every token's three parts). */
static const unsigned char b64url_values[256] = {
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,  62, 255, 255,
     52,  53,  54,  55,  56,  57,  58,  59,  60,  61, 255, 255, 255, 255, 255, 255,
    255,   0,   1,   2,   3,   4,   5,   6,   7,   8,   9,  10,  11,  12,  13,  14,
     15,  16,  17,  18,  19,  20,  21,  22,  23,  24,  25, 255, 255, 255, 255,  63,
    255,  26,  27,  28,  29,  30,  31,  32,  33,  34,  35,  36,  37,  38,  39,  40,
     41,  42,  43,  44,  45,  46,  47,  48,  49,  50,  51, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
};

int bcl_b64url_decode(apr_pool_t *p, const char *in, apr_size_t len,
                      unsigned char **out, apr_size_t *out_len)
{
    const unsigned char *s = (const unsigned char *)in;
    apr_size_t rest = len % 4, whole = len - rest, o = 0, i;
    unsigned char *buf;

    if (rest == 1)
        return -1;
    buf = apr_palloc(p, whole / 4 * 3 + rest + 1);
    for (i = 0; i < whole; i += 4) {
        unsigned a = b64url_values[s[i]], b = b64url_values[s[i + 1]];
        unsigned c = b64url_values[s[i + 2]], d = b64url_values[s[i + 3]];
        if ((a | b | c | d) > 63)
            return -1;
        unsigned v = (a << 18) | (b << 12) | (c << 6) | d;
        buf[o++] = (unsigned char)(v >> 16);
        buf[o++] = (unsigned char)(v >> 8);
        buf[o++] = (unsigned char)v;
    }
    if (rest > 0) {
        unsigned a = b64url_values[s[i]], b = b64url_values[s[i + 1]];
        unsigned c = rest == 3 ? b64url_values[s[i + 2]] : 0;
        if ((a | b | c) > 63)
            return -1;
        unsigned v = (a << 18) | (b << 12) | (c << 6);
        /* Leftover bits must be zero: otherwise two strings decode alike. */
        if ((rest == 2 && (v & 0xffff) != 0) || (rest == 3 && (v & 0xff) != 0))
            return -1;
        buf[o++] = (unsigned char)(v >> 16);
        if (rest == 3)
            buf[o++] = (unsigned char)(v >> 8);
    }
    buf[o] = '\0';
    *out = buf;
    *out_len = o;
    return 0;
}

char *bcl_b64url_encode(apr_pool_t *p, const unsigned char *in, apr_size_t len)
{
    char *out = apr_palloc(p, (len + 2) / 3 * 4 + 1);
    apr_size_t o = 0, i = 0;

    for (; i + 2 < len; i += 3) {
        unsigned v = ((unsigned)in[i] << 16) | ((unsigned)in[i + 1] << 8) | in[i + 2];
        out[o++] = b64url_alphabet[(v >> 18) & 63];
        out[o++] = b64url_alphabet[(v >> 12) & 63];
        out[o++] = b64url_alphabet[(v >> 6) & 63];
        out[o++] = b64url_alphabet[v & 63];
    }
    if (len - i == 1) {
        unsigned v = (unsigned)in[i] << 16;
        out[o++] = b64url_alphabet[(v >> 18) & 63];
        out[o++] = b64url_alphabet[(v >> 12) & 63];
    } else if (len - i == 2) {
        unsigned v = ((unsigned)in[i] << 16) | ((unsigned)in[i + 1] << 8);
        out[o++] = b64url_alphabet[(v >> 18) & 63];
        out[o++] = b64url_alphabet[(v >> 12) & 63];
        out[o++] = b64url_alphabet[(v >> 6) & 63];
    }
    out[o] = '\0';
    return out;
}
