/* One contract for every store backend: the same operations, the same
 * answers, from the shared-memory table store, a real memcached and a real
 * redis-server. The servers are started by this suite on free loopback
 * ports (once per test case, in the runner's process) and stopped after it;
 * a missing server binary fails the suite, it is not skipped. Each test
 * gets a key prefix of its own, so tests never see each other's records.
 *
 * The rules themselves (bcl_rules.c) are shared by every backend; this
 * suite checks that each backend fetches and writes what the rules need. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <check.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include "bcl_rules.h"
#include "bcl_store.h"
#include "bcl_store_net.h"
#include "bcl_table.h"
#include "test_helpers.h"

enum { B_TABLE, B_MEMCACHE, B_REDIS, B_COUNT };
static const char *const backend_names[B_COUNT] = { "shm", "memcache", "redis" };

/* -- servers ---------------------------------------------------------------- */

typedef struct {
    pid_t pid;
    int port;
    char dir[64];
} server_t;

static server_t servers[B_COUNT];

static int free_port(void)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0
        && getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

static int port_open(int port)
{
    struct sockaddr_in a;
    int fd = socket(AF_INET, SOCK_STREAM, 0), ok;

    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

static const char *find_binary(const char *name)
{
    static char path[256];
    const char *dirs[] = { "/usr/bin", "/usr/sbin", "/usr/local/bin", "/bin", NULL };
    for (int i = 0; dirs[i]; i++) {
        snprintf(path, sizeof(path), "%s/%s", dirs[i], name);
        if (access(path, X_OK) == 0)
            return path;
    }
    return NULL;
}

/* Starts a server; on failure leaves pid 0 (the tests then fail, saying why). */
static void start_server(int b)
{
    server_t *s = &servers[b];
    char port[16];
    const char *bin = find_binary(b == B_MEMCACHE ? "memcached" : "redis-server");

    memset(s, 0, sizeof(*s));
    if (bin == NULL)
        return;
    s->port = free_port();
    if (s->port <= 0)
        return;
    snprintf(port, sizeof(port), "%d", s->port);
    snprintf(s->dir, sizeof(s->dir), "/tmp/bcl-contract.XXXXXX");
    if (mkdtemp(s->dir) == NULL)
        return;
    s->pid = fork();
    if (s->pid == 0) {
        int null = open("/dev/null", O_RDWR);
        if (null >= 0) {
            dup2(null, 1);
            dup2(null, 2);
        }
        setsid();
        if (b == B_MEMCACHE) {
            if (geteuid() == 0)
                execl(bin, bin, "-l", "127.0.0.1", "-p", port, "-U", "0", "-m", "16", "-u", "nobody", (char *)NULL);
            else
                execl(bin, bin, "-l", "127.0.0.1", "-p", port, "-U", "0", "-m", "16", (char *)NULL);
        } else {
            execl(bin, bin, "--port", port, "--bind", "127.0.0.1", "--dir", s->dir, "--save", "",
                  "--appendonly", "no", (char *)NULL);
        }
        _exit(127);
    }
    if (s->pid < 0) {
        s->pid = 0;
        return;
    }
    for (int i = 0; i < 200; i++) {       /* up to 10 s */
        int status;
        if (port_open(s->port))
            return;
        if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
            s->pid = 0;
            return;
        }
        usleep(50000);
    }
    kill(s->pid, SIGKILL);
    waitpid(s->pid, NULL, 0);
    s->pid = 0;
}

static void stop_server(int b)
{
    server_t *s = &servers[b];
    if (s->pid > 0) {
        kill(s->pid, SIGTERM);
        waitpid(s->pid, NULL, 0);
    }
    if (s->dir[0])
        rmdir(s->dir);
    memset(s, 0, sizeof(*s));
}

static void start_servers(void)
{
    start_server(B_MEMCACHE);
    start_server(B_REDIS);
}

static void stop_servers(void)
{
    stop_server(B_MEMCACHE);
    stop_server(B_REDIS);
}

/* -- the store under test ---------------------------------------------------- */

