#include <errno.h>
#include <string.h>
#include <apr_atomic.h>
#include <apr_file_io.h>
#include <apr_shm.h>
#include <apr_strings.h>
#include <ap_mpm.h>
#include <http_log.h>
#include "bcl_log_httpd.h"
#include "bcl_logtags.h"
#include "bcl_netrec.h"
#include "bcl_store_fleet.h"
#include "mod_backchannel_logout.h"

#define HEALTH_KEY "mod_backchannel_logout:net-health"

static const char *read_password_file(cmd_parms *cmd, const char *arg, const char **out)
{
    const char *path = ap_server_root_relative(cmd->pool, arg);
    char buf[1025], errbuf[120];
    apr_file_t *f;
    apr_size_t n = sizeof(buf) - 1;
    apr_status_t rv;

    if (path == NULL)
        return apr_psprintf(cmd->pool, "BCLStore redis password-file=: invalid path %s", arg);
    rv = apr_file_open(&f, path, APR_FOPEN_READ, 0, cmd->temp_pool);
    if (rv == APR_SUCCESS) {
        rv = apr_file_read_full(f, buf, n, &n);
        apr_file_close(f);
        if (APR_STATUS_IS_EOF(rv))
            rv = APR_SUCCESS;
    }
    if (rv != APR_SUCCESS)
        return apr_psprintf(cmd->pool, "BCLStore redis password-file=: cannot read %s: %s", path,
                            apr_strerror(rv, errbuf, sizeof(errbuf)));
    if (n >= sizeof(buf) - 1)
        return apr_psprintf(cmd->pool, "BCLStore redis password-file=: %s is longer than 1024 bytes", path);
    buf[n] = '\0';
    /* the first line, without its line end */
    buf[strcspn(buf, "\r\n")] = '\0';
    if (buf[0] == '\0')
        return apr_psprintf(cmd->pool, "BCLStore redis password-file=: %s holds no password on its first line", path);
    *out = apr_pstrdup(cmd->pool, buf);
    return NULL;
}

static const char *parse_int_opt(cmd_parms *cmd, const char *what, const char *v, long min, long max, long *out)
{
    char *end;
    long n;

    errno = 0;
    n = strtol(v, &end, 10);
    if (errno != 0 || end == v || *end != '\0' || n < min || n > max)
        return apr_psprintf(cmd->pool, "BCLStore %s: \"%s\" is not a whole number from %ld to %ld", what, v, min, max);
    *out = n;
    return NULL;
}

const char *bcl_store_fleet_parse(cmd_parms *cmd, int argc, char *const argv[], bcl_net_conf_t **out)
{
    bcl_net_conf_t *c = apr_pcalloc(cmd->pool, sizeof(*c));
    int redis = strcasecmp(argv[0], "redis") == 0;
    const char *kind = redis ? "redis" : "memcache", *err;
    const char *usage = redis
        ? "BCLStore redis HOST:PORT [timeout=MS] [prefix=PREFIX] [db=N] [password=SECRET | password-file=PATH] [username=NAME]"
        : "BCLStore memcache HOST:PORT[,HOST:PORT...] [timeout=MS] [prefix=PREFIX]";
    long v;

    c->kind = redis ? BCL_NET_REDIS : BCL_NET_MEMCACHE;
    c->timeout = apr_time_from_msec(BCL_NET_DEFAULT_TIMEOUT_MS);
    c->prefix = BCL_NET_DEFAULT_PREFIX;
    if (argc < 2 || strchr(argv[1], '=') != NULL)
        return apr_psprintf(cmd->pool, "BCLStore %s: the server is missing; use %s", kind, usage);
    if ((err = bcl_net_parse_servers(cmd->pool, argv[1], redis ? 1 : BCL_NET_MAX_SERVERS, &c->servers)) != NULL)
        return apr_psprintf(cmd->pool, "BCLStore %s: %s; use %s", kind, err, usage);

    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *val = strchr(a, '=');
        size_t name_len = val ? (size_t)(val - a) : strlen(a);
        val = val ? val + 1 : NULL;
#define OPT(n) (name_len == strlen(n) && strncasecmp(a, n, name_len) == 0)
        if (val == NULL) {
            return apr_psprintf(cmd->pool, "BCLStore %s: \"%s\" is not an option NAME=VALUE; use %s", kind, a, usage);
        } else if (OPT("timeout")) {
            if ((err = parse_int_opt(cmd, apr_pstrcat(cmd->pool, kind, " timeout", NULL), val, 10, 60000, &v)) != NULL)
                return err;
            c->timeout = apr_time_from_msec(v);
        } else if (OPT("prefix")) {
            if (!bcl_netrec_prefix_ok(val))
                return apr_psprintf(cmd->pool, "BCLStore %s prefix: \"%s\" is not 1 to %d of the characters "
                                    "A-Z a-z 0-9 : _ . -", kind, val, BCL_NET_PREFIX_MAX);
            c->prefix = val;
        } else if (redis && OPT("db")) {
            if ((err = parse_int_opt(cmd, "redis db", val, 0, 65535, &v)) != NULL)
                return err;
            c->db = (int)v;
        } else if (redis && OPT("password")) {
            if (*val == '\0')
                return "BCLStore redis password=: the password is empty";
            if (c->password != NULL)
                return "BCLStore redis: give password= or password-file=, once";
            c->password = val;
        } else if (redis && OPT("password-file")) {
            if (c->password != NULL)
                return "BCLStore redis: give password= or password-file=, once";
            if ((err = read_password_file(cmd, val, &c->password)) != NULL)
                return err;
        } else if (redis && OPT("username")) {
            if (*val == '\0' || strpbrk(val, " \t\r\n") != NULL)
                return "BCLStore redis username=: a user name without spaces";
            c->username = val;
        } else {
            /* never echo the value: it may be a password in the wrong place */
            return apr_psprintf(cmd->pool, "BCLStore %s: unknown option \"%.*s\"; use %s", kind, (int)name_len, a, usage);
        }
#undef OPT
    }
    if (c->username != NULL && c->password == NULL)
        return "BCLStore redis username=: also give password= or password-file=";
    *out = c;
    return NULL;
}

