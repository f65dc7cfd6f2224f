#include <string.h>
#include "bcl_table.h"

#define TABLE_MAGIC 0x42434c54u /* "BCLT" */
#define TABLE_VERSION 3u   /* 2: per-kind counts in the header; 3: one more kind */
/* Seconds between two full sweeps forced by a full table. */
#define SWEEP_MIN_INTERVAL 1

struct bcl_table_t {
    uint32_t magic;
    uint32_t version;
    uint32_t capacity;
    uint32_t nslots;
    uint32_t used;
    uint32_t crossed;          /* thresholds reached and not yet reported/cleared */
    uint32_t reported;         /* thresholds already reported */
    uint32_t seq;              /* the slots' seqlock: odd while a writer changes slots
                                * (was `reserved`, always 0: the layout is unchanged) */
    uint64_t refused_full;
    int64_t last_full_sweep;
    /* records held, by kind (expired ones until swept or reused): kept as
     * the table changes, so that reading them costs the same at any size */
    uint32_t held[BCL_REC_KINDS];
    uint32_t pad;
    bcl_record_t slots[];
};

static uint32_t slot_count(uint32_t capacity)
{
    /* a load factor of at most 0.8 keeps probe sequences short */
    return capacity + capacity / 4 + 1;
}

size_t bcl_table_size(uint32_t capacity)
{
    return sizeof(bcl_table_t) + (size_t)slot_count(capacity) * sizeof(bcl_record_t);
}

uint32_t bcl_table_capacity_for(uint64_t bytes)
{
    uint64_t lo = 0, hi = UINT32_MAX / 2;
    if (bytes < bcl_table_size(1))
        return 0;
    /* bcl_table_size grows with capacity: the last one that fits */
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo + 1) / 2;
        if ((uint64_t)bcl_table_size((uint32_t)mid) <= bytes)
            lo = mid;
        else
            hi = mid - 1;
    }
    return (uint32_t)lo;
}

bcl_table_t *bcl_table_init(void *mem, uint32_t capacity)
{
    bcl_table_t *t = mem;
    memset(t, 0, bcl_table_size(capacity));
    t->magic = TABLE_MAGIC;
    t->version = TABLE_VERSION;
    t->capacity = capacity;
    t->nslots = slot_count(capacity);
    return t;
}

bcl_table_t *bcl_table_attach(void *mem, size_t size)
{
    bcl_table_t *t = mem;
    if (size < sizeof(*t) || t->magic != TABLE_MAGIC || t->version != TABLE_VERSION
        || bcl_table_size(t->capacity) > size || t->nslots != slot_count(t->capacity))
        return NULL;
    return t;
}

uint32_t bcl_table_layout_of(const void *mem, size_t size)
{
    const bcl_table_t *t = mem;
    return size >= sizeof(*t) && t->magic == TABLE_MAGIC ? t->version : 0;
}

uint32_t bcl_table_layout(void)
{
    return TABLE_VERSION;
}

static uint32_t home_slot(const bcl_table_t *t, const bcl_hkey_t *key)
{
    uint64_t h;
    memcpy(&h, key->b, sizeof(h));
    return (uint32_t)(h % t->nslots);
}

static int is_live(const bcl_record_t *r, int64_t now)
{
    return r->kind != BCL_REC_EMPTY && r->expires > now;
}

static void held_change(bcl_table_t *t, unsigned gone, unsigned added)
{
    if (gone != BCL_REC_EMPTY && gone < BCL_REC_KINDS && t->held[gone] > 0)
        t->held[gone]--;
    if (added != BCL_REC_EMPTY && added < BCL_REC_KINDS)
        t->held[added]++;
}

static void note_usage(bcl_table_t *t)
{
    if ((uint64_t)t->used * 5 >= (uint64_t)t->capacity * 4)
        t->crossed |= 1;
    if (t->used >= t->capacity)
        t->crossed |= 2;
}

