/* The store over one redis server. Each operation is one round trip:
 * applying a logout and looking up a cookie run as Lua scripts (EVALSHA,
 * falling back to EVAL after a redis restart forgot them), so the guard's
 * cookie -> binding -> revocations chain and the receiver's
 * replay-check -> merge -> write are atomic on the server. */
#include <stdio.h>
#include <string.h>
#include <openssl/evp.h>
#include <apr_strings.h>
#include "bcl_resp.h"
#include "bcl_store_net_impl.h"

/* KEYS: jti, revocation. ARGV: now, kind letter, expires, t_server, t_op,
 * jti value, jti ttl. Returns 1 for a replay (nothing written), else 0.
 * Times are compared as numbers (exact below 2^53) but written back as the
 * strings they came as. */
static const char APPLY_SCRIPT[] =
    "if redis.call('EXISTS', KEYS[1]) == 1 then return 1 end\n"
    "local e, ts, top = ARGV[3], ARGV[4], ARGV[5]\n"
    "local old = redis.call('GET', KEYS[2])\n"
    "if old then\n"
    "  local oe, ots, otop = string.match(old, '^1 ' .. ARGV[2] .. ' (%-?%d+) (%-?%d+) (%-?%d+) ')\n"
    "  if oe then\n"
    "    if tonumber(oe) > tonumber(e) then e = oe end\n"
    "    if tonumber(ots) > tonumber(ts) then ts = ots end\n"
    "    if tonumber(otop) > tonumber(top) then top = otop end\n"
    "  end\n"
    "end\n"
    "local ttl = tonumber(e) - tonumber(ARGV[1])\n"
    "if ttl < 1 then ttl = 1 end\n"
    "redis.call('SET', KEYS[2], '1 ' .. ARGV[2] .. ' ' .. e .. ' ' .. ts .. ' ' .. top .. ' - -', 'EX', ttl)\n"
    "redis.call('SET', KEYS[1], ARGV[6], 'EX', ARGV[7])\n"
    "return 0\n";

/* KEYS: the cookie's binding. ARGV: the key prefix. Returns {binding,
 * sid revocation, sub revocation}, '' for each one absent. */
static const char COOKIE_SCRIPT[] =
    "local b = redis.call('GET', KEYS[1])\n"
    "if not b then return {'', '', ''} end\n"
    "local sid, sub = string.match(b, '^1 c %-?%d+ %-?%d+ %-?%d+ (%S+) (%S+)$')\n"
    "local s, u = '', ''\n"
    "if sid and sid ~= '-' then s = redis.call('GET', ARGV[1] .. 's:' .. sid) or '' end\n"
    "if sub and sub ~= '-' then u = redis.call('GET', ARGV[1] .. 'u:' .. sub) or '' end\n"
    "return {b, s, u}\n";

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