/* The counters live in shared memory so that the throttle and the counts
 * are server-wide; the segment is kept in the process pool like the shm
 * store's, so the counts survive a graceful restart. */
static bcl_net_health_t *health_segment(server_rec *s)
{
    apr_pool_t *keep = s->process->pool;
    void *data = NULL;
    apr_shm_t *shm = NULL;

    apr_pool_userdata_get(&data, HEALTH_KEY, keep);
    if (data != NULL)
        return apr_shm_baseaddr_get(data);
    if (apr_shm_create(&shm, sizeof(bcl_net_health_t), NULL, keep) != APR_SUCCESS)
        return NULL;
    memset(apr_shm_baseaddr_get(shm), 0, sizeof(bcl_net_health_t));
    apr_pool_userdata_set(shm, HEALTH_KEY, apr_pool_cleanup_null, keep);
    return apr_shm_baseaddr_get(shm);
}

apr_status_t bcl_store_fleet_init(server_rec *s, apr_pool_t *pconf, const bcl_net_conf_t *conf,
                                  bcl_store_t **store)
{
    bcl_net_health_t *health = health_segment(s);
    bcl_logger_t *logger = apr_pcalloc(pconf, sizeof(*logger));
    const char *list = "";

    if (health == NULL) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, BCL_TAG_NET_STORE ": cannot create shared memory for the "
                     "store's counters");
        return APR_ENOMEM;
    }
    logger->fn = bcl_log_to_server;
    logger->baton = s;
    *store = conf->kind == BCL_NET_REDIS ? bcl_store_redis_create(pconf, conf, health, logger)
                                         : bcl_store_memcache_create(pconf, conf, health, logger);
    for (int i = 0; i < conf->servers->nelts; i++) {
        const bcl_net_server_t *srv = &APR_ARRAY_IDX(conf->servers, i, bcl_net_server_t);
        list = apr_psprintf(pconf, "%s%s%s:%u", list, i ? "," : "", srv->host, (unsigned)srv->port);
    }
    ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, BCL_TAG_NET_STORE ": %s store %s, prefix \"%s\", timeout %d ms%s",
                 conf->kind == BCL_NET_REDIS ? "redis" : "memcache", list, conf->prefix,
                 (int)apr_time_as_msec(conf->timeout),
                 conf->kind == BCL_NET_REDIS ? apr_psprintf(pconf, ", db %d%s", conf->db,
                                                            conf->password ? ", with AUTH" : "") : "");
    return APR_SUCCESS;
}

void bcl_store_fleet_child_init(apr_pool_t *pchild, server_rec *s, bcl_store_t *store)
{
    int threads = 1;
    apr_status_t rv;

    if (bcl_store_net_health(store) == NULL)
        return;
    if (ap_mpm_query(AP_MPMQ_MAX_THREADS, &threads) != APR_SUCCESS || threads < 1)
        threads = 1;
    rv = bcl_store_net_child_init(store, pchild, threads);
    if (rv != APR_SUCCESS)
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, BCL_TAG_NET_STORE ": cannot create the store's connection pool "
                     "in a child");
}
