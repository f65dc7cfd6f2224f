/* The store over one or more memcached servers. Each key lives on one
 * server, chosen from its hash; every httpd of the fleet must list the
 * same servers in the same order. No failover to another server: a
 * revocation stored on a server that is down must not look absent, so its
 * keys are unavailable (503 / BCLStoreUnavailable) until it is back.
 *
 * Round trips: a cookie look-up is two (the binding, then its sid and sub
 * revocations, one multi-get per server holding them); an identity
 * look-up one multi-get per server; a logout three (gets of jti and
 * revocation, cas (or add) of the merged revocation, add of the jti),
 * read and written again when another server changed the revocation in
 * between (at most 5 passes, as the redis store). */
#include <string.h>
#include <apr_strings.h>
#include "bcl_mcproto.h"
#include "bcl_rules.h"
#include "bcl_store_net_impl.h"

/* the most records one multi-get fetches: a logout's, or a session's revocations */
#define MAX_KEYS (BCL_RULES_MAX_WRITES > BCL_RULES_MAX_REVS ? BCL_RULES_MAX_WRITES : BCL_RULES_MAX_REVS)
#define REQ_MAX 1024

static bcl_netsrv_t *server_of(bcl_net_store_t *ns, const bcl_hkey_t *k)
{
    apr_uint32_t h = (apr_uint32_t)k->b[0] << 24 | (apr_uint32_t)k->b[1] << 16 | (apr_uint32_t)k->b[2] << 8 | k->b[3];
    return ns->srv[h % (apr_uint32_t)ns->nsrv];
}

/* -- get -------------------------------------------------------------------- */

/* An item's version from a gets, whether or not its value could be decoded
 * (one that cannot is overwritten by cas like any other). */
typedef struct {
    uint64_t cas;
    int present;
} mc_version_t;

typedef struct {
    bcl_net_store_t *ns;
    bcl_netsrv_t *srv;
    int n;
    const char *keys[MAX_KEYS];
    bcl_record_t *recs[MAX_KEYS];
    int *found[MAX_KEYS];
    mc_version_t *version[MAX_KEYS];  /* NULL: a plain get */
} get_t;

static int parse_values(bcl_netconn_t *c, void *baton, const char **why)
{
    get_t *g = baton;
    bcl_mc_value_t vals[BCL_MC_MAX_VALUES];
    size_t n = 0, used = 0;

    switch (bcl_mc_parse_values(c->buf, c->len, vals, BCL_MC_MAX_VALUES, &n, &used)) {
    case BCL_MC_INCOMPLETE:
        return BCL_NET_MORE;
    case BCL_MC_SERVER_ERROR:
        *why = "memcached answered an error";
        return BCL_NET_BAD;
    case BCL_MC_BAD:
        return BCL_NET_BAD;
    default:
        break;
    }
    for (size_t i = 0; i < n; i++) {
        for (int k = 0; k < g->n; k++) {
            if (vals[i].key_len == strlen(g->keys[k]) && memcmp(vals[i].key, g->keys[k], vals[i].key_len) == 0) {
                if (g->version[k] != NULL) {
                    if (!vals[i].has_cas)
                        return BCL_NET_BAD;   /* a gets answer without the version */
                    g->version[k]->cas = vals[i].cas;
                    g->version[k]->present = 1;
                }
                if (bcl_netrec_decode(vals[i].data, vals[i].len, g->recs[k]) == 0)
                    *g->found[k] = 1;
                else
                    bcl_net_bad_record(g->ns, g->srv, g->keys[k]);
            }
        }
    }
    bcl_netconn_consume(c, used);
    return BCL_NET_DONE;
}

/* Fetches up to MAX_KEYS records, one multi-get per server holding them.
 * found[i] is set to 1 for each record found. With `version` (not NULL)
 * the multi-get is a gets, and version[i] is each found record's version
 * for cas. Returns 0 or -1 (logged). */