static apr_pool_t *pool;
static void *table_mem;
static bcl_net_health_t health;
static th_logbuf_t logbuf;
static bcl_logger_t logger;

static void setup(void)
{
    apr_pool_create(&pool, NULL);
    table_mem = NULL;
    memset(&health, 0, sizeof(health));
    memset(&logbuf, 0, sizeof(logbuf));
}

static void teardown(void)
{
    free(table_mem);
    table_mem = NULL;
    apr_pool_destroy(pool);
}

static const bcl_net_conf_t *last_conf;   /* make_store's last network store, for make_peer */

/* A fresh, empty store of backend `b`: a new table, or a new key prefix on
 * the backend's server. */
static bcl_store_t *make_store(int b)
{
    static unsigned serial;
    bcl_store_t *s;

    if (b == B_TABLE) {
        table_mem = malloc(bcl_table_size(256));
        ck_assert_ptr_nonnull(table_mem);
        return bcl_store_table_create(pool, bcl_table_init(table_mem, 256), NULL);
    }
    ck_assert_msg(servers[b].pid > 0, "%s could not be started for the store contract tests "
                  "(apt-get install memcached redis-server)", b == B_MEMCACHE ? "memcached" : "redis-server");
    bcl_net_conf_t *conf = apr_pcalloc(pool, sizeof(*conf));
    conf->kind = b == B_MEMCACHE ? BCL_NET_MEMCACHE : BCL_NET_REDIS;
    ck_assert_ptr_null(bcl_net_parse_servers(pool, apr_psprintf(pool, "127.0.0.1:%d", servers[b].port), 1,
                                             &conf->servers));
    conf->timeout = 2000000;
    conf->prefix = apr_psprintf(pool, "t%ld.%u.%ld:", (long)getpid(), serial++, (long)time(NULL));
    logger = th_logger(&logbuf);
    s = b == B_MEMCACHE ? bcl_store_memcache_create(pool, conf, &health, &logger)
                        : bcl_store_redis_create(pool, conf, &health, &logger);
    ck_assert_int_eq(bcl_store_net_child_init(s, pool, 2), APR_SUCCESS);
    last_conf = conf;
    return s;
}

/* Another server of the fleet: a store with its own connections to the
 * same backend and key prefix as make_store's last one. */
static bcl_store_t *make_peer(int b)
{
    bcl_store_t *s = b == B_MEMCACHE ? bcl_store_memcache_create(pool, last_conf, &health, &logger)
                                     : bcl_store_redis_create(pool, last_conf, &health, &logger);
    ck_assert_int_eq(bcl_store_net_child_init(s, pool, 2), APR_SUCCESS);
    return s;
}

/* Times: real ones, as a server sees them (memcached reads large expiry
 * times as absolute). */
static int64_t t0;


static bcl_logout_t logout_of(const char *jti, const char *sid, const char *sub, int64_t accepted_us,
                              int64_t iat, int64_t jti_expires)
{
    bcl_logout_t l;
    memset(&l, 0, sizeof(l));
    ck_assert_int_eq(bcl_hkey_jti(&l.jti_key, "https://op", jti), 0);
    l.has_sid = sid != NULL;
    if (sid)
        ck_assert_int_eq(bcl_hkey_sid(&l.sid_key, "https://op", sid), 0);
    if (sub)
        ck_assert_int_eq(bcl_hkey_sub(&l.sub_key, "https://op", sub), 0);
    l.accepted_server = accepted_us;
    l.token_iat = iat;
    l.jti_expires = jti_expires;
    return l;
}

#define US(sec) ((int64_t)(sec) * 1000000)

static void apply(bcl_store_t *s, const bcl_logout_t *l, int64_t now, int expect_replayed)
{
    int replayed = -1;
    ck_assert_int_eq(s->ops->apply_logout(s, l, now, 600, &replayed), BCL_STORE_OK);
    ck_assert_int_eq(replayed, expect_replayed);
}

