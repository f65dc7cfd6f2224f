/* A fixed-capacity hash table of store records in one block of memory (APR
 * shared memory in the module, plain memory in the unit tests). Linear
 * probing with backward-shift deletion: no tombstones, so a look-up costs
 * the same however long the table has run. Not locked: the caller holds the
 * store's mutex around every call, except bcl_table_read, which readers
 * call without it (a seqlock over the slots: see bcl_table.c). An
 * unexpired record is never evicted. The capacity is fixed: a table is
 * never rehashed or moved. */
#ifndef BCL_TABLE_H
#define BCL_TABLE_H

#include <stddef.h>
#include <stdint.h>
#include "bcl_record.h"

typedef struct bcl_table_t bcl_table_t;

typedef enum {
    BCL_TABLE_OK = 0,
    BCL_TABLE_FULL,       /* no room for a new record without dropping a live one */
    BCL_TABLE_CORRUPT     /* the memory does not hold a table of this version */
} bcl_table_status_t;

typedef struct {
    uint32_t capacity;            /* records of every kind */
    uint32_t used;                /* slots holding a record (expired ones until reused or swept) */
    uint32_t by_kind[BCL_REC_KINDS];  /* records held by kind, expired ones until swept or reused (kept
                                       * by the table as it changes: no scan) */
    uint64_t refused_full;        /* inserts refused because the table was full */
} bcl_table_stats_t;

/* Bytes of memory a table of `capacity` records needs. */
size_t bcl_table_size(uint32_t capacity);

/* The largest capacity whose table fits in `bytes` (0 when none does). */
uint32_t bcl_table_capacity_for(uint64_t bytes);

/* Formats `mem` (bcl_table_size(capacity) bytes) as an empty table. */
bcl_table_t *bcl_table_init(void *mem, uint32_t capacity);

/* Uses a table formatted earlier (after a graceful restart); NULL if the
 * memory does not hold one. */
bcl_table_t *bcl_table_attach(void *mem, size_t size);

/* The layout version of a table formatted in `mem` by some build of the
 * module (0 if the memory holds none), and the one this build writes: a
 * table bcl_table_attach refuses may simply be another version's. */
uint32_t bcl_table_layout_of(const void *mem, size_t size);
uint32_t bcl_table_layout(void);

/* Finds the unexpired record with `key`; NULL when none. */
const bcl_record_t *bcl_table_get(bcl_table_t *t, const bcl_hkey_t *key, int64_t now);

/* Without the lock: copies the unexpired record with keys[i] into out[i]
 * and sets found[i] (0: none, out[i] undefined), for i < n, all from one
 * consistent state of the table (no writer changed a slot meanwhile).
 * Returns 0, or -1 when writers interfered in each of `tries` attempts:
 * the caller then takes the lock and calls bcl_table_read_locked. Costs
 * no system call and writes nothing shared. */
int bcl_table_read(const bcl_table_t *t, const bcl_hkey_t *keys, int n, int64_t now, bcl_record_t *out,
                   int *found, int tries);

/* The same, with the store's lock held (no writer can interfere). */
void bcl_table_read_locked(const bcl_table_t *t, const bcl_hkey_t *keys, int n, int64_t now,
                           bcl_record_t *out, int *found);

/* Inserts or replaces the record with rec->key. */
bcl_table_status_t bcl_table_put(bcl_table_t *t, const bcl_record_t *rec, int64_t now);

/* Room for `n` new records, now? (To store a logout's records all or none.)
 * A 0 counts as a refused insert (refused_full, the 100% crossing). */
int bcl_table_has_room(bcl_table_t *t, uint32_t n, int64_t now);

/* Removes the record with `key`, if any. Returns 1 if one was removed. */
int bcl_table_remove(bcl_table_t *t, const bcl_hkey_t *key);

/* Removes expired records; returns how many. O(capacity): maintenance only. */
uint32_t bcl_table_sweep(bcl_table_t *t, int64_t now);

void bcl_table_stats(bcl_table_t *t, int64_t now, bcl_table_stats_t *out);

/* Calls `fn` for every unexpired record, in slot order; stops early when
 * `fn` returns non-zero and returns that value. O(capacity): maintenance
 * only (the journal's compaction). */
typedef int bcl_table_visit_fn(void *baton, const bcl_record_t *rec);
int bcl_table_foreach(bcl_table_t *t, int64_t now, bcl_table_visit_fn *fn, void *baton);

/* Slots holding a record (expired ones included), without a scan. */
uint32_t bcl_table_used(const bcl_table_t *t);

/* Usage thresholds (80%, 100%) crossed upwards since the last call; for
 * logging each crossing once. Returns a bit set: 1 = 80%, 2 = 100%. */
unsigned bcl_table_take_crossings(bcl_table_t *t);

/* Whether bcl_table_take_crossings would return or change anything. Safe
 * without the lock (a racy peek): a writer that crosses a threshold sees its
 * own write, so each crossing is still taken, under the lock, by someone. */
int bcl_table_crossings_pending(const bcl_table_t *t);

#endif
