/* The store's journal: an append-only file of store records that makes the
 * shared-memory table durable across full restarts and crashes.
 *
 * Layout: a 16-byte header ("BCLJ", version, frame payload size, zero),
 * then frames of [u32 payload length][u32 CRC32C][payload], integers
 * little-endian. A payload is one bcl_record_t, field by field; a record of
 * kind BCL_REC_EMPTY says "the record with this key was removed". Replaying
 * the frames in order rebuilds the table. A frame whose length or checksum is
 * wrong marks damage: the scanner reports where it starts and how long it is,
 * and resumes at the next offset where a whole valid frame begins, so a torn
 * write at the end, or a damaged block in the middle, loses only itself.
 *
 * This file is framing, scanning and replay over bytes in memory; the file
 * itself (open, append, fsync, compaction) is bcl_journal_file.c. */
#ifndef BCL_JOURNAL_H
#define BCL_JOURNAL_H

#include <stddef.h>
#include <stdint.h>
#include <apr_pools.h>
#include "bcl_log.h"
#include "bcl_record.h"
#include "bcl_table.h"

#define BCL_JOURNAL_HEADER_SIZE 16
#define BCL_JOURNAL_PAYLOAD_SIZE 80
#define BCL_JOURNAL_FRAME_SIZE (8 + BCL_JOURNAL_PAYLOAD_SIZE)
#define BCL_JOURNAL_VERSION 1u
/* Damaged regions reported one by one; more are only counted. */
#define BCL_JOURNAL_MAX_DAMAGE 8

/* CRC32C (Castagnoli), as in iSCSI and ext4: bcl_crc32c(0, "123456789", 9)
 * is 0xe3069283. */
uint32_t bcl_crc32c(uint32_t crc, const void *data, size_t len);

void bcl_journal_header(unsigned char out[BCL_JOURNAL_HEADER_SIZE]);

typedef enum {
    BCL_JOURNAL_HEADER_OK = 0,
    BCL_JOURNAL_HEADER_SHORT,   /* fewer bytes than a header, all a prefix of one: a new file */
    BCL_JOURNAL_HEADER_FOREIGN  /* not a journal of this version: never overwritten */
} bcl_journal_header_status_t;

bcl_journal_header_status_t bcl_journal_header_check(const unsigned char *data, size_t len);

/* Writes the frame of `rec` into `out` (BCL_JOURNAL_FRAME_SIZE bytes). */
void bcl_journal_encode(unsigned char out[BCL_JOURNAL_FRAME_SIZE], const bcl_record_t *rec);

typedef struct {
    uint64_t offset;    /* from the start of the file */
    uint64_t length;
} bcl_journal_damage_t;

typedef struct {
    uint64_t frames;            /* valid frames */
    uint64_t valid_end;         /* offset just after the last valid frame (or the header) */
    uint64_t damaged_bytes;     /* bytes in damaged regions, all of them */
    int ndamage;                /* regions in `damage` */
    int more_damage;            /* regions beyond BCL_JOURNAL_MAX_DAMAGE were not listed */
    bcl_journal_damage_t damage[BCL_JOURNAL_MAX_DAMAGE];
} bcl_journal_scan_t;

typedef void bcl_journal_entry_fn(void *baton, const bcl_record_t *rec);

/* Walks the frames of a whole file image (header included; the caller has
 * checked the header). Calls `fn` for each valid frame, in order. */
void bcl_journal_scan(const unsigned char *data, size_t len, bcl_journal_entry_fn *fn, void *baton,
                      bcl_journal_scan_t *out);

typedef struct {
    uint64_t applied;           /* live records put into the table */
    uint64_t removed;           /* removal frames applied */
    uint64_t expired;           /* records already expired: dropped */
    uint64_t dropped_full;      /* live records that did not fit the table */
} bcl_journal_replay_t;

/* Replays a file image into `t` at time `now`: later frames win, removals
 * remove, expired records are dropped. */
void bcl_journal_replay(bcl_table_t *t, const unsigned char *data, size_t len, int64_t now,
                        bcl_journal_scan_t *scan, bcl_journal_replay_t *replay);

#endif
