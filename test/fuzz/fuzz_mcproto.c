/* libFuzzer target: memcached answers, as a hostile or broken server could
 * send them. The first byte chooses the parser (a get's VALUE...END answer,
 * or the one-line answer to set/add/delete); the rest is what was read from
 * the socket. Values must point inside the buffer; an OK answer consumes at
 * least one byte and no more than it was given. */
#include <stdlib.h>
#include <string.h>

#include "bcl_mcproto.h"
#include "fuzz_common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_env();
    return 0;
}

static void check_inside(const char *buf, size_t len, const char *p, size_t n)
{
    if (n > len || p < buf || p + n > buf + len)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    int which = data[0] & 1;
    size_t len = size - 1;
    /* an exact-size heap copy: a read past the end is caught */
    char *buf = malloc(len ? len : 1);
    size_t consumed = 0;

    if (len)
        memcpy(buf, data + 1, len);
    if (which == 0) {
        bcl_mc_value_t vals[BCL_MC_MAX_VALUES];
        size_t n = 0;
        if (bcl_mc_parse_values(buf, len, vals, BCL_MC_MAX_VALUES, &n, &consumed) == BCL_MC_OK) {
            if (consumed == 0 || consumed > len || n > BCL_MC_MAX_VALUES)
                abort();
            for (size_t i = 0; i < n; i++) {
                check_inside(buf, consumed, vals[i].key, vals[i].key_len);
                check_inside(buf, consumed, vals[i].data, vals[i].len);
            }
        }
    } else {
        bcl_mc_reply_t reply;
        if (bcl_mc_parse_reply(buf, len, &reply, &consumed) == BCL_MC_OK) {
            if (consumed == 0 || consumed > len)
                abort();
        }
    }
    free(buf);
    return 0;
}
