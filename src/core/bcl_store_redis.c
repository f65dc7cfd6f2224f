/* The store over one redis server. The guard's look-up is one round trip:
 * a Lua script (EVALSHA, falling back to EVAL after a redis restart forgot
 * it) follows cookie -> binding -> the revocation records the binding
 * names, atomically on the server, and returns them raw; whether they
 * revoke the session is decided here, by the core's rules (bcl_rules.h),
 * as for every other backend. Applying a logout reads its records (MGET),
 * decides and merges with the rules, and writes them with a compare-and-set
 * script that refuses when any of them changed meanwhile (a concurrent
 * logout: then it is read and merged again). No rule lives in Lua. */
#include <stdio.h>
#include <string.h>
#include <openssl/evp.h>
#include <apr_strings.h>
#include "bcl_resp.h"
#include "bcl_rules.h"
#include "bcl_store_net_impl.h"

/* KEYS: the records of a logout (its jti first). ARGV: for each record,
 * the value it must still have ('' for none, '*' for any), its new value,
 * its ttl. Returns 2 when a record changed since it was read (nothing
 * written), else 0 (all written). */
static const char APPLY_SCRIPT[] =
    "for i = 1, #KEYS do\n"
    "  local want = ARGV[3 * i - 2]\n"
    "  if want ~= '*' and (redis.call('GET', KEYS[i]) or '') ~= want then return 2 end\n"
    "end\n"
    "for i = 1, #KEYS do\n"
    "  redis.call('SET', KEYS[i], ARGV[3 * i - 1], 'EX', ARGV[3 * i])\n"
    "end\n"
    "return 0\n";

/* KEYS: the cookie's binding. ARGV: the key prefix, and the issuer
 * fingerprint (hex) whose cut-off applies to a binding that names none ('':
 * none). Returns {binding, the revocations it names: sid, sub,
 * sub-without-sid, issuer cut-off}, '' for each one absent or not named. */
static const char COOKIE_SCRIPT[] =
    "local b = redis.call('GET', KEYS[1])\n"
    "if not b then return {'', '', '', '', ''} end\n"
    "local sid, sub, fp = string.match(b, '^1 c %-?%d+ %-?%d+ %-?%d+ (%S+) (%S+) ?(%x*)$')\n"
    "local s, u, n, i = '', '', '', ''\n"
    "if sid and sid ~= '-' then s = redis.call('GET', ARGV[1] .. 's:' .. sid) or '' end\n"
    "if sub and sub ~= '-' then\n"
    "  u = redis.call('GET', ARGV[1] .. 'u:' .. sub) or ''\n"
    "  n = redis.call('GET', ARGV[1] .. 'n:' .. sub) or ''\n"
    "end\n"
    "if sid and (fp == nil or fp == '') then fp = ARGV[2] end\n"
    "if fp and #fp == 14 then i = redis.call('GET', ARGV[1] .. 'i:' .. fp .. '000000000000000000') or '' end\n"
    "return {b, s, u, n, i}\n";

enum { SCRIPT_APPLY, SCRIPT_COOKIE, SCRIPT_COUNT };
static const char *const scripts[SCRIPT_COUNT] = { APPLY_SCRIPT, COOKIE_SCRIPT };

typedef struct {
    char sha[SCRIPT_COUNT][41];
} redis_t;

static void sha1_hex(const char *text, char out[41])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    static const char hex[] = "0123456789abcdef";

    if (EVP_Digest(text, strlen(text), md, &n, EVP_sha1(), NULL) != 1 || n != 20) {
        memset(out, '0', 40);   /* EVALSHA then fails with NOSCRIPT and EVAL is used */
        out[40] = '\0';
        return;
    }
    for (unsigned i = 0; i < n; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[40] = '\0';
}

/* -- answers ---------------------------------------------------------------- */

#define ANSWER_MAX 5

typedef struct {
    bcl_resp_reply_t reply;
    /* copies of bulk values (the connection's buffer is reused after the
     * exchange): up to five records' worth */
    char data[ANSWER_MAX][BCL_NET_VALUE_MAX + 1];
    size_t len[ANSWER_MAX];
    int noscript;
} answer_t;