static void bind_cookie(bcl_store_t *s, const char *value, const bcl_identity_t *id, int64_t now)
{
    bcl_hkey_t c;
    ck_assert_int_eq(bcl_hkey_cookie(&c, "APP", value, strlen(value)), 0);
    ck_assert_int_eq(s->ops->bind(s, &c, id, now, now + 600), BCL_STORE_OK);
}

/* `fallback`: the cut-off key for a binding that names no issuer (the
 * guard's location's BCLIssuer), NULL for none. */
static bcl_session_state_t cookie_state_with(bcl_store_t *s, const char *value, int64_t now,
                                             const bcl_hkey_t *fallback)
{
    bcl_hkey_t c;
    bcl_identity_t id;
    bcl_session_state_t st = (bcl_session_state_t)-1;
    memset(&id, 0, sizeof(id));
    if (fallback != NULL)
        id.iss_key = *fallback;
    ck_assert_int_eq(bcl_hkey_cookie(&c, "APP", value, strlen(value)), 0);
    ck_assert_int_eq(s->ops->cookie_state(s, &c, now, &st, &id), BCL_STORE_OK);
    return st;
}

static bcl_session_state_t cookie_state(bcl_store_t *s, const char *value, int64_t now)
{
    return cookie_state_with(s, value, now, NULL);
}

static bcl_session_state_t identity_state(bcl_store_t *s, const bcl_identity_t *id, int64_t now)
{
    bcl_session_state_t st = (bcl_session_state_t)-1;
    ck_assert_int_eq(s->ops->identity_state(s, id, now, &st), BCL_STORE_OK);
    return st;
}

#define LIVE BCL_SESSION_LIVE
#define REVOKED BCL_SESSION_REVOKED
#define UNBOUND BCL_SESSION_UNBOUND

/* -- the contract ------------------------------------------------------------ */

START_TEST(test_sid_logout_ends_that_session_only)
{
    bcl_store_t *s = make_store(_i);
    int64_t now = t0;
    bcl_identity_t a = th_identity("s1", "alice", US(now - 100), 0), b = th_identity("s2", "alice", US(now - 100), 0);

    bind_cookie(s, "a", &a, now);
    bind_cookie(s, "b", &b, now);
    ck_assert_int_eq(cookie_state(s, "a", now), LIVE);
    bcl_logout_t l = logout_of("j1", "s1", NULL, US(now), now, now + 120);
    apply(s, &l, now, 0);
    ck_assert_int_eq(cookie_state(s, "a", now), REVOKED);
    ck_assert_int_eq(cookie_state(s, "b", now), LIVE);
    ck_assert_int_eq(identity_state(s, &a, now), REVOKED);
    ck_assert_int_eq(identity_state(s, &b, now), LIVE);
}
END_TEST

START_TEST(test_replay_changes_nothing)
{
    bcl_store_t *s = make_store(_i);
    int64_t now = t0;
    bcl_identity_t later = th_identity(NULL, "bob", US(now + 5), 0);
    bcl_logout_t l = logout_of("j1", NULL, "bob", US(now), now, now + 120);

    apply(s, &l, now, 0);
    bind_cookie(s, "later", &later, now + 5);
    ck_assert_int_eq(cookie_state(s, "later", now + 5), LIVE);
    /* the same jti again, even accepted later: a replay, nothing moves */
    l.accepted_server = US(now + 10);
    apply(s, &l, now + 10, 1);
    ck_assert_int_eq(cookie_state(s, "later", now + 10), LIVE);
}
END_TEST

