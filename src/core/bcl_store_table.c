/* The store's operations over a bcl_table_t, each under the store's lock.
 * Every operation does a constant number of table look-ups. */
#include <string.h>
#include "bcl_rules.h"
#include "bcl_store.h"

typedef struct {
    bcl_table_t *table;
    bcl_store_lock_t lock;
    bcl_store_journal_t journal;
} table_store_t;

/* Called with the lock held. */
static int journal(table_store_t *ts, const bcl_record_t *recs, int n, int sync)
{
    return ts->journal.append ? ts->journal.append(ts->journal.baton, recs, n, sync) : 0;
}

static int take(table_store_t *ts)
{
    return ts->lock.lock ? ts->lock.lock(ts->lock.baton) : 0;
}

static void give(table_store_t *ts)
{
    if (ts->lock.unlock)
        ts->lock.unlock(ts->lock.baton);
}

/* The record stored under (kind, identity key), if live; NULL otherwise.
 * Returns 0, or -1 when the key it is stored under cannot be computed.
 * Called with the lock held. */
static int find_stored(bcl_table_t *t, int kind, const bcl_hkey_t *key, int64_t now, const bcl_record_t **found,
                       bcl_hkey_t *stored)
{
    *found = NULL;
    if (bcl_hkey_stored(stored, kind, key) != 0)
        return -1;
    *found = bcl_table_get(t, stored, now);
    return 0;
}

static int find(bcl_table_t *t, int kind, const bcl_hkey_t *key, int64_t now, const bcl_record_t **found)
{
    bcl_hkey_t k;
    return find_stored(t, kind, key, now, found, &k);
}

static bcl_store_status_t table_apply_logout(bcl_store_t *s, const bcl_logout_t *l,
                                             int64_t now, int64_t lifetime, int *replayed)
{
    table_store_t *ts = s->ctx;
    bcl_table_t *t = ts->table;
    bcl_record_t recs[BCL_RULES_MAX_WRITES];
    bcl_store_status_t st = BCL_STORE_OK;
    int n, fresh = 1;

    if (take(ts) != 0)
        return BCL_STORE_UNAVAILABLE;
    *replayed = bcl_rules_is_replay(bcl_table_get(t, &l->jti_key, now), now);
    if (*replayed)
        goto out;

    n = bcl_rules_logout_records(l, now, lifetime, recs);
    for (int i = 1; i < n; i++) {
        const bcl_record_t *old;
        bcl_hkey_t stored;
        /* a key that cannot be computed: nothing written, the OP hears 503 */
        if (find_stored(t, recs[i].kind, &recs[i].key, now, &old, &stored) != 0) {
            st = BCL_STORE_UNAVAILABLE;
            goto out;
        }
        bcl_rules_merge(&recs[i], old, now);
        recs[i].key = stored;  /* the key it was looked up under */
        if (old == NULL)
            fresh++;
    }

    /* all or nothing: never a jti without its revocations */
    if (!bcl_table_has_room(t, (uint32_t)fresh, now)) {
        st = BCL_STORE_FULL;
        goto out;
    }
    /* journalled revocations first, the jti last */
    bcl_record_t ordered[BCL_RULES_MAX_WRITES];
    for (int i = 1; i < n; i++)
        ordered[i - 1] = recs[i];
    ordered[n - 1] = recs[0];
    if (journal(ts, ordered, n, 1) != 0) {
        for (int i = 0; i < n - 1; i++)
            bcl_table_put(t, &ordered[i], now);
        st = BCL_STORE_UNAVAILABLE;
        goto out;
    }
    for (int i = 0; i < n; i++)
        if (bcl_table_put(t, &ordered[i], now) != BCL_TABLE_OK)
            st = BCL_STORE_FULL;
out:
    give(ts);
    return st;
}

static bcl_store_status_t table_bind(bcl_store_t *s, const bcl_hkey_t *cookie,
                                     const bcl_identity_t *id, int64_t now, int64_t expires)
{
    table_store_t *ts = s->ctx;
    bcl_record_t rec;
    bcl_table_status_t tst;

    bcl_rules_binding_record(&rec, cookie, id, expires);
    if (take(ts) != 0)
        return BCL_STORE_UNAVAILABLE;
    tst = bcl_table_put(ts->table, &rec, now);
    if (tst == BCL_TABLE_OK)
        journal(ts, &rec, 1, 0);
    give(ts);
    return tst == BCL_TABLE_OK ? BCL_STORE_OK : BCL_STORE_FULL;
}

static bcl_store_status_t table_unbind(bcl_store_t *s, const bcl_hkey_t *cookie)
{
    table_store_t *ts = s->ctx;
    bcl_record_t gone = { 0 };
    gone.key = *cookie;
    gone.kind = BCL_REC_EMPTY;
    if (take(ts) != 0)
        return BCL_STORE_UNAVAILABLE;
    if (bcl_table_remove(ts->table, cookie))
        journal(ts, &gone, 1, 0);
    give(ts);
    return BCL_STORE_OK;
}

/* The guard's read path takes no lock a reader waits on: the table's
 * seqlock (bcl_table_read) copies the records, retrying while a writer
 * changes slots; after READ_TRIES attempts that each met a writer (a
 * writer descheduled inside its section of a few hundred instructions)
 * it falls back to the lock. A logout being written, a journal sync
 * (done off the lock anyway), a compaction (which only reads the table)
 * or a status scrape never makes a guarded request wait. */
#define READ_TRIES 32