static int get_records(bcl_net_store_t *ns, const char *what, int n, const bcl_hkey_t *const hk[],
                       const char *const keys[], bcl_record_t recs[], int found[], mc_version_t version[])
{
    int done[MAX_KEYS] = { 0 };

    for (int i = 0; i < n; i++) {
        found[i] = 0;
        if (version != NULL)
            version[i].present = 0;
    }
    for (int i = 0; i < n; i++) {
        get_t g;
        char req[REQ_MAX];
        size_t len;

        if (done[i])
            continue;
        memset(&g, 0, sizeof(g));
        g.ns = ns;
        g.srv = server_of(ns, hk[i]);
        for (int j = i; j < n; j++) {
            if (!done[j] && server_of(ns, hk[j]) == g.srv) {
                g.keys[g.n] = keys[j];
                g.recs[g.n] = &recs[j];
                g.found[g.n] = &found[j];
                g.version[g.n] = version != NULL ? &version[j] : NULL;
                g.n++;
                done[j] = 1;
            }
        }
        len = bcl_mc_get_command(req, sizeof(req), version != NULL ? "gets" : "get", g.n, g.keys);
        if (len == 0 || bcl_net_exchange(ns, g.srv, what, req, len, parse_values, &g) != 0)
            return -1;
    }
    return 0;
}

/* -- set, add, delete ------------------------------------------------------- */

typedef struct {
    bcl_mc_reply_t reply;
} reply_t;

static int parse_reply(bcl_netconn_t *c, void *baton, const char **why)
{
    reply_t *r = baton;
    size_t used = 0;

    switch (bcl_mc_parse_reply(c->buf, c->len, &r->reply, &used)) {
    case BCL_MC_INCOMPLETE:
        return BCL_NET_MORE;
    case BCL_MC_SERVER_ERROR:
        /* e.g. "SERVER_ERROR out of memory storing object" with -M */
        bcl_netconn_consume(c, used);
        *why = "memcached refused the record (SERVER_ERROR: out of memory with -M?)";
        return BCL_NET_REFUSED;
    case BCL_MC_BAD:
        return BCL_NET_BAD;
    default:
        bcl_netconn_consume(c, used);
        return BCL_NET_DONE;
    }
}

static int store_record(bcl_net_store_t *ns, const char *what, const char *verb, const bcl_hkey_t *hk,
                        const char *key, const bcl_record_t *rec, int64_t now, bcl_mc_reply_t *reply)
{
    char val[BCL_NET_VALUE_MAX], req[REQ_MAX];
    size_t vlen = bcl_netrec_encode(val, rec);
    size_t len = vlen ? bcl_mc_store_command(req, sizeof(req), verb, key, bcl_memcache_exptime(rec->expires, now),
                                             val, vlen) : 0;
    reply_t r;
    bcl_netsrv_t *srv = server_of(ns, hk);

    if (len == 0) {
        bcl_net_failed(ns, srv, what, "the record cannot be encoded", APR_SUCCESS);
        return -1;
    }
    if (bcl_net_exchange(ns, srv, what, req, len, parse_reply, &r) != 0)
        return -1;
    *reply = r.reply;
    return 0;
}

/* -- operations ------------------------------------------------------------- */

/* Writes one merged revocation: `cas` against the version read when the
 * item was there (even one whose value was not ours: it is replaced),
 * `add` when it was not. Returns 0 (stored), 1 (another server changed or
 * created the record since it was read: read again) or -1 (logged). */
static int store_revocation(bcl_net_store_t *ns, const bcl_hkey_t *hk, const char *key, const bcl_record_t *rec,
                            const mc_version_t *version, int64_t now)
{
    char val[BCL_NET_VALUE_MAX], req[REQ_MAX];
    size_t vlen = bcl_netrec_encode(val, rec), len = 0;
    bcl_netsrv_t *srv = server_of(ns, hk);
    uint32_t exptime = bcl_memcache_exptime(rec->expires, now);
    reply_t r;

    if (vlen != 0)
        len = version->present ? bcl_mc_cas_command(req, sizeof(req), key, exptime, val, vlen, version->cas)
                    : bcl_mc_store_command(req, sizeof(req), "add", key, exptime, val, vlen);
    if (len == 0) {
        bcl_net_failed(ns, srv, "storing a logout", "the record cannot be encoded", APR_SUCCESS);
        return -1;
    }
    if (bcl_net_exchange(ns, srv, "storing a logout", req, len, parse_reply, &r) != 0)
        return -1;
    switch (r.reply) {
    case BCL_MC_STORED:
        return 0;
    case BCL_MC_EXISTS:      /* cas: changed since our gets */
    case BCL_MC_NOT_FOUND:   /* cas: deleted or expired since */
    case BCL_MC_NOT_STORED:  /* add: created since */
        return 1;
    default:
        bcl_net_failed(ns, srv, "storing a logout", "memcached did not store the revocation", APR_SUCCESS);
        return -1;
    }
}

