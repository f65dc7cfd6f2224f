/* The status handler and the mod_status hook: one snapshot of the counters
 * and the store, written as Prometheus text, JSON or a mod_status section. */
#include <apr_optional.h>
#include <apr_atomic.h>
#include <apr_strings.h>
#include <httpd.h>
#include <http_config.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>
#include <mod_status.h>
#include <jansson.h>
#include <cjose/version.h>
#include <openssl/crypto.h>
#include "bcl_config.h"
#include "bcl_keys.h"
#include "bcl_store_net.h"
#include "bcl_logtags.h"
#include "bcl_metrics.h"
#include "bcl_status.h"
#include "bcl_runtime.h"
#include "bcl_store_shm.h"
#include "mod_backchannel_logout.h"

static const char *const KIND_NAMES[BCL_REC_KINDS] = { NULL, "revoked_sid", "revoked_sub", "binding", "jti",
                                                       "revoked_sub_nosid" };
static const char *const WHY_NAMES[BCL_GUARD_WHY_COUNT] = { "revoked", "unbound", "suspicious" };
static const char *const ACT_NAMES[BCL_GUARD_ACT_COUNT] = { "pass", "deny", "redirect" };
static const char *const OP_NAMES[BCL_STORE_OP_COUNT] = { "logout", "binding" };
static const char *const ERR_NAMES[BCL_STORE_ERR_COUNT] = { "full", "unavailable" };
static const char *const CHANNEL_NAMES[BCL_CHANNEL_COUNT] = { "backchannel", "frontchannel", "admin" };

typedef struct {
    bcl_metrics_t m;            /* a copy, each counter read atomically */
    int have_metrics;
    int have_store;             /* the store answered its stats */
    bcl_table_stats_t table;
    const char *store_kind;
    const char *journal;        /* NULL: not durable */
    apr_int64_t lifetime;
    apr_uint64_t memory;        /* bytes of the table */
    int is_net;                 /* memcache / redis: health below, no table */
    uint64_t net_ops, net_failures, net_bad_records, net_down;
    apr_array_header_t *keys;   /* of bcl_keys_status_t: one per key URL */
} snapshot_t;

static void add_key_status(void *baton, const bcl_keys_status_t *st)
{
    *(bcl_keys_status_t *)apr_array_push(baton) = *st;
}

static void take_snapshot(request_rec *r, snapshot_t *snap)
{
    bcl_server_conf_t *sc = ap_get_module_config(r->server->module_config, &backchannel_logout_module);
    bcl_metrics_t *m = bcl_metrics_of(r->server);

    memset(snap, 0, sizeof(*snap));
    if (m != NULL) {
        /* every field is 8 bytes wide (two 4-byte ones at the start) */
        const uint64_t *from = (const uint64_t *)m;
        uint64_t *to = (uint64_t *)&snap->m;
        for (size_t i = 0; i < sizeof(*m) / sizeof(uint64_t); i++)
            to[i] = __atomic_load_n(&from[i], __ATOMIC_RELAXED);
        snap->have_metrics = 1;
    }
    snap->lifetime = sc->lifetime;
    snap->journal = bcl_store_shm_journal_path(r->server);
    if (sc->rt != NULL && sc->rt->store != NULL) {
        bcl_store_t *store = sc->rt->store;
        snap->store_kind = store->ops->name;
        snap->lifetime = sc->rt->lifetime;
        if (store->ops->stats != NULL
            && store->ops->stats(store, apr_time_sec(apr_time_now()), &snap->table) == BCL_STORE_OK) {
            snap->have_store = 1;
            snap->memory = bcl_table_size(snap->table.capacity);
        }
    }
    if (sc->rt != NULL && sc->rt->store != NULL) {
        bcl_net_health_t *h = bcl_store_net_health(sc->rt->store);
        if (h != NULL) {
            snap->is_net = 1;
            snap->net_ops = apr_atomic_read32(&h->ops);
            snap->net_failures = apr_atomic_read32(&h->failures);
            snap->net_bad_records = apr_atomic_read32(&h->bad_records);
            snap->net_down = apr_atomic_read32(&h->down);
            snap->have_store = snap->net_down == 0;   /* its stats are zeros: up means answering */
        }
    }
    if (snap->store_kind == NULL)
        snap->store_kind = "none";
    snap->keys = apr_array_make(r->pool, 2, sizeof(bcl_keys_status_t));
    bcl_keys_status_each(r->server, r->pool, add_key_status, snap->keys);
}