static int parse_answer(bcl_netconn_t *c, void *baton, const char **why)
{
    answer_t *a = baton;
    size_t used = 0;

    switch (bcl_resp_parse(c->buf, c->len, &a->reply, &used)) {
    case BCL_RESP_INCOMPLETE:
        return BCL_NET_MORE;
    case BCL_RESP_BAD:
        return BCL_NET_BAD;
    default:
        break;
    }
    if (a->reply.top.type == BCL_RESP_ERROR) {
        bcl_netconn_consume(c, used);
        /* the server forgot our scripts (a restart): not a failure, EVAL follows */
        if (a->reply.top.len >= 8 && memcmp(a->reply.top.str, "NOSCRIPT", 8) == 0) {
            a->noscript = 1;
            a->reply.top.str = NULL;
            return BCL_NET_DONE;
        }
        if (a->reply.top.len >= 3 && memcmp(a->reply.top.str, "OOM", 3) == 0)
            *why = "redis is out of memory (maxmemory reached; use maxmemory-policy noeviction and more memory)";
        else if (a->reply.top.len >= 6 && memcmp(a->reply.top.str, "NOAUTH", 6) == 0)
            *why = "redis requires a password (BCLStore redis password=)";
        else if (a->reply.top.len >= 8 && memcmp(a->reply.top.str, "READONLY", 8) == 0)
            *why = "redis is a read-only replica";
        else
            *why = "redis answered an error";
        return BCL_NET_REFUSED;
    }
    for (size_t i = 0; i < a->reply.n && i < ANSWER_MAX; i++) {
        const bcl_resp_value_t *v = &a->reply.elems[i];
        a->len[i] = 0;
        if (v->type == BCL_RESP_BULK) {
            /* longer than any record: not ours; kept too long to decode */
            a->len[i] = v->len > BCL_NET_VALUE_MAX ? BCL_NET_VALUE_MAX + 1 : v->len;
            memcpy(a->data[i], v->str, a->len[i] > BCL_NET_VALUE_MAX ? BCL_NET_VALUE_MAX : a->len[i]);
        }
    }
    a->reply.top.str = NULL;   /* points into the buffer: not used after this */
    for (size_t i = 0; i < a->reply.n; i++)
        a->reply.elems[i].str = NULL;
    bcl_netconn_consume(c, used);
    return BCL_NET_DONE;
}

/* Decodes element i of an array answer into rec; 0: absent, 1: found. */
static int answer_record(bcl_net_store_t *ns, const answer_t *a, size_t i, const char *key, bcl_record_t *rec)
{
    if (i >= a->reply.n || i >= ANSWER_MAX || a->reply.elems[i].type != BCL_RESP_BULK || a->len[i] == 0)
        return 0;
    if (a->len[i] > BCL_NET_VALUE_MAX || bcl_netrec_decode(a->data[i], a->len[i], rec) != 0) {
        bcl_net_bad_record(ns, ns->srv[0], key);
        return 0;
    }
    return 1;
}

/* -- commands --------------------------------------------------------------- */

#define REQ_MAX 4096

static int command(bcl_net_store_t *ns, const char *what, int argc, const char *const argv[],
                   const size_t lens[], answer_t *a)
{
    char req[REQ_MAX];
    size_t n = bcl_resp_command(req, sizeof(req), argc, argv, lens);

    memset(a, 0, sizeof(*a));
    if (n == 0) {
        bcl_net_failed(ns, ns->srv[0], what, "the command does not fit the request buffer", APR_SUCCESS);
        return -1;
    }
    return bcl_net_exchange(ns, ns->srv[0], what, req, n, parse_answer, a);
}

/* EVALSHA, and EVAL when the server does not know the script (after a
 * restart or SCRIPT FLUSH). `args` are the arguments after the script. */