/* One read-merge-write pass of a logout. Returns 0 (applied or a replay),
 * 1 (a record changed under it: try again) or -1 (logged). */
static int apply_once(bcl_net_store_t *ns, const bcl_logout_t *l, int64_t now, int64_t lifetime, int *replayed)
{
    const char *prefix = ns->conf->prefix;
    char names[BCL_RULES_MAX_WRITES][BCL_NET_KEY_MAX];
    bcl_record_t recs[BCL_RULES_MAX_WRITES], got[BCL_RULES_MAX_WRITES];
    const bcl_hkey_t *hk[BCL_RULES_MAX_WRITES];
    const char *keys[BCL_RULES_MAX_WRITES];
    int found[BCL_RULES_MAX_WRITES];
    mc_version_t version[BCL_RULES_MAX_WRITES];
    bcl_mc_reply_t reply;
    int n = bcl_rules_logout_records(l, now, lifetime, recs);

    for (int i = 0; i < n; i++) {
        bcl_netrec_key(names[i], prefix, recs[i].kind, &recs[i].key);
        hk[i] = &recs[i].key;
        keys[i] = names[i];
    }
    if (get_records(ns, "storing a logout", n, hk, keys, got, found, version) != 0)
        return -1;
    if (bcl_rules_is_replay(found[0] ? &got[0] : NULL, now)) {
        *replayed = 1;
        return 0;
    }
    *replayed = 0;
    if (ns->race != NULL)
        ns->race(ns->race_arg);
    /* the revocations first: a jti stored without its revocations would
     * make the OP's retry look like a replay, answered 200 and never
     * enforced. Each is written only if nobody changed it since it was
     * read, so two servers merging logouts of one user cannot lose either
     * (a record written on an earlier pass is merged again: the merge
     * keeps the later times, so writing it twice changes nothing). */
    for (int i = 1; i < n; i++) {
        bcl_rules_merge(&recs[i], found[i] ? &got[i] : NULL, now);
        int rc = store_revocation(ns, hk[i], keys[i], &recs[i], &version[i], now);
        if (rc != 0)
            return rc;
    }
    /* add: when another server applied the same token meanwhile, NOT_STORED */
    if (store_record(ns, "storing a logout", "add", hk[0], keys[0], &recs[0], now, &reply) != 0)
        return -1;
    return 0;
}

#define APPLY_ATTEMPTS 5

static bcl_store_status_t mc_apply_logout(bcl_store_t *s, const bcl_logout_t *l, int64_t now, int64_t lifetime,
                                          int *replayed)
{
    bcl_net_store_t *ns = s->ctx;

    for (int attempt = 0; attempt < APPLY_ATTEMPTS; attempt++) {
        int rc = apply_once(ns, l, now, lifetime, replayed);
        if (rc <= 0)
            return rc == 0 ? BCL_STORE_OK : BCL_STORE_UNAVAILABLE;
    }
    bcl_net_failed(ns, ns->srv[0], "storing a logout", "the records kept changing under concurrent logouts",
                   APR_SUCCESS);
    return BCL_STORE_UNAVAILABLE;
}

static bcl_store_status_t mc_bind(bcl_store_t *s, const bcl_hkey_t *cookie, const bcl_identity_t *id,
                                  int64_t now, int64_t expires)
{
    bcl_net_store_t *ns = s->ctx;
    char key[BCL_NET_KEY_MAX];
    bcl_record_t rec;
    bcl_mc_reply_t reply;

    bcl_rules_binding_record(&rec, cookie, id, expires);
    bcl_netrec_key(key, ns->conf->prefix, BCL_REC_BINDING, cookie);
    if (store_record(ns, "storing a binding", "set", cookie, key, &rec, now, &reply) != 0)
        return BCL_STORE_UNAVAILABLE;
    return reply == BCL_MC_STORED ? BCL_STORE_OK : BCL_STORE_UNAVAILABLE;
}

static bcl_store_status_t mc_unbind(bcl_store_t *s, const bcl_hkey_t *cookie)
{
    bcl_net_store_t *ns = s->ctx;
    char key[BCL_NET_KEY_MAX], req[REQ_MAX];
    size_t len;
    reply_t r;

    bcl_netrec_key(key, ns->conf->prefix, BCL_REC_BINDING, cookie);
    len = bcl_mc_delete_command(req, sizeof(req), key);
    if (len == 0 || bcl_net_exchange(ns, server_of(ns, cookie), "dropping a binding", req, len, parse_reply, &r) != 0)
        return BCL_STORE_UNAVAILABLE;
    return BCL_STORE_OK;
}

