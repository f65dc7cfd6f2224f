/* libFuzzer target: redis replies (RESP2), as a hostile or broken server
 * could send them. The input is the bytes read from the socket; replies are
 * parsed one after the other, as the store reads pipelined answers. Every
 * value must point inside the buffer and every reply must consume at least
 * one byte. */
#include <stdlib.h>
#include <string.h>

#include "bcl_resp.h"
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

static void check_inside(const char *buf, size_t len, const bcl_resp_value_t *v)
{
    if (v->type == BCL_RESP_SIMPLE || v->type == BCL_RESP_ERROR || v->type == BCL_RESP_BULK) {
        if (v->len > len || v->str < buf || v->str + v->len > buf + len)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* an exact-size heap copy: a read past the end is caught */
    char *buf = malloc(size ? size : 1);
    size_t off = 0;

    if (size)
        memcpy(buf, data, size);
    while (off < size) {
        bcl_resp_reply_t reply;
        size_t consumed = 0;
        bcl_resp_status_t st = bcl_resp_parse(buf + off, size - off, &reply, &consumed);
        if (st != BCL_RESP_OK)
            break;
        if (consumed == 0 || consumed > size - off || reply.n > BCL_RESP_MAX_ELEMS)
            abort();
        check_inside(buf + off, consumed, &reply.top);
        for (size_t i = 0; i < reply.n; i++)
            check_inside(buf + off, consumed, &reply.elems[i]);
        off += consumed;
    }
    free(buf);
    return 0;
}