static int run_script(bcl_net_store_t *ns, int script, const char *what, int argc, const char *const args[],
                      const size_t lens[], answer_t *a)
{
    redis_t *rd = ns->impl;
    const char *argv[16];
    size_t l[16];

    argv[0] = "EVALSHA";
    l[0] = 7;
    argv[1] = rd->sha[script];
    l[1] = 40;
    for (int i = 0; i < argc && i < 14; i++) {
        argv[i + 2] = args[i];
        l[i + 2] = lens[i];
    }
    if (command(ns, what, argc + 2, argv, l, a) != 0)
        return -1;
    if (!a->noscript)
        return 0;
    argv[0] = "EVAL";
    l[0] = 4;
    argv[1] = scripts[script];
    l[1] = strlen(scripts[script]);
    return command(ns, what, argc + 2, argv, l, a);
}

static size_t num(char *out, size_t cap, long long v)
{
    int n = snprintf(out, cap, "%lld", v);
    return n < 0 ? 0 : (size_t)n;
}

/* -- operations ------------------------------------------------------------- */

/* Tries to apply a logout once: 0 done (or a replay), 2 a record changed
 * meanwhile (try again), -1 failed (logged). */
static int apply_once(bcl_net_store_t *ns, const bcl_logout_t *l, int64_t now, int64_t lifetime, int *replayed)
{
    const char *prefix = ns->conf->prefix;
    char names[BCL_RULES_MAX_WRITES][BCL_NET_KEY_MAX];
    char vals[BCL_RULES_MAX_WRITES][BCL_NET_VALUE_MAX], ttls[BCL_RULES_MAX_WRITES][24];
    char want[BCL_RULES_MAX_WRITES][BCL_NET_VALUE_MAX], snkeys[8];
    bcl_record_t recs[BCL_RULES_MAX_WRITES], old;
    const char *argv[1 + BCL_RULES_MAX_WRITES];
    size_t lens[1 + BCL_RULES_MAX_WRITES];
    /* numkeys, keys, then ARGV: 1 + n + 3 n */
    const char *args[1 + 4 * BCL_RULES_MAX_WRITES];
    size_t alens[1 + 4 * BCL_RULES_MAX_WRITES];
    size_t wlen[BCL_RULES_MAX_WRITES];
    int n = bcl_rules_logout_records(l, now, lifetime, recs), k = 0, found;
    answer_t a;

    argv[0] = "MGET";
    lens[0] = 4;
    for (int i = 0; i < n; i++) {
        lens[i + 1] = bcl_netrec_key(names[i], prefix, recs[i].kind, &recs[i].key);
        argv[i + 1] = names[i];
    }
    if (command(ns, "storing a logout", n + 1, argv, lens, &a) != 0)
        return -1;
    if (a.reply.top.type != BCL_RESP_ARRAY || a.reply.n != (size_t)n) {
        bcl_net_failed(ns, ns->srv[0], "storing a logout", "unexpected answer to MGET", APR_SUCCESS);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        /* what the record must still hold when it is written */
        if (a.reply.elems[i].type != BCL_RESP_BULK) {
            wlen[i] = 0;
        } else if (a.len[i] > BCL_NET_VALUE_MAX) {
            want[i][0] = '*';   /* not ours and too long to compare: replaced */
            wlen[i] = 1;
        } else {
            memcpy(want[i], a.data[i], a.len[i]);
            wlen[i] = a.len[i];
        }
        found = answer_record(ns, &a, (size_t)i, names[i], &old);
        if (i == 0 && bcl_rules_is_replay(found ? &old : NULL, now)) {
            *replayed = 1;
            return 0;
        }
        if (i > 0)
            bcl_rules_merge(&recs[i], found ? &old : NULL, now);
    }

    if (ns->race != NULL)
        ns->race(ns->race_arg);
    args[k] = snkeys;
    alens[k++] = num(snkeys, sizeof(snkeys), n);
    for (int i = 0; i < n; i++) {
        args[k] = names[i];
        alens[k++] = lens[i + 1];
    }
    for (int i = 0; i < n; i++) {
        size_t vl = bcl_netrec_encode(vals[i], &recs[i]);
        if (vl == 0) {
            bcl_net_failed(ns, ns->srv[0], "storing a logout", "the record cannot be encoded", APR_SUCCESS);
            return -1;
        }
        args[k] = want[i];
        alens[k++] = wlen[i];
        args[k] = vals[i];
        alens[k++] = vl;
        args[k] = ttls[i];
        alens[k++] = num(ttls[i], sizeof(ttls[i]), bcl_net_ttl(recs[i].expires, now));
    }
    *replayed = 0;
    if (run_script(ns, SCRIPT_APPLY, "storing a logout", k, args, alens, &a) != 0)
        return -1;
    if (a.reply.top.type != BCL_RESP_INTEGER || (a.reply.top.integer != 0 && a.reply.top.integer != 2)) {
        bcl_net_failed(ns, ns->srv[0], "storing a logout", "unexpected answer to the script", APR_SUCCESS);
        return -1;
    }
    return a.reply.top.integer == 2 ? 2 : 0;
}