START_TEST(test_sub_logout_ends_sessions_begun_before)
{
    bcl_store_t *s = make_store(_i);
    int64_t now = t0;
    bcl_identity_t before = th_identity("s1", "carol", US(now - 10), 0);
    bcl_identity_t same = th_identity(NULL, "carol", US(now), 0);
    bcl_identity_t after = th_identity("s3", "carol", US(now) + 1, 0);
    bcl_identity_t other = th_identity("s4", "dave", US(now - 10), 0);

    bind_cookie(s, "before", &before, now);
    bind_cookie(s, "same", &same, now);
    bind_cookie(s, "after", &after, now);
    bind_cookie(s, "other", &other, now);
    bcl_logout_t l = logout_of("j1", NULL, "carol", US(now), now, now + 120);
    apply(s, &l, now, 0);
    ck_assert_int_eq(cookie_state(s, "before", now), REVOKED);
    ck_assert_int_eq(cookie_state(s, "same", now), REVOKED);
    ck_assert_int_eq(cookie_state(s, "after", now), LIVE);
    ck_assert_int_eq(cookie_state(s, "other", now), LIVE);
    /* identities from an auth module compare the OP's iat */
    bcl_identity_t op_before = th_identity("x", "carol", 0, now - 1), op_after = th_identity("x", "carol", 0, now + 1);
    bcl_identity_t op_unknown = th_identity(NULL, "carol", 0, 0);
    ck_assert_int_eq(identity_state(s, &op_before, now), REVOKED);
    ck_assert_int_eq(identity_state(s, &op_after, now), LIVE);
    ck_assert_int_eq(identity_state(s, &op_unknown, now), REVOKED);
}
END_TEST

/* Issue 12 item 5: a token naming sid and sub also ends the sessions bound
 * by sub alone, not a session bound to another sid. */
START_TEST(test_sid_and_sub_logout_ends_sub_only_sessions)
{
    bcl_store_t *s = make_store(_i);
    int64_t now = t0;
    bcl_identity_t sid_bound = th_identity("s1", "erin", US(now - 10), 0);
    bcl_identity_t other_sid = th_identity("s2", "erin", US(now - 10), 0);
    bcl_identity_t sub_only = th_identity(NULL, "erin", US(now - 10), 0);
    bcl_identity_t sub_only_after = th_identity(NULL, "erin", US(now) + 1, 0);
    bcl_identity_t sid_only = th_identity("s2", NULL, US(now - 10), 0);
    bcl_identity_t other_user = th_identity(NULL, "frank", US(now - 10), 0);

    bind_cookie(s, "sid", &sid_bound, now);
    bind_cookie(s, "othersid", &other_sid, now);
    bind_cookie(s, "subonly", &sub_only, now);
    bind_cookie(s, "subafter", &sub_only_after, now);
    bind_cookie(s, "sidonly", &sid_only, now);
    bind_cookie(s, "frank", &other_user, now);
    bcl_logout_t l = logout_of("j1", "s1", "erin", US(now), now, now + 120);
    apply(s, &l, now, 0);
    ck_assert_int_eq(cookie_state(s, "sid", now), REVOKED);
    ck_assert_int_eq(cookie_state(s, "subonly", now), REVOKED);
    ck_assert_int_eq(cookie_state(s, "othersid", now), LIVE);
    ck_assert_int_eq(cookie_state(s, "subafter", now), LIVE);
    ck_assert_int_eq(cookie_state(s, "sidonly", now), LIVE);
    ck_assert_int_eq(cookie_state(s, "frank", now), LIVE);
    /* the same for identities an auth module supplies (OP times) */
    bcl_identity_t env_sub_only = th_identity(NULL, "erin", 0, now - 5), env_other = th_identity("s9", "erin", 0, now - 5);
    ck_assert_int_eq(identity_state(s, &env_sub_only, now), REVOKED);
    ck_assert_int_eq(identity_state(s, &env_other, now), LIVE);
    /* a later sub-only logout of the same user still ends every session */
    bcl_logout_t all = logout_of("j2", NULL, "erin", US(now + 1), now + 1, now + 120);
    apply(s, &all, now + 1, 0);
    ck_assert_int_eq(cookie_state(s, "othersid", now + 1), REVOKED);
    ck_assert_int_eq(cookie_state(s, "subafter", now + 1), REVOKED);
    ck_assert_int_eq(cookie_state(s, "sidonly", now + 1), LIVE);
}
END_TEST

/* A logout without a token (front channel, bcl_rules_session_logout) of a
 * binding's identity: by sid, that session alone; by sub alone, the
 * sessions of sub with no known sid; twice in a row, never a replay. */
