/* The store's operations over a bcl_table_t, each under the store's lock.
 * Every operation does a constant number of table look-ups. */
#include <string.h>
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

static int64_t max64(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

static bcl_store_status_t table_apply_logout(bcl_store_t *s, const bcl_logout_t *l,
                                             int64_t now, int64_t lifetime, int *replayed)
{
    table_store_t *ts = s->ctx;
    bcl_table_t *t = ts->table;
    bcl_record_t jti = { 0 }, rev = { 0 };
    const bcl_record_t *old;
    bcl_store_status_t st = BCL_STORE_OK;

    if (take(ts) != 0)
        return BCL_STORE_UNAVAILABLE;
    *replayed = bcl_table_get(t, &l->jti_key, now) != NULL;
    if (*replayed)
        goto out;

    rev.key = l->has_sid ? l->sid_key : l->sub_key;
    rev.kind = l->has_sid ? BCL_REC_REVOKED_SID : BCL_REC_REVOKED_SUB;
    rev.expires = now + lifetime;
    rev.t_server = l->accepted_server;
    rev.t_op = l->token_iat;
    old = bcl_table_get(t, &rev.key, now);
    if (old != NULL) {
        /* a later logout of the same subject kills every session begun before it */
        rev.t_server = max64(rev.t_server, old->t_server);
        rev.t_op = max64(rev.t_op, old->t_op);
        rev.expires = max64(rev.expires, old->expires);
    }
    jti.key = l->jti_key;
    jti.kind = BCL_REC_JTI;
    jti.expires = max64(l->jti_expires, now + 1);

    /* all or nothing: never a jti without its revocation */
    if (!bcl_table_has_room(t, old != NULL ? 1 : 2, now)) {
        st = BCL_STORE_FULL;
        goto out;
    }
    bcl_record_t both[2] = { rev, jti };
    if (journal(ts, both, 2, 1) != 0) {
        bcl_table_put(t, &rev, now);
        st = BCL_STORE_UNAVAILABLE;
        goto out;
    }
    if (bcl_table_put(t, &rev, now) != BCL_TABLE_OK || bcl_table_put(t, &jti, now) != BCL_TABLE_OK)
        st = BCL_STORE_FULL;
out:
    give(ts);
    return st;
}

static bcl_store_status_t table_bind(bcl_store_t *s, const bcl_hkey_t *cookie,
                                     const bcl_identity_t *id, int64_t now, int64_t expires)
{
    table_store_t *ts = s->ctx;
    bcl_record_t rec = { 0 };
    bcl_table_status_t tst;

    rec.key = *cookie;
    rec.kind = BCL_REC_BINDING;
    rec.expires = expires;
    rec.t_server = id->began_server;
    rec.t_op = id->began_op;
    rec.sid_key = id->sid_key;
    rec.sub_key = id->sub_key;
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

/* Called with the lock held. */
static bcl_session_state_t revocation_state(bcl_table_t *t, const bcl_identity_t *id, int64_t now)
{
    const bcl_record_t *rev;

    if (!bcl_hkey_is_zero(&id->sid_key) && bcl_table_get(t, &id->sid_key, now) != NULL)
        return BCL_SESSION_REVOKED;
    if (!bcl_hkey_is_zero(&id->sub_key) && (rev = bcl_table_get(t, &id->sub_key, now)) != NULL
        && bcl_sub_revocation_applies(rev, id))
        return BCL_SESSION_REVOKED;
    return BCL_SESSION_LIVE;
}

static bcl_store_status_t table_cookie_state(bcl_store_t *s, const bcl_hkey_t *cookie, int64_t now,
                                             bcl_session_state_t *state, bcl_identity_t *id)
{
    table_store_t *ts = s->ctx;
    const bcl_record_t *b;

    if (take(ts) != 0)
        return BCL_STORE_UNAVAILABLE;
    b = bcl_table_get(ts->table, cookie, now);
    if (b == NULL || b->kind != BCL_REC_BINDING) {
        *state = BCL_SESSION_UNBOUND;
    } else {
        id->sid_key = b->sid_key;
        id->sub_key = b->sub_key;
        id->began_server = b->t_server;
        id->began_op = b->t_op;
        *state = revocation_state(ts->table, id, now);
    }
    give(ts);
    return BCL_STORE_OK;
}

static bcl_store_status_t table_identity_state(bcl_store_t *s, const bcl_identity_t *id, int64_t now,
                                               bcl_session_state_t *state)
{
    table_store_t *ts = s->ctx;
    if (take(ts) != 0)
        return BCL_STORE_UNAVAILABLE;
    *state = revocation_state(ts->table, id, now);
    give(ts);
    return BCL_STORE_OK;
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
    if (take(ts) != 0)
        return 0;
    crossed = bcl_table_take_crossings(ts->table);
    give(ts);
    return crossed;
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