#define APPLY_ATTEMPTS 5

static bcl_store_status_t redis_apply_logout(bcl_store_t *s, const bcl_logout_t *l, int64_t now,
                                             int64_t lifetime, int *replayed)
{
    bcl_net_store_t *ns = s->ctx;

    for (int attempt = 0; attempt < APPLY_ATTEMPTS; attempt++) {
        int rc = apply_once(ns, l, now, lifetime, replayed);
        if (rc == 0)
            return BCL_STORE_OK;
        if (rc < 0)
            return BCL_STORE_UNAVAILABLE;
    }
    bcl_net_failed(ns, ns->srv[0], "storing a logout", "the records kept changing under concurrent logouts",
                   APR_SUCCESS);
    return BCL_STORE_UNAVAILABLE;
}

static bcl_store_status_t redis_bind(bcl_store_t *s, const bcl_hkey_t *cookie, const bcl_identity_t *id,
                                     int64_t now, int64_t expires)
{
    bcl_net_store_t *ns = s->ctx;
    char key[BCL_NET_KEY_MAX], val[BCL_NET_VALUE_MAX], ttl[24];
    bcl_record_t rec;
    answer_t a;

    bcl_rules_binding_record(&rec, cookie, id, expires);
    const char *argv[] = { "SET", key, val, "EX", ttl };
    size_t lens[] = { 3, bcl_netrec_key(key, ns->conf->prefix, BCL_REC_BINDING, cookie),
                      bcl_netrec_encode(val, &rec), 2, num(ttl, sizeof(ttl), bcl_net_ttl(expires, now)) };
    if (command(ns, "storing a binding", 5, argv, lens, &a) != 0)
        return BCL_STORE_UNAVAILABLE;
    return BCL_STORE_OK;
}

static bcl_store_status_t redis_unbind(bcl_store_t *s, const bcl_hkey_t *cookie)
{
    bcl_net_store_t *ns = s->ctx;
    char key[BCL_NET_KEY_MAX];
    answer_t a;
    const char *argv[] = { "DEL", key };
    size_t lens[] = { 3, bcl_netrec_key(key, ns->conf->prefix, BCL_REC_BINDING, cookie) };
    return command(ns, "dropping a binding", 2, argv, lens, &a) == 0 ? BCL_STORE_OK : BCL_STORE_UNAVAILABLE;
}

/* Where the cookie script puts each kind of revocation in its answer. */
static size_t cookie_answer_slot(int kind)
{
    switch (kind) {
    case BCL_REC_REVOKED_SID: return 1;
    case BCL_REC_REVOKED_SUB: return 2;
    case BCL_REC_REVOKED_SUB_NOSID: return 3;
    case BCL_REC_REVOKED_ISS: return 4;
    default: return ANSWER_MAX;
    }
}

