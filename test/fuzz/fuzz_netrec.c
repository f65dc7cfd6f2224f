/* libFuzzer target: the network record decoder (bcl_netrec_decode), on the
 * values a hostile or broken memcached or redis could return under our
 * prefix. The input is one value's bytes (what the RESP bulk string or the
 * memcached VALUE block carried). Checked:
 *   - a refused value leaves the record all zero (the store treats it as
 *     absent);
 *   - an accepted value has a storable kind, no key, and an issuer
 *     fingerprint only when it is a binding;
 *   - an accepted record that encodes again decodes to the same record, and
 *     its encoding and key names stay within their bounds. */
#include <stdlib.h>
#include <string.h>

#include "bcl_netrec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int all_zero(const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        if (b[i] != 0)
            return 0;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* an exact-size heap copy: a read past the end is caught */
    char *buf = malloc(size ? size : 1);
    bcl_record_t rec, again;
    char enc[BCL_NET_VALUE_MAX], key[BCL_NET_KEY_MAX];
    size_t len;

    if (size)
        memcpy(buf, data, size);
    memset(&rec, 0xa5, sizeof(rec));
    if (bcl_netrec_decode(buf, size, &rec) != 0) {
        if (!all_zero(&rec, sizeof(rec)))
            abort();
        free(buf);
        return 0;
    }
    if (bcl_netrec_kind_letter(rec.kind) == 0 || !all_zero(&rec.key, sizeof(rec.key))
        || (rec.kind != BCL_REC_BINDING && !all_zero(rec.iss_fp, sizeof(rec.iss_fp))))
        abort();

    /* values of extreme width may not encode again (0); any that does must
     * round-trip */
    len = bcl_netrec_encode(enc, &rec);
    if (len >= BCL_NET_VALUE_MAX)
        abort();
    if (len > 0) {
        if (enc[len] != '\0' || bcl_netrec_decode(enc, len, &again) != 0
            || memcmp(&again, &rec, sizeof(rec)) != 0)
            abort();
    }

    /* the names the store would look the record's identities up under */
    for (int kind = BCL_REC_REVOKED_SID; kind < BCL_REC_KINDS; kind++) {
        len = bcl_netrec_key(key, BCL_NET_DEFAULT_PREFIX, kind, &rec.sid_key);
        if (len == 0 || len >= BCL_NET_KEY_MAX || key[len] != '\0' || strlen(key) != len)
            abort();
    }
    free(buf);
    return 0;
}