START_TEST(test_session_logout_of_a_binding)
{
    bcl_store_t *s = make_store(_i);
    int64_t now = t0;
    bcl_identity_t by_sid = th_identity("s1", "gina", US(now - 10), 0), other = th_identity("s2", "gina", US(now - 10), 0);
    bcl_identity_t by_sub = th_identity(NULL, "hank", US(now - 10), 0), hank_sid = th_identity("s3", "hank", US(now - 10), 0);
    bcl_hkey_t once1, once2, once3;
    bcl_logout_t l;
    int replayed = -1;

    bind_cookie(s, "sid", &by_sid, now);
    bind_cookie(s, "other", &other, now);
    bind_cookie(s, "sub", &by_sub, now);
    bind_cookie(s, "hanksid", &hank_sid, now);
    ck_assert_int_eq(bcl_hkey_jti(&once1, "https://op", "once-1"), 0);
    ck_assert_int_eq(bcl_hkey_jti(&once2, "https://op", "once-2"), 0);
    ck_assert_int_eq(bcl_hkey_jti(&once3, "https://op", "once-3"), 0);
    ck_assert(bcl_rules_session_logout(&l, &by_sid, &once1, US(now), now));
    apply(s, &l, now, 0);
    ck_assert(bcl_rules_session_logout(&l, &by_sid, &once2, US(now), now));
    ck_assert_int_eq(s->ops->apply_logout(s, &l, now, 600, &replayed), BCL_STORE_OK);
    ck_assert_int_eq(replayed, 0);
    ck_assert_int_eq(cookie_state(s, "sid", now), REVOKED);
    ck_assert_int_eq(cookie_state(s, "other", now), LIVE);
    ck_assert(bcl_rules_session_logout(&l, &by_sub, &once3, US(now), now));
    apply(s, &l, now, 0);
    ck_assert_int_eq(cookie_state(s, "sub", now), REVOKED);
    ck_assert_int_eq(cookie_state(s, "hanksid", now), LIVE);
}
END_TEST

/* A later logout of the same sub moves the revocation on; an older token
 * arriving late never moves it back. */
START_TEST(test_merge_keeps_the_later_logout)
{
    bcl_store_t *s = make_store(_i);
    int64_t now = t0;
    bcl_identity_t mid = th_identity(NULL, "gina", US(now + 5), 0);

    bind_cookie(s, "mid", &mid, now);
    bcl_logout_t first = logout_of("j1", NULL, "gina", US(now), now, now + 120);
    apply(s, &first, now, 0);
    ck_assert_int_eq(cookie_state(s, "mid", now), LIVE);
    bcl_logout_t second = logout_of("j2", NULL, "gina", US(now + 10), now + 10, now + 130);
    apply(s, &second, now + 10, 0);
    ck_assert_int_eq(cookie_state(s, "mid", now + 10), REVOKED);
    /* a late, older token (OP time and server time before) */
    bcl_identity_t mid2 = th_identity(NULL, "gina", US(now + 12), now + 12);
    bind_cookie(s, "mid2", &mid2, now + 12);
    bcl_logout_t late = logout_of("j3", NULL, "gina", US(now + 3), now + 3, now + 130);
    apply(s, &late, now + 12, 0);
    ck_assert_int_eq(cookie_state(s, "mid", now + 12), REVOKED);
    ck_assert_int_eq(cookie_state(s, "mid2", now + 12), LIVE);
    /* the revocation lives BCLRevocationLifetime (600) after the last
     * logout accepted (the late one, at now + 12) */
    ck_assert_int_eq(identity_state(s, &mid, now + 611), REVOKED);
    ck_assert_int_eq(identity_state(s, &mid, now + 612), LIVE);
}
END_TEST

START_TEST(test_revocations_expire_with_the_lifetime)
{
    bcl_store_t *s = make_store(_i);
    int64_t now = t0;
    bcl_identity_t a = th_identity("s1", "hal", US(now - 10), 0);

    bcl_logout_t l = logout_of("j1", "s1", "hal", US(now), now, now + 120);
    apply(s, &l, now, 0);
    ck_assert_int_eq(identity_state(s, &a, now + 599), REVOKED);
    ck_assert_int_eq(identity_state(s, &a, now + 600), LIVE);
}
END_TEST

