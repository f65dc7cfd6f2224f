/* libFuzzer target: a journal file image (header and frames), as read at
 * startup. It is checked, scanned and replayed into a small table; the
 * scanner must never read past the image, and the damage it reports must
 * add up to the bytes it did not accept. */
#include <stdlib.h>
#include <string.h>

#include "bcl_journal.h"
#include "fuzz_common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CAPACITY 64
#define NOW 1700000000LL

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_env();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* an exact-size copy: reading past the image is caught */
    unsigned char *img = malloc(size ? size : 1);
    void *mem = malloc(bcl_table_size(CAPACITY));
    bcl_journal_scan_t scan;
    bcl_journal_replay_t rep;

    if (img == NULL || mem == NULL)
        abort();
    memcpy(img, data, size);
    if (bcl_journal_header_check(img, size) == BCL_JOURNAL_HEADER_OK) {
        bcl_table_t *t = bcl_table_init(mem, CAPACITY);
        bcl_journal_replay(t, img, size, NOW, &scan, &rep);
        if (scan.frames * BCL_JOURNAL_FRAME_SIZE + scan.damaged_bytes + BCL_JOURNAL_HEADER_SIZE != size)
            abort();
        if (rep.applied + rep.expired + rep.removed + rep.dropped_full != scan.frames)
            abort();
        if (scan.valid_end > size)
            abort();
    }
    free(mem);
    free(img);
    return 0;
}