static uint64_t total_refused(const snapshot_t *s)
{
    uint64_t n = 0;
    for (int i = 1; i < BCL_R_COUNT; i++)
        n += s->m.tokens_refused[i];
    return n;
}

static uint64_t total_sessions_refused(const snapshot_t *s)
{
    uint64_t n = 0;
    for (int w = 0; w < BCL_GUARD_WHY_COUNT; w++)
        for (int a = 0; a < BCL_GUARD_ACT_COUNT; a++)
            n += s->m.sessions_refused[w][a];
    return n;
}

static uint64_t live_records(const snapshot_t *s)
{
    uint64_t n = 0;
    for (int k = 1; k < BCL_REC_KINDS; k++)
        n += s->table.by_kind[k];
    return n;
}

/* -- Prometheus text format 0.0.4 ------------------------------------------ */

static const char *label_value(apr_pool_t *p, const char *v)
{
    apr_size_t n = 0;
    for (const char *c = v; *c; c++)
        n += (*c == '\\' || *c == '"' || *c == '\n') ? 2 : 1;
    char *out = apr_palloc(p, n + 1), *o = out;
    for (const char *c = v; *c; c++) {
        if (*c == '\\' || *c == '"' || *c == '\n') {
            *o++ = '\\';
            *o++ = *c == '\n' ? 'n' : *c;
        } else {
            *o++ = *c;
        }
    }
    *o = '\0';
    return out;
}