/* ------------------------------------------------------------------------
 * The slots' seqlock. Writers hold the store's mutex (one writer at a
 * time) and wrap every change of slots in write_begin/write_end; readers
 * take no lock: they copy the slots they probe, then check that `seq` did
 * not move (bcl_table_read). The ordering is Boehm's ("Can seqlocks get
 * along with programming language memory models?", 2012):
 *
 *   writer: seq = s+1 (relaxed); release fence; slot stores; seq = s+2 (release)
 *   reader: s1 = seq (acquire); slot loads; acquire fence; s2 = seq (relaxed)
 *
 * If a reader's slot load saw any store of a section, its acquire fence
 * synchronises with that section's release fence, so its s2 is at least
 * s+1 and the copy is thrown away; s1 (acquire) orders the loads after
 * any section that ended before. The fences are compiler barriers too: the
 * slot copies cannot move out of the window. The copies themselves are
 * plain loads of memory a writer may be changing, as in the Linux kernel's
 * seqcount: their values are only used once s1 == s2 proved no store hit
 * them. On x86 all four orderings cost no instruction.
 *
 * Each elementary change (one slot written, one deletion with its
 * backward shift) is its own section, so a section is short: a sweep of a
 * big table is many short sections, never one long one a reader waits out.
 * Only the slots are covered: the header counters are read under the lock.
 * A writer that died inside a section (its process killed) leaves `seq`
 * odd: the next writer, holding the mutex, knows nobody else is writing
 * and makes it even again; until then readers take the lock.
 * ------------------------------------------------------------------------ */