typedef struct {
    bcl_resp_reply_t reply;
    /* copies of bulk values (the connection's buffer is reused after the
     * exchange): up to three records' worth */
    char data[3][BCL_NET_VALUE_MAX + 1];
    size_t len[3];
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
    for (size_t i = 0; i < a->reply.n && i < 3; i++) {
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
    if (i >= a->reply.n || a->reply.elems[i].type != BCL_RESP_BULK || a->len[i] == 0)
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

static bcl_store_status_t redis_apply_logout(bcl_store_t *s, const bcl_logout_t *l, int64_t now,
                                             int64_t lifetime, int *replayed)
{
    bcl_net_store_t *ns = s->ctx;
    const char *prefix = ns->conf->prefix;
    char jkey[BCL_NET_KEY_MAX], rkey[BCL_NET_KEY_MAX], jval[BCL_NET_VALUE_MAX];
    char snow[24], sexp[24], sts[24], stop[24], sjttl[24];
    bcl_record_t jti = { 0 };
    int kind = l->has_sid ? BCL_REC_REVOKED_SID : BCL_REC_REVOKED_SUB;
    char letter = bcl_netrec_kind_letter(kind);
    answer_t a;

    jti.kind = BCL_REC_JTI;
    jti.expires = l->jti_expires > now + 1 ? l->jti_expires : now + 1;
    const char *args[] = { "2", jkey, rkey, snow, &letter, sexp, sts, stop, jval, sjttl };
    size_t lens[] = {
        1,
        bcl_netrec_key(jkey, prefix, BCL_REC_JTI, &l->jti_key),
        bcl_netrec_key(rkey, prefix, kind, l->has_sid ? &l->sid_key : &l->sub_key),
        num(snow, sizeof(snow), now),
        1,
        num(sexp, sizeof(sexp), now + lifetime),
        num(sts, sizeof(sts), l->accepted_server),
        num(stop, sizeof(stop), l->token_iat),
        bcl_netrec_encode(jval, &jti),
        num(sjttl, sizeof(sjttl), bcl_net_ttl(jti.expires, now)),
    };
    if (run_script(ns, SCRIPT_APPLY, "storing a logout", 10, args, lens, &a) != 0)
        return BCL_STORE_UNAVAILABLE;
    if (a.reply.top.type != BCL_RESP_INTEGER) {
        bcl_net_failed(ns, ns->srv[0], "storing a logout", "unexpected answer to the script", APR_SUCCESS);
        return BCL_STORE_UNAVAILABLE;
    }
    *replayed = a.reply.top.integer == 1;
    return BCL_STORE_OK;
}

static bcl_store_status_t redis_bind(bcl_store_t *s, const bcl_hkey_t *cookie, const bcl_identity_t *id,
                                     int64_t now, int64_t expires)
{
    bcl_net_store_t *ns = s->ctx;
    char key[BCL_NET_KEY_MAX], val[BCL_NET_VALUE_MAX], ttl[24];
    bcl_record_t rec = { 0 };
    answer_t a;

    rec.kind = BCL_REC_BINDING;
    rec.expires = expires;
    rec.t_server = id->began_server;
    rec.t_op = id->began_op;
    rec.sid_key = id->sid_key;
    rec.sub_key = id->sub_key;
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

static bcl_store_status_t redis_cookie_state(bcl_store_t *s, const bcl_hkey_t *cookie, int64_t now,
                                             bcl_session_state_t *state, bcl_identity_t *id)
{
    bcl_net_store_t *ns = s->ctx;
    char key[BCL_NET_KEY_MAX];
    bcl_record_t b, sr, ur;
    int hb, hs, hu;
    answer_t a;
    const char *args[] = { "1", key, ns->conf->prefix };
    size_t lens[] = { 1, bcl_netrec_key(key, ns->conf->prefix, BCL_REC_BINDING, cookie), strlen(ns->conf->prefix) };

    if (run_script(ns, SCRIPT_COOKIE, "looking up a session", 3, args, lens, &a) != 0)
        return BCL_STORE_UNAVAILABLE;
    if (a.reply.top.type != BCL_RESP_ARRAY || a.reply.n != 3) {
        bcl_net_failed(ns, ns->srv[0], "looking up a session", "unexpected answer to the script", APR_SUCCESS);
        return BCL_STORE_UNAVAILABLE;
    }
    hb = answer_record(ns, &a, 0, key, &b);
    hs = answer_record(ns, &a, 1, "a sid revocation", &sr);
    hu = answer_record(ns, &a, 2, "a sub revocation", &ur);
    *state = bcl_netrec_cookie_state(hb ? &b : NULL, hs ? &sr : NULL, hu ? &ur : NULL, now, id);
    return BCL_STORE_OK;
}

static bcl_store_status_t redis_identity_state(bcl_store_t *s, const bcl_identity_t *id, int64_t now,
                                               bcl_session_state_t *state)
{
    bcl_net_store_t *ns = s->ctx;
    char skey[BCL_NET_KEY_MAX], ukey[BCL_NET_KEY_MAX];
    bcl_record_t sr, ur;
    int hs = 0, hu = 0;
    answer_t a;
    const char *argv[3] = { "MGET" };
    size_t lens[3] = { 4 };
    int argc = 1, si = -1, ui = -1;

    if (!bcl_hkey_is_zero(&id->sid_key)) {
        lens[argc] = bcl_netrec_key(skey, ns->conf->prefix, BCL_REC_REVOKED_SID, &id->sid_key);
        argv[argc] = skey;
        si = argc++ - 1;
    }
    if (!bcl_hkey_is_zero(&id->sub_key)) {
        lens[argc] = bcl_netrec_key(ukey, ns->conf->prefix, BCL_REC_REVOKED_SUB, &id->sub_key);
        argv[argc] = ukey;
        ui = argc++ - 1;
    }
    if (argc == 1) {
        *state = BCL_SESSION_LIVE;
        return BCL_STORE_OK;
    }
    if (command(ns, "looking up a session", argc, argv, lens, &a) != 0)
        return BCL_STORE_UNAVAILABLE;
    if (a.reply.top.type != BCL_RESP_ARRAY || a.reply.n != (size_t)(argc - 1)) {
        bcl_net_failed(ns, ns->srv[0], "looking up a session", "unexpected answer to MGET", APR_SUCCESS);
        return BCL_STORE_UNAVAILABLE;
    }
    if (si >= 0)
        hs = answer_record(ns, &a, (size_t)si, skey, &sr);
    if (ui >= 0)
        hu = answer_record(ns, &a, (size_t)ui, ukey, &ur);
    *state = bcl_netrec_identity_state(id, hs ? &sr : NULL, hu ? &ur : NULL, now);
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

bcl_store_t *bcl_store_redis_make(apr_pool_t *p, bcl_net_store_t *ns)
{
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