static bcl_store_status_t redis_cookie_state(bcl_store_t *s, const bcl_hkey_t *cookie, int64_t now,
                                             bcl_session_state_t *state, bcl_identity_t *id)
{
    bcl_net_store_t *ns = s->ctx;
    char key[BCL_NET_KEY_MAX], fallback[2 * BCL_ISS_FP_LEN + 1];
    bcl_rules_ref_t refs[BCL_RULES_MAX_REVS];
    bcl_record_t b, recs[BCL_RULES_MAX_REVS];
    const bcl_record_t *got[BCL_RULES_MAX_REVS];
    int n;
    answer_t a;
    const char *args[] = { "1", key, ns->conf->prefix, fallback };
    size_t lens[] = { 1, bcl_netrec_key(key, ns->conf->prefix, BCL_REC_BINDING, cookie), strlen(ns->conf->prefix),
                      0 };

    /* the cut-off for a binding without fingerprint (bcl_rules_binding_identity) */
    if (!bcl_hkey_is_zero(&id->iss_key)) {
        static const char hex[] = "0123456789abcdef";
        for (int i = 0; i < BCL_ISS_FP_LEN; i++) {
            fallback[2 * i] = hex[id->iss_key.b[i] >> 4];
            fallback[2 * i + 1] = hex[id->iss_key.b[i] & 15];
        }
        lens[3] = 2 * BCL_ISS_FP_LEN;
    }
    fallback[lens[3]] = '\0';
    if (run_script(ns, SCRIPT_COOKIE, "looking up a session", 4, args, lens, &a) != 0)
        return BCL_STORE_UNAVAILABLE;
    if (a.reply.top.type != BCL_RESP_ARRAY || a.reply.n != 5) {
        bcl_net_failed(ns, ns->srv[0], "looking up a session", "unexpected answer to the script", APR_SUCCESS);
        return BCL_STORE_UNAVAILABLE;
    }
    if (!bcl_rules_binding_identity(answer_record(ns, &a, 0, key, &b) ? &b : NULL, now, id)) {
        *state = BCL_SESSION_UNBOUND;
        return BCL_STORE_OK;
    }
    n = bcl_rules_revocations_of(id, refs);
    for (int i = 0; i < n; i++)
        got[i] = answer_record(ns, &a, cookie_answer_slot(refs[i].kind), "a revocation", &recs[i]) ? &recs[i] : NULL;
    *state = bcl_rules_state(id, refs, got, n, now);
    return BCL_STORE_OK;
}

static bcl_store_status_t redis_identity_state(bcl_store_t *s, const bcl_identity_t *id, int64_t now,
                                               bcl_session_state_t *state)
{
    bcl_net_store_t *ns = s->ctx;
    char names[BCL_RULES_MAX_REVS][BCL_NET_KEY_MAX];
    bcl_rules_ref_t refs[BCL_RULES_MAX_REVS];
    bcl_record_t recs[BCL_RULES_MAX_REVS];
    const bcl_record_t *got[BCL_RULES_MAX_REVS];
    const char *argv[1 + BCL_RULES_MAX_REVS] = { "MGET" };
    size_t lens[1 + BCL_RULES_MAX_REVS] = { 4 };
    int n = bcl_rules_revocations_of(id, refs);
    answer_t a;

    if (n == 0) {
        *state = BCL_SESSION_LIVE;
        return BCL_STORE_OK;
    }
    for (int i = 0; i < n; i++) {
        lens[i + 1] = bcl_netrec_key(names[i], ns->conf->prefix, refs[i].kind, &refs[i].key);
        argv[i + 1] = names[i];
    }
    if (command(ns, "looking up a session", n + 1, argv, lens, &a) != 0)
        return BCL_STORE_UNAVAILABLE;
    if (a.reply.top.type != BCL_RESP_ARRAY || a.reply.n != (size_t)n) {
        bcl_net_failed(ns, ns->srv[0], "looking up a session", "unexpected answer to MGET", APR_SUCCESS);
        return BCL_STORE_UNAVAILABLE;
    }
    for (int i = 0; i < n; i++)
        got[i] = answer_record(ns, &a, (size_t)i, names[i], &recs[i]) ? &recs[i] : NULL;
    *state = bcl_rules_state(id, refs, got, n, now);
    return BCL_STORE_OK;
}