static void write_begin(bcl_table_t *t)
{
    uint32_t s = __atomic_load_n(&t->seq, __ATOMIC_RELAXED);
    s |= 1u;                  /* odd: a dead writer's left-over is odd already */
    __atomic_store_n(&t->seq, s, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
}

static void write_end(bcl_table_t *t)
{
    uint32_t s = __atomic_load_n(&t->seq, __ATOMIC_RELAXED);
    __atomic_store_n(&t->seq, s + 1, __ATOMIC_RELEASE);
}

static void slot_write(bcl_table_t *t, uint32_t i, const bcl_record_t *rec)
{
    write_begin(t);
    t->slots[i] = *rec;
    write_end(t);
}

const bcl_record_t *bcl_table_get(bcl_table_t *t, const bcl_hkey_t *key, int64_t now)
{
    uint32_t i = home_slot(t, key);
    for (uint32_t n = 0; n < t->nslots; n++) {
        const bcl_record_t *r = &t->slots[i];
        if (r->kind == BCL_REC_EMPTY)
            return NULL;
        if (memcmp(r->key.b, key->b, BCL_KEY_LEN) == 0)
            return is_live(r, now) ? r : NULL;
        i = i + 1 == t->nslots ? 0 : i + 1;
    }
    return NULL;
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield" ::: "memory");
#endif
}

/* How many slots a reader probes between two looks at `seq`: a probe run
 * seen half-changed cannot send it round the whole table. */
#define READ_CHECK_EVERY 64

/* One probe for `key` over copies of the slots. Returns 1 with the live
 * record in `*out`, 0 when there is none, -1 when `seq` moved from `s1`
 * during a long probe (only when `s1` is not ~0: a locked reader). */
static int probe_copy(const bcl_table_t *t, const bcl_hkey_t *key, int64_t now, bcl_record_t *out,
                      uint32_t s1)
{
    uint32_t i = home_slot(t, key);
    for (uint32_t n = 0; n < t->nslots; n++) {
        const bcl_record_t *r = &t->slots[i];
        /* key and kind first (a full table has probe runs of several
         * slots); the whole record only for the one that matches. A
         * torn key or kind at worst sends the probe on or stops it: the
         * caller's sequence check throws that answer away. */
        if (r->kind == BCL_REC_EMPTY)
            return 0;
        if (memcmp(r->key.b, key->b, BCL_KEY_LEN) == 0) {
            memcpy(out, r, sizeof(*out));
            return memcmp(out->key.b, key->b, BCL_KEY_LEN) == 0 && is_live(out, now);
        }
        i = i + 1 == t->nslots ? 0 : i + 1;
        if ((n + 1) % READ_CHECK_EVERY == 0 && s1 != ~0u
            && __atomic_load_n(&t->seq, __ATOMIC_ACQUIRE) != s1)
            return -1;
    }
    return 0;
}

int bcl_table_read(const bcl_table_t *t, const bcl_hkey_t *keys, int n, int64_t now, bcl_record_t *out,
                   int *found, int tries)
{
    for (int attempt = 0; attempt < tries; attempt++) {
        uint32_t s1 = __atomic_load_n(&t->seq, __ATOMIC_ACQUIRE);
        int torn = 0;
        if (s1 & 1u) {
            /* a writer is inside a section of a few hundred instructions */
            cpu_relax();
            continue;
        }
        for (int i = 0; i < n && !torn; i++) {
            int rc = probe_copy(t, &keys[i], now, &out[i], s1);
            torn = rc < 0;
            found[i] = rc > 0;
        }
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (!torn && __atomic_load_n(&t->seq, __ATOMIC_RELAXED) == s1)
            return 0;
    }
    return -1;
}

void bcl_table_read_locked(const bcl_table_t *t, const bcl_hkey_t *keys, int n, int64_t now,
                           bcl_record_t *out, int *found)
{
    for (int i = 0; i < n; i++)
        found[i] = probe_copy(t, &keys[i], now, &out[i], ~0u) > 0;
}

/* Deletes slot `i` and shifts later members of the probe run back so that
 * every record stays reachable from its home slot (Knuth, vol. 3, 6.4 R). */
static void delete_slot(bcl_table_t *t, uint32_t i)
{
    uint32_t j = i;
    held_change(t, t->slots[i].kind, BCL_REC_EMPTY);
    write_begin(t);
    for (;;) {
        j = j + 1 == t->nslots ? 0 : j + 1;
        if (t->slots[j].kind == BCL_REC_EMPTY)
            break;
        uint32_t k = home_slot(t, &t->slots[j].key);
        int stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
        if (!stays) {
            t->slots[i] = t->slots[j];
            i = j;
        }
    }
    memset(&t->slots[i], 0, sizeof(t->slots[i]));
    write_end(t);
    t->used--;
}

uint32_t bcl_table_sweep(bcl_table_t *t, int64_t now)
{
    uint32_t removed = 0;
    /* Deleting can shift a record into the slot just examined, so look at
     * the same slot again after a deletion. */
    for (uint32_t i = 0; i < t->nslots; i++) {
        while (t->slots[i].kind != BCL_REC_EMPTY && !is_live(&t->slots[i], now)) {
            delete_slot(t, i);
            removed++;
        }
    }
    return removed;
}

int bcl_table_remove(bcl_table_t *t, const bcl_hkey_t *key)
{
    uint32_t i = home_slot(t, key);
    for (uint32_t n = 0; n < t->nslots; n++) {
        if (t->slots[i].kind == BCL_REC_EMPTY)
            return 0;
        if (memcmp(t->slots[i].key.b, key->b, BCL_KEY_LEN) == 0) {
            delete_slot(t, i);
            return 1;
        }
        i = i + 1 == t->nslots ? 0 : i + 1;
    }
    return 0;
}

/* When full, expired records anywhere may make room; sweeping is O(n), so
 * it runs at most once a second however many inserts are refused. */
static void sweep_if_full(bcl_table_t *t, uint32_t need, int64_t now)
{
    if (t->used + need > t->capacity && now - t->last_full_sweep >= SWEEP_MIN_INTERVAL) {
        t->last_full_sweep = now;
        bcl_table_sweep(t, now);
    }
}

int bcl_table_has_room(bcl_table_t *t, uint32_t n, int64_t now)
{
    sweep_if_full(t, n, now);
    if (t->used + n <= t->capacity)
        return 1;
    /* a refused reservation is a refused insert, counted like one */
    t->refused_full++;
    t->crossed |= 2;
    return 0;
}

bcl_table_status_t bcl_table_put(bcl_table_t *t, const bcl_record_t *rec, int64_t now)
{
    uint32_t i = home_slot(t, &rec->key);
    uint32_t reusable = UINT32_MAX;

    for (uint32_t n = 0; n < t->nslots; n++) {
        bcl_record_t *r = &t->slots[i];
        if (r->kind == BCL_REC_EMPTY)
            break;
        if (memcmp(r->key.b, rec->key.b, BCL_KEY_LEN) == 0) {
            held_change(t, r->kind, rec->kind);
            slot_write(t, i, rec);
            return BCL_TABLE_OK;
        }
        /* an expired record's slot can hold the new one: the run stays unbroken */
        if (reusable == UINT32_MAX && !is_live(r, now))
            reusable = i;
        i = i + 1 == t->nslots ? 0 : i + 1;
    }
    /* The whole run up to an empty slot was searched: the key is not in the
     * table. An expired record's slot is taken over (`used` is unchanged). */
    if (reusable != UINT32_MAX) {
        held_change(t, t->slots[reusable].kind, rec->kind);
        slot_write(t, reusable, rec);
        return BCL_TABLE_OK;
    }
    if (t->used >= t->capacity) {
        sweep_if_full(t, 1, now);
        if (t->used >= t->capacity) {
            t->refused_full++;
            t->crossed |= 2;
            return BCL_TABLE_FULL;
        }
        return bcl_table_put(t, rec, now);
    }
    slot_write(t, i, rec);
    held_change(t, BCL_REC_EMPTY, rec->kind);
    t->used++;
    note_usage(t);
    return BCL_TABLE_OK;
}

void bcl_table_stats(bcl_table_t *t, int64_t now, bcl_table_stats_t *out)
{
    memset(out, 0, sizeof(*out));
    out->capacity = t->capacity;
    out->used = t->used;
    out->refused_full = t->refused_full;
    (void)now;
    /* no scan: the status page reads this under the lock every guarded
     * request takes, and must cost the same at 10 records and at 10 million */
    memcpy(out->by_kind, t->held, sizeof(out->by_kind));
}

int bcl_table_foreach(bcl_table_t *t, int64_t now, bcl_table_visit_fn *fn, void *baton)
{
    for (uint32_t i = 0; i < t->nslots; i++) {
        if (is_live(&t->slots[i], now) && t->slots[i].kind < BCL_REC_KINDS) {
            int rc = fn(baton, &t->slots[i]);
            if (rc != 0)
                return rc;
        }
    }
    return 0;
}

uint32_t bcl_table_used(const bcl_table_t *t)
{
    return t->used;
}

unsigned bcl_table_take_crossings(bcl_table_t *t)
{
    unsigned fresh = t->crossed & ~t->reported;
    t->reported |= t->crossed;
    /* below 80% again: a later crossing is reported again */
    if ((uint64_t)t->used * 5 < (uint64_t)t->capacity * 4)
        t->reported = 0, t->crossed = 0;
    return fresh;
}

int bcl_table_crossings_pending(const bcl_table_t *t)
{
    uint32_t crossed = __atomic_load_n(&t->crossed, __ATOMIC_RELAXED);
    uint32_t reported = __atomic_load_n(&t->reported, __ATOMIC_RELAXED);
    uint32_t used = __atomic_load_n(&t->used, __ATOMIC_RELAXED);
    if (crossed == 0)
        return 0;
    return (crossed & ~reported) != 0 || (uint64_t)used * 5 < (uint64_t)t->capacity * 4;
}
