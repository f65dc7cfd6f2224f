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
    uint32_t reserved;
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

/* Deletes slot `i` and shifts later members of the probe run back so that
 * every record stays reachable from its home slot (Knuth, vol. 3, 6.4 R). */
static void delete_slot(bcl_table_t *t, uint32_t i)
{
    uint32_t j = i;
    held_change(t, t->slots[i].kind, BCL_REC_EMPTY);
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
            *r = *rec;
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
        t->slots[reusable] = *rec;
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
    t->slots[i] = *rec;
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