static void prom_family(request_rec *r, const char *name, const char *type, const char *help)
{
    ap_rprintf(r, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void prom_u64(request_rec *r, const char *name, const char *labels, uint64_t v)
{
    ap_rprintf(r, "%s%s%s%s %" APR_UINT64_T_FMT "\n", name, labels ? "{" : "", labels ? labels : "",
               labels ? "}" : "", v);
}

static void prom_one(request_rec *r, const char *name, const char *type, const char *help, uint64_t v)
{
    prom_family(r, name, type, help);
    prom_u64(r, name, NULL, v);
}

static uint64_t seconds_of(apr_time_t t)
{
    return t > 0 ? (uint64_t)apr_time_sec(t) : 0;
}

/* One series per key URL, labelled with the URL as configured. */
static void write_prometheus_keys(request_rec *r, const snapshot_t *s)
{
    static const struct { const char *name, *type, *help; } fam[] = {
        { "bcl_keys_fetches_total", "counter", "Fetches of one key URL, by result." },
        { "bcl_keys_refetches_total", "counter", "Refetches caused by an unknown kid, and those the rate limit skipped." },
        { "bcl_keys_last_success_seconds", "gauge", "Unix time of the last successful fetch (0: never: tokens needing these keys get 503)." },
        { "bcl_keys_next_refresh_seconds", "gauge", "Unix time of the next background refresh." },
        { "bcl_keys_consecutive_failures", "gauge", "Failed fetches since the last success." },
        { "bcl_keys_known", "gauge", "Keys held from this URL." },
    };
    const bcl_keys_status_t *k = (const bcl_keys_status_t *)s->keys->elts;
    if (s->keys->nelts == 0)
        return;
    for (size_t f = 0; f < sizeof(fam) / sizeof(fam[0]); f++) {
        prom_family(r, fam[f].name, fam[f].type, fam[f].help);
        for (int i = 0; i < s->keys->nelts; i++) {
            const char *url = apr_psprintf(r->pool, "url=\"%s\"", label_value(r->pool, k[i].url));
            switch (f) {
            case 0:
                prom_u64(r, fam[f].name, apr_pstrcat(r->pool, url, ",result=\"ok\"", NULL), k[i].fetches_ok);
                prom_u64(r, fam[f].name, apr_pstrcat(r->pool, url, ",result=\"failed\"", NULL), k[i].fetches_failed);
                break;
            case 1:
                prom_u64(r, fam[f].name, apr_pstrcat(r->pool, url, ",result=\"fetched\"", NULL), k[i].refetches);
                prom_u64(r, fam[f].name, apr_pstrcat(r->pool, url, ",result=\"limited\"", NULL), k[i].refetches_limited);
                break;
            case 2: prom_u64(r, fam[f].name, url, seconds_of(k[i].last_success)); break;
            case 3: prom_u64(r, fam[f].name, url, seconds_of(k[i].next_refresh)); break;
            case 4: prom_u64(r, fam[f].name, url, k[i].consecutive_failures); break;
            default: prom_u64(r, fam[f].name, url, k[i].kids_known); break;
            }
        }
    }
}

static void write_prometheus(request_rec *r, const snapshot_t *s)
{
    const bcl_metrics_t *m = &s->m;
    const bcl_journal_stats_t *j = &m->journal;

    ap_set_content_type(r, "text/plain; version=0.0.4; charset=utf-8");
    prom_family(r, "bcl_build_info", "gauge", "Version of mod_backchannel_logout, its libraries and its store (value 1).");
    ap_rprintf(r, "bcl_build_info{version=\"%s\",cjose=\"%s\",openssl=\"%s\",jansson=\"%s\",store=\"%s\",durable=\"%s\"} 1\n",
               label_value(r->pool, BCL_VERSION), label_value(r->pool, cjose_version()),
               label_value(r->pool, OpenSSL_version(OPENSSL_VERSION)), label_value(r->pool, JANSSON_VERSION),
               label_value(r->pool, s->store_kind), s->journal ? "yes" : "no");
    prom_one(r, "bcl_counters_since_seconds", "gauge", "When these counters started (Unix time; a full restart resets them).",
             (uint64_t)m->since);

    prom_one(r, "bcl_tokens_accepted_total", "counter", "Logout tokens accepted and stored (answered 200).", m->tokens_accepted);
    prom_one(r, "bcl_tokens_replayed_total", "counter", "Logout tokens already applied (same jti): 200, nothing changed.",
             m->tokens_replayed);
    prom_family(r, "bcl_revocations_total", "counter", "Revocations stored, by channel (replays not counted).");
    for (int c = 0; c < BCL_CHANNEL_COUNT; c++)
        prom_u64(r, "bcl_revocations_total", apr_psprintf(r->pool, "channel=\"%s\"", CHANNEL_NAMES[c]),
                 BCL_METRIC_GET(m->revocations[c]));
    prom_family(r, "bcl_tokens_refused_total", "counter", "Back-channel requests and logout tokens refused, by reason code.");
    for (int i = 1; i < BCL_R_COUNT; i++)
        prom_u64(r, "bcl_tokens_refused_total",
                 apr_psprintf(r->pool, "reason=\"%s\"", bcl_reason_code((bcl_reason_t)i)), m->tokens_refused[i]);
    prom_family(r, "bcl_store_errors_total", "counter", "Records the store could not take, by operation and error.");
    for (int o = 0; o < BCL_STORE_OP_COUNT; o++)
        for (int e = 0; e < BCL_STORE_ERR_COUNT; e++)
            prom_u64(r, "bcl_store_errors_total", apr_psprintf(r->pool, "operation=\"%s\",error=\"%s\"", OP_NAMES[o],
                                                               ERR_NAMES[e]), m->store_errors[o][e]);

    prom_one(r, "bcl_sessions_passed_total", "counter", "Guarded requests with a session cookie let through.",
             m->sessions_passed);
    prom_one(r, "bcl_sessions_passed_unbound_total", "counter", "Of those, let through with no binding in the store "
             "(BCLUnboundSession allow): not protected by back-channel logout.", BCL_METRIC_GET(m->sessions_passed_unbound));
    prom_family(r, "bcl_sessions_refused_total", "counter", "Guarded requests refused at the edge, by reason and BCLOnRevoked action.");
    for (int w = 0; w < BCL_GUARD_WHY_COUNT; w++)
        for (int a = 0; a < BCL_GUARD_ACT_COUNT; a++)
            prom_u64(r, "bcl_sessions_refused_total", apr_psprintf(r->pool, "reason=\"%s\",action=\"%s\"", WHY_NAMES[w],
                                                                   ACT_NAMES[a]), m->sessions_refused[w][a]);
    prom_family(r, "bcl_guard_store_unavailable_total", "counter", "Guard checks that found the store unavailable, by BCLStoreUnavailable.");
    prom_u64(r, "bcl_guard_store_unavailable_total", "policy=\"closed\"", m->guard_store_unavailable[0]);
    prom_u64(r, "bcl_guard_store_unavailable_total", "policy=\"open\"", m->guard_store_unavailable[1]);
    prom_one(r, "bcl_bindings_made_total", "counter", "Session cookies bound to an OP session.", m->bindings_made);
    prom_one(r, "bcl_bindings_dropped_total", "counter", "Bindings dropped because the app expired its cookie.", m->bindings_dropped);

    prom_family(r, "bcl_store_records", "gauge", "Records held in the store, by kind (expired ones until swept).");
    for (int k = 1; k < BCL_REC_KINDS; k++)
        prom_u64(r, "bcl_store_records", apr_psprintf(r->pool, "kind=\"%s\"", KIND_NAMES[k]), s->table.by_kind[k]);
    prom_one(r, "bcl_store_capacity_records", "gauge", "Records the store can hold (BCLStore capacity= or memory=).",
             s->table.capacity);
    prom_one(r, "bcl_store_used_records", "gauge", "Records counted against capacity (expired ones until swept or reused).",
             s->table.used);
    prom_family(r, "bcl_store_usage_ratio", "gauge", "Used records over capacity (1 = full: new records are refused).");
    ap_rprintf(r, "bcl_store_usage_ratio %.6f\n", s->table.capacity ? (double)s->table.used / s->table.capacity : 0.0);
    prom_one(r, "bcl_store_memory_bytes", "gauge", "Shared memory taken by the store's table.", s->memory);
    prom_one(r, "bcl_store_lifetime_seconds", "gauge", "BCLRevocationLifetime.", (uint64_t)s->lifetime);
    prom_one(r, "bcl_store_full_refusals_total", "counter", "Inserts the table refused because it was full (since the store was made).",
             s->table.refused_full);
    prom_one(r, "bcl_store_up", "gauge", "1 when the store answered this scrape.", (uint64_t)s->have_store);

    prom_family(r, "bcl_key_fetches_total", "counter", "Fetches of the OP's keys or metadata, by result.");
    prom_u64(r, "bcl_key_fetches_total", "result=\"ok\"", m->key_fetches_ok);
    prom_u64(r, "bcl_key_fetches_total", "result=\"failed\"", m->key_fetches_failed);
    {
        static const char *const causes[BCL_RECEIVER_ERR_COUNT] = {
            "status=\"500\",cause=\"not_configured\"", "status=\"500\",cause=\"configuration\"",
            "status=\"503\",cause=\"keys_unavailable\"", "status=\"503\",cause=\"store\""
        };
        prom_family(r, "bcl_receiver_errors_total", "counter", "The receiver's 500 and 503 answers, by cause.");
        for (int i = 0; i < BCL_RECEIVER_ERR_COUNT; i++)
            prom_u64(r, "bcl_receiver_errors_total", causes[i], BCL_METRIC_GET(m->receiver_errors[i]));
    }
    prom_one(r, "bcl_alerts_suppressed_total", "counter", "BCL0193 warnings held back by their rate limit.",
             BCL_METRIC_GET(m->alerts_suppressed));
    prom_one(r, "bcl_key_issuer_mismatches_total", "counter", "Fetched metadata whose issuer differs from a "
             "configured BCLIssuer (BCL0520): tokens there are answered 500.", BCL_METRIC_GET(m->key_issuer_mismatches));
    write_prometheus_keys(r, s);
    if (s->is_net) {
        prom_one(r, "bcl_store_net_operations_total", "counter", "Operations sent to memcache / redis (since the store was made).",
                 s->net_ops);
        prom_one(r, "bcl_store_net_failures_total", "counter", "memcache / redis operations that failed (503 / BCLStoreUnavailable).",
                 s->net_failures);
        prom_one(r, "bcl_store_net_bad_records_total", "counter", "Values under the prefix that were not records of this module.",
                 s->net_bad_records);
        prom_one(r, "bcl_store_net_down", "gauge", "1 from a failed memcache / redis operation to the next success.",
                 s->net_down);
    }

    prom_one(r, "bcl_journal_enabled", "gauge", "1 when the store is durable (BCLStore shm file=).", s->journal != NULL);
    prom_one(r, "bcl_journal_appends_total", "counter", "Writes appended to the journal.", j->appends);
    prom_one(r, "bcl_journal_records_written_total", "counter", "Records appended to the journal.", j->records_written);
    prom_one(r, "bcl_journal_append_errors_total", "counter", "Journal writes that failed.", j->append_errors);
    prom_one(r, "bcl_journal_syncs_total", "counter", "fdatasync calls on the journal.", j->syncs);
    prom_one(r, "bcl_journal_sync_errors_total", "counter", "fdatasync calls on the journal that failed.", j->sync_errors);
    prom_one(r, "bcl_journal_compactions_total", "counter", "Journal rewrites with only the live records.", j->compactions);
    prom_one(r, "bcl_journal_compaction_errors_total", "counter", "Journal compactions that failed.", j->compaction_errors);
    prom_one(r, "bcl_journal_bytes", "gauge", "Size of the journal file.", j->bytes);
    prom_one(r, "bcl_journal_replayed_records", "gauge", "Records restored from the journal at the last startup.", j->replayed);
    prom_one(r, "bcl_journal_damaged_bytes", "gauge", "Damaged journal bytes skipped at the last startup.", j->damaged_bytes);
    prom_one(r, "bcl_journal_dropped_records", "gauge", "Unexpired journal records that did not fit the capacity at the last startup.",
             j->replay_dropped_full);

    prom_one(r, "bcl_maintenance_runs_total", "counter", "Runs of the periodic maintenance (watchdog).", m->maintenance_runs);
    prom_one(r, "bcl_maintenance_sweeps_total", "counter", "Sweeps of expired records.", m->sweeps);
    prom_one(r, "bcl_maintenance_swept_records_total", "counter", "Expired records removed by sweeps.", m->swept_records);
}

/* -- JSON ------------------------------------------------------------------- */

static void set_u64(json_t *o, const char *k, uint64_t v)
{
    json_object_set_new(o, k, json_integer((json_int_t)v));
}

static json_t *json_snapshot(const snapshot_t *s)
{
    const bcl_metrics_t *m = &s->m;
    const bcl_journal_stats_t *j = &m->journal;
    json_t *root = json_object(), *o, *sub;

    o = json_object();
    json_object_set_new(o, "version", json_string(BCL_VERSION));
    json_object_set_new(o, "cjose", json_string(cjose_version()));
    json_object_set_new(o, "openssl", json_string(OpenSSL_version(OPENSSL_VERSION)));
    json_object_set_new(o, "jansson", json_string(JANSSON_VERSION));
    json_object_set_new(root, "build", o);

    o = json_object();
    json_object_set_new(o, "store", json_string(s->store_kind));
    set_u64(o, "capacity", s->table.capacity);
    set_u64(o, "memory_bytes", s->memory);
    set_u64(o, "lifetime", (uint64_t)s->lifetime);
    json_object_set_new(o, "file", s->journal ? json_string(s->journal) : json_null());
    json_object_set_new(root, "config", o);
    set_u64(root, "counters_since", (uint64_t)m->since);

    o = json_object();
    set_u64(o, "accepted", m->tokens_accepted);
    set_u64(o, "replayed", m->tokens_replayed);
    sub = json_object();
    for (int i = 1; i < BCL_R_COUNT; i++)
        set_u64(sub, bcl_reason_code((bcl_reason_t)i), m->tokens_refused[i]);
    json_object_set_new(o, "refused", sub);
    set_u64(o, "refused_total", total_refused(s));
    json_object_set_new(root, "tokens", o);
    o = json_object();
    for (int c = 0; c < BCL_CHANNEL_COUNT; c++)
        set_u64(o, CHANNEL_NAMES[c], BCL_METRIC_GET(m->revocations[c]));
    json_object_set_new(root, "revocations", o);
    {
        static const char *const causes[BCL_RECEIVER_ERR_COUNT] = {
            "not_configured", "configuration", "keys_unavailable", "store"
        };
        o = json_object();
        for (int i = 0; i < BCL_RECEIVER_ERR_COUNT; i++)
            set_u64(o, causes[i], BCL_METRIC_GET(m->receiver_errors[i]));
        json_object_set_new(root, "receiver_errors", o);
        o = json_object();
        set_u64(o, "suppressed", BCL_METRIC_GET(m->alerts_suppressed));
        json_object_set_new(root, "alerts", o);
    }

    o = json_object();
    set_u64(o, "passed", m->sessions_passed);
    set_u64(o, "passed_unbound", BCL_METRIC_GET(m->sessions_passed_unbound));
    sub = json_object();
    for (int w = 0; w < BCL_GUARD_WHY_COUNT; w++) {
        json_t *acts = json_object();
        for (int a = 0; a < BCL_GUARD_ACT_COUNT; a++)
            set_u64(acts, ACT_NAMES[a], m->sessions_refused[w][a]);
        json_object_set_new(sub, WHY_NAMES[w], acts);
    }
    json_object_set_new(o, "refused", sub);
    set_u64(o, "refused_total", total_sessions_refused(s));
    sub = json_object();
    set_u64(sub, "closed", m->guard_store_unavailable[0]);
    set_u64(sub, "open", m->guard_store_unavailable[1]);
    json_object_set_new(o, "store_unavailable", sub);
    set_u64(o, "bindings_made", m->bindings_made);
    set_u64(o, "bindings_dropped", m->bindings_dropped);
    json_object_set_new(root, "guard", o);

    o = json_object();
    json_object_set_new(o, "up", json_boolean(s->have_store));
    sub = json_object();
    for (int k = 1; k < BCL_REC_KINDS; k++)
        set_u64(sub, KIND_NAMES[k], s->table.by_kind[k]);
    json_object_set_new(o, "records", sub);
    set_u64(o, "records_total", live_records(s));
    set_u64(o, "capacity", s->table.capacity);
    set_u64(o, "used", s->table.used);
    json_object_set_new(o, "usage", json_real(s->table.capacity ? (double)s->table.used / s->table.capacity : 0.0));
    set_u64(o, "full_refusals", s->table.refused_full);
    sub = json_object();
    for (int op = 0; op < BCL_STORE_OP_COUNT; op++) {
        json_t *errs = json_object();
        for (int e = 0; e < BCL_STORE_ERR_COUNT; e++)
            set_u64(errs, ERR_NAMES[e], m->store_errors[op][e]);
        json_object_set_new(sub, OP_NAMES[op], errs);
    }
    json_object_set_new(o, "errors", sub);
    if (s->is_net) {
        sub = json_object();
        set_u64(sub, "operations", s->net_ops);
        set_u64(sub, "failures", s->net_failures);
        set_u64(sub, "bad_records", s->net_bad_records);
        json_object_set_new(sub, "down", json_boolean(s->net_down != 0));
        json_object_set_new(o, "network", sub);
    }
    json_object_set_new(root, "store", o);

    o = json_object();
    set_u64(o, "fetches", m->key_fetches_ok);
    set_u64(o, "failures", m->key_fetches_failed);
    set_u64(o, "issuer_mismatches", BCL_METRIC_GET(m->key_issuer_mismatches));
    sub = json_array();
    for (int i = 0; i < s->keys->nelts; i++) {
        const bcl_keys_status_t *k = &((const bcl_keys_status_t *)s->keys->elts)[i];
        json_t *u = json_object();
        json_object_set_new(u, "url", json_string(k->url));
        json_object_set_new(u, "kind", json_string(k->kind));
        json_object_set_new(u, "jwks_uri", k->jwks_uri ? json_string(k->jwks_uri) : json_null());
        json_object_set_new(u, "issuer", k->issuer ? json_string(k->issuer) : json_null());
        set_u64(u, "last_attempt", seconds_of(k->last_attempt));
        set_u64(u, "last_success", seconds_of(k->last_success));
        set_u64(u, "last_failure", seconds_of(k->last_failure));
        set_u64(u, "next_refresh", seconds_of(k->next_refresh));
        set_u64(u, "consecutive_failures", k->consecutive_failures);
        set_u64(u, "fetches_ok", k->fetches_ok);
        set_u64(u, "fetches_failed", k->fetches_failed);
        set_u64(u, "refetches", k->refetches);
        set_u64(u, "refetches_limited", k->refetches_limited);
        set_u64(u, "generation", k->generation);
        set_u64(u, "kids_known", k->kids_known);
        json_object_set_new(u, "kids", json_string(k->kids ? k->kids : ""));
        json_object_set_new(u, "last_error", k->last_error ? json_string(k->last_error) : json_null());
        json_array_append_new(sub, u);
    }
    json_object_set_new(o, "sources", sub);
    json_object_set_new(root, "keys", o);

    o = json_object();
    json_object_set_new(o, "enabled", json_boolean(s->journal != NULL));
    set_u64(o, "appends", j->appends);
    set_u64(o, "records_written", j->records_written);
    set_u64(o, "append_errors", j->append_errors);
    set_u64(o, "syncs", j->syncs);
    set_u64(o, "sync_errors", j->sync_errors);
    set_u64(o, "compactions", j->compactions);
    set_u64(o, "compaction_errors", j->compaction_errors);
    set_u64(o, "bytes", j->bytes);
    set_u64(o, "replayed", j->replayed);
    set_u64(o, "damaged_bytes", j->damaged_bytes);
    set_u64(o, "dropped_records", j->replay_dropped_full);
    json_object_set_new(root, "journal", o);

    o = json_object();
    set_u64(o, "runs", m->maintenance_runs);
    set_u64(o, "sweeps", m->sweeps);
    set_u64(o, "swept_records", m->swept_records);
    json_object_set_new(root, "maintenance", o);
    return root;
}

static void write_json(request_rec *r, const snapshot_t *s)
{
    json_t *root = json_snapshot(s);
    char *text = json_dumps(root, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
    json_decref(root);
    ap_set_content_type(r, "application/json");
    ap_rputs(text ? text : "{}", r);
    ap_rputs("\n", r);
    free(text);
}

static int wants_json(const request_rec *r)
{
    const char *a = r->args;
    while (a != NULL && *a) {
        const char *end = strchr(a, '&');
        apr_size_t n = end ? (apr_size_t)(end - a) : strlen(a);
        if (n == 11 && strncmp(a, "format=json", 11) == 0)
            return 1;
        a = end ? end + 1 : NULL;
    }
    return 0;
}

int bcl_status_handler(request_rec *r)
{
    snapshot_t snap;

    if (r->handler == NULL || strcmp(r->handler, BCL_STATUS_HANDLER) != 0)
        return DECLINED;
    apr_table_setn(r->err_headers_out, "Cache-Control", "no-store");
    r->allowed = AP_METHOD_BIT << M_GET;
    if (r->method_number != M_GET) {
        /* answered here: httpd's own 405 page would list its own Allow */
        apr_table_setn(r->err_headers_out, "Allow", "GET, HEAD");
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, BCL_TAG_STATUS ": method %s refused at the status handler",
                      ap_escape_logitem(r->pool, r->method));
        r->status = HTTP_METHOD_NOT_ALLOWED;
        ap_set_content_type(r, "text/plain; charset=utf-8");
        ap_rputs("method not allowed: use GET or HEAD\n", r);
        return OK;
    }
    take_snapshot(r, &snap);
    if (wants_json(r))
        write_json(r, &snap);
    else
        write_prometheus(r, &snap);
    return OK;
}

/* -- mod_status ------------------------------------------------------------- */

static int bcl_mod_status_hook(request_rec *r, int flags)
{
    snapshot_t s;
    take_snapshot(r, &s);
    if (flags & AP_STATUS_SHORT) {
        ap_rprintf(r, "BCLTokensAccepted: %" APR_UINT64_T_FMT "\n", s.m.tokens_accepted);
        ap_rprintf(r, "BCLTokensRefused: %" APR_UINT64_T_FMT "\n", total_refused(&s));
        ap_rprintf(r, "BCLSessionsRefused: %" APR_UINT64_T_FMT "\n", total_sessions_refused(&s));
        ap_rprintf(r, "BCLStoreRecords: %" APR_UINT64_T_FMT "\n", live_records(&s));
        ap_rprintf(r, "BCLStoreCapacity: %u\n", s.table.capacity);
        return OK;
    }
    ap_rprintf(r, "<hr />\n<h2>mod_backchannel_logout</h2>\n<dl><dt>Back-channel logout: %" APR_UINT64_T_FMT
               " tokens accepted, %" APR_UINT64_T_FMT " refused; %" APR_UINT64_T_FMT " sessions refused; store %s: %"
               APR_UINT64_T_FMT " of %u records (%.1f%% used)%s%s</dt></dl>\n",
               s.m.tokens_accepted, total_refused(&s), total_sessions_refused(&s), ap_escape_html(r->pool, s.store_kind),
               live_records(&s), s.table.capacity,
               s.table.capacity ? 100.0 * s.table.used / s.table.capacity : 0.0,
               s.journal ? ", journal " : "", s.journal ? ap_escape_html(r->pool, s.journal) : "");
    return OK;
}

void bcl_status_register_hooks(void)
{
    APR_OPTIONAL_HOOK(ap, status_hook, bcl_mod_status_hook, NULL, NULL, APR_HOOK_MIDDLE);
}