static bcl_store_status_t revocations_of(bcl_net_store_t *ns, const bcl_identity_t *id, int64_t now,
                                         bcl_session_state_t *state)
{
    char names[BCL_RULES_MAX_REVS][BCL_NET_KEY_MAX];
    bcl_rules_ref_t refs[BCL_RULES_MAX_REVS];
    const bcl_hkey_t *hk[BCL_RULES_MAX_REVS];
    const char *keys[BCL_RULES_MAX_REVS];
    bcl_record_t recs[BCL_RULES_MAX_REVS];
    const bcl_record_t *got[BCL_RULES_MAX_REVS];
    int found[BCL_RULES_MAX_REVS];
    int n = bcl_rules_revocations_of(id, refs);

    for (int i = 0; i < n; i++) {
        bcl_netrec_key(names[i], ns->conf->prefix, refs[i].kind, &refs[i].key);
        hk[i] = &refs[i].key;
        keys[i] = names[i];
    }
    if (n > 0 && get_records(ns, "looking up a session", n, hk, keys, recs, found, NULL) != 0)
        return BCL_STORE_UNAVAILABLE;
    for (int i = 0; i < n; i++)
        got[i] = found[i] ? &recs[i] : NULL;
    *state = bcl_rules_state(id, refs, got, n, now);
    return BCL_STORE_OK;
}

static bcl_store_status_t mc_cookie_state(bcl_store_t *s, const bcl_hkey_t *cookie, int64_t now,
                                          bcl_session_state_t *state, bcl_identity_t *id)
{
    bcl_net_store_t *ns = s->ctx;
    char key[BCL_NET_KEY_MAX];
    const bcl_hkey_t *hk[1] = { cookie };
    const char *keys[1] = { key };
    bcl_record_t b;
    int found[1];

    bcl_netrec_key(key, ns->conf->prefix, BCL_REC_BINDING, cookie);
    if (get_records(ns, "looking up a session", 1, hk, keys, &b, found, NULL) != 0)
        return BCL_STORE_UNAVAILABLE;
    if (!bcl_rules_binding_identity(found[0] ? &b : NULL, now, id)) {
        *state = BCL_SESSION_UNBOUND;
        return BCL_STORE_OK;
    }
    return revocations_of(ns, id, now, state);
}

static bcl_store_status_t mc_identity_state(bcl_store_t *s, const bcl_identity_t *id, int64_t now,
                                            bcl_session_state_t *state)
{
    return revocations_of(s->ctx, id, now, state);
}

static bcl_store_status_t mc_revocation(bcl_store_t *s, int kind, const bcl_hkey_t *key, int64_t now,
                                        bcl_record_t *out, int *found)
{
    bcl_net_store_t *ns = s->ctx;
    char name[BCL_NET_KEY_MAX];
    const bcl_hkey_t *hk[1] = { key };
    const char *keys[1] = { name };

    *found = 0;
    if (bcl_netrec_key(name, ns->conf->prefix, kind, key) == 0
        || get_records(ns, "looking up a revocation", 1, hk, keys, out, found, NULL) != 0)
        return BCL_STORE_UNAVAILABLE;
    *found = *found && out->kind == kind && out->expires > now;
    return BCL_STORE_OK;
}

static const bcl_store_ops_t memcache_ops = {
    "memcache",
    mc_apply_logout,
    mc_bind,
    mc_unbind,
    mc_cookie_state,
    mc_identity_state,
    bcl_store_net_stats,
    bcl_store_net_usage_crossings,
    bcl_store_net_log_allowed,
    mc_revocation,
};

bcl_store_t *bcl_store_memcache_create(apr_pool_t *p, const bcl_net_conf_t *conf, bcl_net_health_t *health,
                                       const bcl_logger_t *logger)
{
    bcl_net_store_t *ns = bcl_net_store_new(p, conf, health, logger);
    bcl_store_t *s = apr_pcalloc(p, sizeof(*s));
    ns->kind_name = "memcache";
    for (int i = 0; i < ns->nsrv; i++) {
        const bcl_net_server_t *srv = &APR_ARRAY_IDX(ns->conf->servers, i, bcl_net_server_t);
        ns->srv[i] = bcl_netsrv_create(p, srv->host, srv->port, ns->conf->timeout, NULL, NULL);
    }
    s->ops = &memcache_ops;
    s->ctx = ns;
    return s;
}