/* Copies of the live records under keys[0..n-1] (found[i]: one was
 * there), from one consistent state. 0, or -1 when the lock is needed and
 * cannot be taken. */
static int read_records(table_store_t *ts, const bcl_hkey_t *keys, int n, int64_t now, bcl_record_t *out,
                        int *found)
{
    if (bcl_table_read(ts->table, keys, n, now, out, found, READ_TRIES) == 0)
        return 0;
    if (take(ts) != 0)
        return -1;
    bcl_table_read_locked(ts->table, keys, n, now, out, found);
    give(ts);
    return 0;
}

/* 0 with `*state`, or -1 when a revocation's key cannot be computed or the
 * table cannot be read (the store cannot say). Generic over the refs of
 * bcl_rules_revocations_of: one more kind of ref costs one more probe in
 * the same read. */
static int revocation_state(table_store_t *ts, const bcl_identity_t *id, int64_t now, bcl_session_state_t *state)
{
    bcl_rules_ref_t refs[BCL_RULES_MAX_REVS];
    bcl_hkey_t keys[BCL_RULES_MAX_REVS];
    bcl_record_t recs[BCL_RULES_MAX_REVS];
    const bcl_record_t *found[BCL_RULES_MAX_REVS];
    int got[BCL_RULES_MAX_REVS];
    int n = bcl_rules_revocations_of(id, refs);

    for (int i = 0; i < n; i++) {
        if (bcl_hkey_stored(&keys[i], refs[i].kind, &refs[i].key) != 0)
            return -1;
    }
    if (n > 0 && read_records(ts, keys, n, now, recs, got) != 0)
        return -1;
    for (int i = 0; i < n; i++)
        found[i] = got[i] ? &recs[i] : NULL;
    *state = bcl_rules_state(id, refs, found, n, now);
    return 0;
}

/* The binding and its revocations are read in two consistent reads, not
 * one: revocations only accumulate (until they expire), so whatever a
 * logout written between the two reads adds can only make the answer
 * "revoked", which it is from that moment on anyway. */
static bcl_store_status_t table_cookie_state(bcl_store_t *s, const bcl_hkey_t *cookie, int64_t now,
                                             bcl_session_state_t *state, bcl_identity_t *id)
{
    table_store_t *ts = s->ctx;
    bcl_record_t b;
    int found;

    if (read_records(ts, cookie, 1, now, &b, &found) != 0)
        return BCL_STORE_UNAVAILABLE;
    if (!bcl_rules_binding_identity(found ? &b : NULL, now, id)) {
        *state = BCL_SESSION_UNBOUND;
        return BCL_STORE_OK;
    }
    return revocation_state(ts, id, now, state) == 0 ? BCL_STORE_OK : BCL_STORE_UNAVAILABLE;
}

static bcl_store_status_t table_identity_state(bcl_store_t *s, const bcl_identity_t *id, int64_t now,
                                               bcl_session_state_t *state)
{
    return revocation_state(s->ctx, id, now, state) == 0 ? BCL_STORE_OK : BCL_STORE_UNAVAILABLE;
}

static bcl_store_status_t table_stats(bcl_store_t *s, int64_t now, bcl_table_stats_t *out)
{
    table_store_t *ts = s->ctx;
    if (take(ts) != 0)
        return BCL_STORE_UNAVAILABLE;
    bcl_table_stats(ts->table, now, out);
    give(ts);
    return BCL_STORE_OK;
}

static unsigned table_usage_crossings(bcl_store_t *s)
{
    table_store_t *ts = s->ctx;
    unsigned crossed;
    /* nearly always nothing to report: no second locked section per logout */
    if (!bcl_table_crossings_pending(ts->table))
        return 0;
    if (take(ts) != 0)
        return 0;
    crossed = bcl_table_take_crossings(ts->table);
    give(ts);
    return crossed;
}

static bcl_store_status_t table_revocation(bcl_store_t *s, int kind, const bcl_hkey_t *key, int64_t now,
                                           bcl_record_t *out, int *found)
{
    table_store_t *ts = s->ctx;
    const bcl_record_t *r;
    bcl_store_status_t st = BCL_STORE_OK;

    *found = 0;
    if (take(ts) != 0)
        return BCL_STORE_UNAVAILABLE;
    if (find(ts->table, kind, key, now, &r) != 0)
        st = BCL_STORE_UNAVAILABLE;
    else if (r != NULL && r->kind == kind) {
        *out = *r;
        *found = 1;
    }
    give(ts);
    return st;
}

static const bcl_store_ops_t table_ops = {
    "shm",
    table_apply_logout,
    table_bind,
    table_unbind,
    table_cookie_state,
    table_identity_state,
    table_stats,
    table_usage_crossings,
    NULL,                     /* log_allowed: always */
    table_revocation,
};

void bcl_store_table_set_journal(bcl_store_t *s, const bcl_store_journal_t *journal)
{
    table_store_t *ts = s->ctx;
    if (journal != NULL)
        ts->journal = *journal;
    else
        memset(&ts->journal, 0, sizeof(ts->journal));
}

bcl_store_t *bcl_store_table_create(apr_pool_t *p, bcl_table_t *table, const bcl_store_lock_t *lock)
{
    bcl_store_t *s = apr_pcalloc(p, sizeof(*s));
    table_store_t *ts = apr_pcalloc(p, sizeof(*ts));
    ts->table = table;
    if (lock != NULL)
        ts->lock = *lock;
    s->ops = &table_ops;
    s->ctx = ts;
    return s;
}