static bcl_store_status_t redis_revocation(bcl_store_t *s, int kind, const bcl_hkey_t *key, int64_t now,
                                           bcl_record_t *out, int *found)
{
    bcl_net_store_t *ns = s->ctx;
    char name[BCL_NET_KEY_MAX];
    answer_t a;
    const char *argv[] = { "MGET", name };
    size_t lens[] = { 4, bcl_netrec_key(name, ns->conf->prefix, kind, key) };

    *found = 0;
    if (lens[1] == 0 || command(ns, "looking up a revocation", 2, argv, lens, &a) != 0)
        return BCL_STORE_UNAVAILABLE;
    if (a.reply.top.type != BCL_RESP_ARRAY || a.reply.n != 1) {
        bcl_net_failed(ns, ns->srv[0], "looking up a revocation", "unexpected answer to MGET", APR_SUCCESS);
        return BCL_STORE_UNAVAILABLE;
    }
    *found = answer_record(ns, &a, 0, name, out) && out->kind == kind && out->expires > now;
    return BCL_STORE_OK;
}

static const bcl_store_ops_t redis_ops = {
    "redis",
    redis_apply_logout,
    redis_bind,
    redis_unbind,
    redis_cookie_state,
    redis_identity_state,
    bcl_store_net_stats,
    bcl_store_net_usage_crossings,
    bcl_store_net_log_allowed,
    redis_revocation,
};

/* -- connection setup ------------------------------------------------------- */

/* Sends one command on a new connection and reads a +OK. */
static apr_status_t setup_command(bcl_netconn_t *c, int argc, const char *const argv[], const size_t lens[],
                                  apr_status_t refused)
{
    char req[1024];
    bcl_resp_reply_t r;
    size_t n = bcl_resp_command(req, sizeof(req), argc, argv, lens), used = 0;
    apr_status_t rv;

    if (n == 0)
        return APR_EINVAL;
    if ((rv = bcl_netconn_send(c, req, n)) != APR_SUCCESS)
        return rv;
    for (;;) {
        bcl_resp_status_t st = bcl_resp_parse(c->buf, c->len, &r, &used);
        if (st == BCL_RESP_OK)
            break;
        if (st == BCL_RESP_BAD)
            return APR_EGENERAL;
        if ((rv = bcl_netconn_recv(c)) != APR_SUCCESS)
            return rv;
    }
    bcl_netconn_consume(c, used);
    return r.top.type == BCL_RESP_SIMPLE ? APR_SUCCESS : refused;
}

static apr_status_t redis_setup(bcl_netconn_t *c, void *baton, const char **why)
{
    const bcl_net_conf_t *conf = baton;
    apr_status_t rv;

    if (conf->password != NULL) {
        const char *argv[] = { "AUTH", conf->username ? conf->username : conf->password, conf->password };
        size_t lens[] = { 4, strlen(argv[1]), strlen(conf->password) };
        if ((rv = setup_command(c, conf->username ? 3 : 2, argv, lens, BCL_NETCONN_EAUTH)) != APR_SUCCESS) {
            *why = "AUTH failed";
            return rv;
        }
    }
    if (conf->db != 0) {
        char db[16];
        const char *argv[] = { "SELECT", db };
        size_t lens[] = { 6, (size_t)snprintf(db, sizeof(db), "%d", conf->db) };
        if ((rv = setup_command(c, 2, argv, lens, BCL_NETCONN_ESELECT)) != APR_SUCCESS) {
            *why = "SELECT failed";
            return rv;
        }
    }
    return APR_SUCCESS;
}

bcl_store_t *bcl_store_redis_create(apr_pool_t *p, const bcl_net_conf_t *conf, bcl_net_health_t *health,
                                    const bcl_logger_t *logger)
{
    bcl_net_store_t *ns = bcl_net_store_new(p, conf, health, logger);
    bcl_store_t *s = apr_pcalloc(p, sizeof(*s));
    redis_t *rd = apr_pcalloc(p, sizeof(*rd));
    const bcl_net_server_t *srv = &APR_ARRAY_IDX(ns->conf->servers, 0, bcl_net_server_t);

    for (int i = 0; i < SCRIPT_COUNT; i++)
        sha1_hex(scripts[i], rd->sha[i]);
    ns->kind_name = "redis";
    ns->impl = rd;
    ns->nsrv = 1;
    ns->srv[0] = bcl_netsrv_create(p, srv->host, srv->port, ns->conf->timeout, redis_setup, (void *)ns->conf);
    s->ops = &redis_ops;
    s->ctx = ns;
    return s;
}