/* Issue 12 item 6: a jti is remembered until the token expires, at most
 * BCLRevocationLifetime; a far-future exp does not pin it. */
START_TEST(test_jti_lives_at_most_the_lifetime)
{
    bcl_store_t *s = make_store(_i);
    int64_t now = t0;
    bcl_logout_t far = logout_of("far", "s1", NULL, US(now), now, now + 10LL * 365 * 86400);
    bcl_logout_t near = logout_of("near", "s2", NULL, US(now), now, now + 100);

    apply(s, &far, now, 0);
    apply(s, &near, now, 0);
    apply(s, &far, now + 599, 1);
    apply(s, &near, now + 99, 1);
    /* the short-lived jti is gone after its exp, the far one after the lifetime */
    apply(s, &near, now + 100, 0);
    apply(s, &far, now + 600, 0);
}
END_TEST

START_TEST(test_bindings)
{
    bcl_store_t *s = make_store(_i);
    int64_t now = t0;
    bcl_identity_t a = th_identity("s1", "ike", US(now), 0), b = th_identity("s2", "ike", US(now), 0);
    bcl_identity_t none = th_identity(NULL, NULL, 0, 0);
    bcl_hkey_t c;
    bcl_identity_t got = th_identity(NULL, NULL, 0, 0);  /* cookie_state reads its iss_key (bcl_store.h) */
    bcl_session_state_t st;

    ck_assert_int_eq(cookie_state(s, "x", now), UNBOUND);
    bind_cookie(s, "x", &a, now);
    /* the binding gives back the identity it was made with */
    ck_assert_int_eq(bcl_hkey_cookie(&c, "APP", "x", 1), 0);
    ck_assert_int_eq(s->ops->cookie_state(s, &c, now, &st, &got), BCL_STORE_OK);
    ck_assert_int_eq(st, LIVE);
    ck_assert(memcmp(&got.sid_key, &a.sid_key, BCL_KEY_LEN) == 0);
    ck_assert(memcmp(&got.sub_key, &a.sub_key, BCL_KEY_LEN) == 0);
    ck_assert(got.began_server == a.began_server && got.began_op == 0);
    /* binding again replaces */
    bind_cookie(s, "x", &b, now);
    bcl_logout_t l = logout_of("j1", "s1", NULL, US(now), now, now + 120);
    apply(s, &l, now, 0);
    ck_assert_int_eq(cookie_state(s, "x", now), LIVE);
    /* unbinding forgets; unbinding nothing is fine */
    ck_assert_int_eq(s->ops->unbind(s, &c), BCL_STORE_OK);
    ck_assert_int_eq(cookie_state(s, "x", now), UNBOUND);
    ck_assert_int_eq(s->ops->unbind(s, &c), BCL_STORE_OK);
    /* a binding expires */
    bind_cookie(s, "y", &a, now);
    ck_assert_int_eq(cookie_state(s, "y", now + 599), REVOKED);
    ck_assert_int_eq(cookie_state(s, "y", now + 600), UNBOUND);
    /* an identity naming nothing is never revoked */
    ck_assert_int_eq(identity_state(s, &none, now), LIVE);
}
END_TEST

/* An administrator's revocations (bcl_rules_admin_logout): sub and sid as
 * a token would write them, and the issuer cut-off, found from a binding's
 * fingerprint, from an identity's issuer, and (bindings made before
 * cut-offs) from the caller's default. */
START_TEST(test_admin_revocations_and_issuer_cutoff)
{
    bcl_store_t *s = make_store(_i);
    int64_t now = t0;
    bcl_hkey_t op, other, once, key;
    bcl_logout_t l;
    bcl_record_t rec;
    int found = -1;

    ck_assert_int_eq(bcl_hkey_iss(&op, "https://op"), 0);
    ck_assert_int_eq(bcl_hkey_iss(&other, "https://other"), 0);
    bcl_identity_t a = th_identity("s1", "alice", US(now - 100), 0), b = th_identity("s2", "bob", US(now - 100), 0);
    bcl_identity_t foreign = th_identity("s3", "carol", US(now - 100), 0);
    bcl_identity_t legacy = th_identity("s4", "dave", US(now - 100), 0);
    bcl_identity_t env = th_identity("s5", NULL, 0, now - 100);
    a.iss_key = b.iss_key = env.iss_key = op;
    foreign.iss_key = other;
    bind_cookie(s, "a", &a, now);
    bind_cookie(s, "b", &b, now);
    bind_cookie(s, "f", &foreign, now);
    bind_cookie(s, "old", &legacy, now);

    /* sub: alice only */
    ck_assert_int_eq(bcl_hkey_sub(&key, "https://op", "alice"), 0);
    ck_assert_int_eq(bcl_hkey_jti(&once, "https://op", "admin 1"), 0);
    ck_assert(bcl_rules_admin_logout(&l, BCL_REC_REVOKED_SUB, &key, &once, US(now), now));
    apply(s, &l, now, 0);
    ck_assert_int_eq(cookie_state(s, "a", now), REVOKED);
    ck_assert_int_eq(cookie_state(s, "b", now), LIVE);
    ck_assert_int_eq(s->ops->revocation(s, BCL_REC_REVOKED_SUB, &key, now, &rec, &found), BCL_STORE_OK);
    ck_assert_int_eq(found, 1);
    ck_assert(rec.t_server == US(now) && rec.t_op == now);
    ck_assert_int_eq(s->ops->revocation(s, BCL_REC_REVOKED_SID, &key, now, &rec, &found), BCL_STORE_OK);
    ck_assert_int_eq(found, 0);
    ck_assert_int_eq(s->ops->revocation(s, BCL_REC_REVOKED_ISS, &op, now, &rec, &found), BCL_STORE_OK);
    ck_assert_int_eq(found, 0);

    /* all of https://op, a second later */
    ck_assert_int_eq(bcl_hkey_jti(&once, "https://op", "admin 2"), 0);
    ck_assert(bcl_rules_admin_logout(&l, BCL_REC_REVOKED_ISS, &op, &once, US(now + 1), now + 1));
    apply(s, &l, now + 1, 0);
    ck_assert_int_eq(cookie_state(s, "b", now + 1), REVOKED);
    ck_assert_int_eq(cookie_state(s, "f", now + 1), LIVE);          /* another issuer */
    ck_assert_int_eq(identity_state(s, &env, now + 1), REVOKED);    /* an auth module's identity */
    ck_assert_int_eq(identity_state(s, &foreign, now + 1), LIVE);
    /* a binding without fingerprint: the caller's default issuer decides */
    ck_assert_int_eq(cookie_state(s, "old", now + 1), LIVE);
    ck_assert_int_eq(cookie_state_with(s, "old", now + 1, &op), REVOKED);
    ck_assert_int_eq(cookie_state_with(s, "old", now + 1, &other), LIVE);
    /* ... but a fingerprint wins over the default */
    ck_assert_int_eq(cookie_state_with(s, "f", now + 1, &op), LIVE);
    /* sessions begun afterwards live */
    bcl_identity_t later = th_identity("s6", "bob", US(now + 2), 0), later_env = th_identity("s7", NULL, 0, now + 2);
    later.iss_key = later_env.iss_key = op;
    bind_cookie(s, "later", &later, now + 2);
    ck_assert_int_eq(cookie_state(s, "later", now + 2), LIVE);
    ck_assert_int_eq(identity_state(s, &later_env, now + 2), LIVE);
    ck_assert_int_eq(s->ops->revocation(s, BCL_REC_REVOKED_ISS, &op, now + 2, &rec, &found), BCL_STORE_OK);
    ck_assert_int_eq(found, 1);
    ck_assert(rec.t_server == US(now + 1));
    /* it expires with the lifetime */
    ck_assert_int_eq(cookie_state(s, "b", now + 1 + 600), UNBOUND);
    ck_assert_int_eq(identity_state(s, &env, now + 1 + 600), LIVE);
}
END_TEST

/* Two servers of a fleet apply logouts of one user at the same moment: the
 * second server writes its (later) revocation between the first one's read
 * and write. Neither may be lost: the record ends with the later cut-off,
 * so a session begun between the two logouts is refused. (A plain set
 * would write the first server's merge over the second's: the earlier
 * cut-off, and that session lives.) Network stores only: the table store
 * reads and writes under one lock. */
typedef struct {
    bcl_store_t *peer;
    const bcl_logout_t *logout;
    int64_t now;
    int calls;
} race_t;

static void race_in(void *arg)
{
    race_t *r = arg;
    if (r->calls++ == 0)
        apply(r->peer, r->logout, r->now, 0);
}

START_TEST(test_concurrent_logouts_of_one_user_both_count)
{
    bcl_store_t *s = make_store(_i), *peer = make_peer(_i);
    int64_t now = t0;
    bcl_identity_t early = th_identity(NULL, "ivan", US(now + 2), 0), between = th_identity(NULL, "ivan", US(now + 7), 0),
                   after = th_identity(NULL, "ivan", US(now + 12), 0);
    bcl_logout_t first = logout_of("j1", NULL, "ivan", US(now + 5), now + 5, now + 120);
    bcl_logout_t second = logout_of("j2", NULL, "ivan", US(now + 10), now + 10, now + 130);
    race_t race = { peer, &second, now + 10, 0 };

    bind_cookie(s, "early", &early, now + 2);
    bind_cookie(s, "between", &between, now + 7);
    bind_cookie(s, "after", &after, now + 12);
    bcl_store_net_set_race(s, race_in, &race);
    apply(s, &first, now + 5, 0);
    ck_assert_int_eq(race.calls, 2);   /* read, collided, read again */
    ck_assert_int_eq(cookie_state(s, "early", now + 12), REVOKED);
    ck_assert_int_eq(cookie_state(s, "between", now + 12), REVOKED);
    ck_assert_int_eq(cookie_state(peer, "between", now + 12), REVOKED);
    ck_assert_int_eq(cookie_state(s, "after", now + 12), LIVE);
    /* both tokens are known: each one's retry is a replay */
    bcl_store_net_set_race(s, NULL, NULL);
    apply(s, &second, now + 12, 1);
    apply(peer, &first, now + 12, 1);
}
END_TEST

Suite *storecontract_suite(void)
{
    Suite *s = suite_create("store-contract");
    TCase *tc = tcase_create("every-backend");

    t0 = (int64_t)time(NULL);
    tcase_add_unchecked_fixture(tc, start_servers, stop_servers);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_loop_test(tc, test_sid_logout_ends_that_session_only, 0, B_COUNT);
    tcase_add_loop_test(tc, test_replay_changes_nothing, 0, B_COUNT);
    tcase_add_loop_test(tc, test_sub_logout_ends_sessions_begun_before, 0, B_COUNT);
    tcase_add_loop_test(tc, test_sid_and_sub_logout_ends_sub_only_sessions, 0, B_COUNT);
    tcase_add_loop_test(tc, test_merge_keeps_the_later_logout, 0, B_COUNT);
    tcase_add_loop_test(tc, test_session_logout_of_a_binding, 0, B_COUNT);
    tcase_add_loop_test(tc, test_revocations_expire_with_the_lifetime, 0, B_COUNT);
    tcase_add_loop_test(tc, test_jti_lives_at_most_the_lifetime, 0, B_COUNT);
    tcase_add_loop_test(tc, test_bindings, 0, B_COUNT);
    tcase_add_loop_test(tc, test_admin_revocations_and_issuer_cutoff, 0, B_COUNT);
    tcase_add_loop_test(tc, test_concurrent_logouts_of_one_user_both_count, B_MEMCACHE, B_COUNT);
    suite_add_tcase(s, tc);
    (void)backend_names;
    return s;
}
