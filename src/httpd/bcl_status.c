/* The status handler and the mod_status hook: one snapshot of the counters
 * and the store, written as Prometheus text, JSON or a mod_status section. */
#include <apr_optional.h>
#include <stddef.h>
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
#include "bcl_logtags.h"
#include "bcl_metrics.h"
#include "bcl_status.h"
#include "bcl_runtime.h"
#include "bcl_status_table.h"
#include "mod_backchannel_logout.h"

static const char *const KIND_NAMES[BCL_REC_KINDS] = { NULL, "revoked_sid", "revoked_sub", "binding", "jti",
                                                       "revoked_sub_nosid", "revoked_iss" };
static const char *const WHY_NAMES[BCL_GUARD_WHY_COUNT] = { "revoked", "unbound", "suspicious" };
static const char *const ACT_NAMES[BCL_GUARD_ACT_COUNT] = { "pass", "deny", "redirect" };
static const char *const OP_NAMES[BCL_STORE_OP_COUNT] = { "logout", "binding" };
static const char *const ERR_NAMES[BCL_STORE_ERR_COUNT] = { "full", "unavailable" };
static const char *const CHANNEL_NAMES[BCL_CHANNEL_COUNT] = { "backchannel", "frontchannel", "admin" };
static const char *const POLICY_NAMES[2] = { "closed", "open" };   /* BCL_STORE_CLOSED / BCL_STORE_OPEN */

/* A label of a family: its name and the names of its values, either an
 * array or a function; values below `first` are not shown. */
typedef struct {
    const char *label;
    const char *const *names;
    const char *(*name_of)(int i);
    int first, count;
} status_label_t;

static const char *reason_name(int i)
{
    return bcl_reason_code((bcl_reason_t)i);
}

static const status_label_t LABEL_TOKEN_REASON = { "reason", NULL, reason_name, 1, BCL_R_COUNT };
static const status_label_t LABEL_CHANNEL = { "channel", CHANNEL_NAMES, NULL, 0, BCL_CHANNEL_COUNT };
static const status_label_t LABEL_STORE_OP = { "operation", OP_NAMES, NULL, 0, BCL_STORE_OP_COUNT };
static const status_label_t LABEL_STORE_ERR = { "error", ERR_NAMES, NULL, 0, BCL_STORE_ERR_COUNT };
static const status_label_t LABEL_GUARD_WHY = { "reason", WHY_NAMES, NULL, 0, BCL_GUARD_WHY_COUNT };
static const status_label_t LABEL_GUARD_ACT = { "action", ACT_NAMES, NULL, 0, BCL_GUARD_ACT_COUNT };
static const status_label_t LABEL_POLICY = { "policy", POLICY_NAMES, NULL, 0, 2 };
static const status_label_t LABEL_RECORD_KIND = { "kind", KIND_NAMES, NULL, 1, BCL_REC_KINDS };

static const char *label_name(const status_label_t *l, int i)
{
    return l->names != NULL ? l->names[i] : l->name_of(i);
}

/* What one request shows: the counters and the values taken with them. */
typedef struct {
    uint64_t capacity, used, memory, lifetime, full_refusals, up;
    uint64_t by_kind[BCL_REC_KINDS];
    uint64_t net_ops, net_failures, net_bad_records, net_down;
    uint64_t journal_enabled;
    uint64_t tokens_refused_total, sessions_refused_total, records_total;
    double usage;
} status_values_t;

typedef struct {
    bcl_metrics_t m;            /* a copy, each counter read atomically */
    status_values_t v;
    int have_metrics;
    int is_net;                 /* memcache / redis: health shown, no table */
    const char *store_kind;
    const char *journal;        /* NULL: not durable */
    apr_array_header_t *keys;   /* of bcl_keys_status_t: one per key URL */
} snapshot_t;

/* -- the table (bcl_status_table.h) as rows ---------------------------------- */

enum { ROW_BUILD, ROW_ONE, ROW_LAB, ROW_LAB2, ROW_RATIO, ROW_KEYS };
#define F_NET  1
#define F_BOOL 2

typedef struct {
    int kind;
    const char *name, *type, *help;     /* name NULL: JSON only */
    const char *labels;                 /* ROW_ONE: fixed labels, or NULL */
    size_t off;                         /* of the value (the first one) in snapshot_t */
    const status_label_t *l1, *l2;
    const char *json;                   /* "section.key"; NULL: Prometheus only */
    int flags;
} status_row_t;

#define ROW_BUILD_(n, t, h) { ROW_BUILD, n, t, h, NULL, 0, NULL, NULL, NULL, 0 },
#define ROW_ONE_(n, t, h, lab, src, field, j, fl) { ROW_ONE, n, t, h, lab, offsetof(snapshot_t, src.field), NULL, NULL, j, fl },
#define ROW_LAB_(n, t, h, src, field, l, j, fl) { ROW_LAB, n, t, h, NULL, offsetof(snapshot_t, src.field), &l, NULL, j, fl },
#define ROW_LAB2_(n, t, h, src, field, la, lb, j, fl) \
    { ROW_LAB2, n, t, h, NULL, offsetof(snapshot_t, src.field), &la, &lb, j, fl },
#define ROW_RATIO_(n, t, h, src, field, j) { ROW_RATIO, n, t, h, NULL, offsetof(snapshot_t, src.field), NULL, NULL, j, 0 },
#define ROW_KEYS_() { ROW_KEYS, NULL, NULL, NULL, NULL, 0, NULL, NULL, NULL, 0 },

static const status_row_t ROWS[] = { BCL_STATUS_ROWS(ROW_BUILD_, ROW_ONE_, ROW_LAB_, ROW_LAB2_, ROW_RATIO_, ROW_KEYS_) };

/* Every byte of bcl_metrics_t is shown by a row or listed as not shown. */
#define SIZE_m(field) + sizeof(((bcl_metrics_t *)0)->field)
#define SIZE_v(field)
#define COVER_BUILD_(n, t, h)
#define COVER_ONE_(n, t, h, lab, src, field, j, fl) SIZE_##src(field)
#define COVER_LAB_(n, t, h, src, field, l, j, fl) SIZE_##src(field)
#define COVER_LAB2_(n, t, h, src, field, la, lb, j, fl) SIZE_##src(field)
#define COVER_RATIO_(n, t, h, src, field, j) SIZE_##src(field)
#define COVER_KEYS_()
#define COVER_HIDDEN_(field) SIZE_m(field)
_Static_assert(0 BCL_STATUS_ROWS(COVER_BUILD_, COVER_ONE_, COVER_LAB_, COVER_LAB2_, COVER_RATIO_, COVER_KEYS_)
               BCL_STATUS_NOT_SHOWN(COVER_HIDDEN_) == sizeof(bcl_metrics_t),
               "a field of bcl_metrics_t is neither in BCL_STATUS_ROWS nor in BCL_STATUS_NOT_SHOWN");

static uint64_t row_u64(const snapshot_t *s, const status_row_t *row, int i)
{
    return ((const uint64_t *)((const char *)s + row->off))[i];
}

static double row_double(const snapshot_t *s, const status_row_t *row)
{
    return *(const double *)((const char *)s + row->off);
}

/* -- the snapshot ------------------------------------------------------------ */

static void add_key_status(void *baton, const bcl_keys_status_t *st)
{
    *(bcl_keys_status_t *)apr_array_push(baton) = *st;
}

static void take_snapshot(request_rec *r, snapshot_t *snap)
{
    bcl_server_conf_t *sc = ap_get_module_config(r->server->module_config, &backchannel_logout_module);
    bcl_metrics_t *m = bcl_metrics_of(r->server);
    status_values_t *v = &snap->v;
    bcl_table_stats_t table;

    memset(snap, 0, sizeof(*snap));
    memset(&table, 0, sizeof(table));
    if (m != NULL) {
        /* every field is 8 bytes wide (two 4-byte ones at the start) */
        const uint64_t *from = (const uint64_t *)m;
        uint64_t *to = (uint64_t *)&snap->m;
        for (size_t i = 0; i < sizeof(*m) / sizeof(uint64_t); i++)
            to[i] = __atomic_load_n(&from[i], __ATOMIC_RELAXED);
        snap->have_metrics = 1;
    }
    v->lifetime = (uint64_t)sc->lifetime;
    snap->journal = bcl_runtime_journal_path(r->server);
    if (sc->rt != NULL && sc->rt->store != NULL) {
        bcl_store_t *store = sc->rt->store;
        snap->store_kind = store->ops->name;
        v->lifetime = (uint64_t)sc->rt->lifetime;
        if (store->ops->stats != NULL
            && store->ops->stats(store, apr_time_sec(apr_time_now()), &table) == BCL_STORE_OK) {
            v->up = 1;
            v->memory = bcl_table_size(table.capacity);
        }
    }
    if (sc->rt != NULL && sc->rt->store != NULL) {
        bcl_runtime_net_counts_t c;
        if (bcl_runtime_net_counts(sc->rt->store, &c)) {
            snap->is_net = 1;
            v->net_ops = c.ops;
            v->net_failures = c.failures;
            v->net_bad_records = c.bad_records;
            v->net_down = c.down;
            v->up = v->net_down == 0;   /* its stats are zeros: up means answering */
        }
    }
    if (snap->store_kind == NULL)
        snap->store_kind = "none";
    v->capacity = table.capacity;
    v->used = table.used;
    v->full_refusals = table.refused_full;
    v->usage = table.capacity ? (double)table.used / table.capacity : 0.0;
    v->journal_enabled = snap->journal != NULL;
    for (int k = 1; k < BCL_REC_KINDS; k++) {
        v->by_kind[k] = table.by_kind[k];
        v->records_total += table.by_kind[k];
    }
    for (int i = 1; i < BCL_R_COUNT; i++)
        v->tokens_refused_total += snap->m.tokens_refused[i];
    for (int w = 0; w < BCL_GUARD_WHY_COUNT; w++)
        for (int a = 0; a < BCL_GUARD_ACT_COUNT; a++)
            v->sessions_refused_total += snap->m.sessions_refused[w][a];
    snap->keys = apr_array_make(r->pool, 2, sizeof(bcl_keys_status_t));
    bcl_keys_status_each(r->server, r->pool, add_key_status, snap->keys);
}

static uint64_t seconds_of(apr_time_t t)
{
    return t > 0 ? (uint64_t)apr_time_sec(t) : 0;
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

static void write_prometheus_build(request_rec *r, const snapshot_t *s)
{
    ap_rprintf(r, "bcl_build_info{version=\"%s\",cjose=\"%s\",openssl=\"%s\",jansson=\"%s\",store=\"%s\",durable=\"%s\"} 1\n",
               label_value(r->pool, BCL_VERSION), label_value(r->pool, cjose_version()),
               label_value(r->pool, OpenSSL_version(OPENSSL_VERSION)), label_value(r->pool, JANSSON_VERSION),
               label_value(r->pool, s->store_kind), s->journal ? "yes" : "no");
}

static void write_prometheus(request_rec *r, const snapshot_t *s)
{
    const char *family = NULL;     /* the last HELP / TYPE written */

    ap_set_content_type(r, "text/plain; version=0.0.4; charset=utf-8");
    for (size_t i = 0; i < sizeof(ROWS) / sizeof(ROWS[0]); i++) {
        const status_row_t *row = &ROWS[i];
        if (row->kind == ROW_KEYS) {
            write_prometheus_keys(r, s);
            continue;
        }
        if (row->name == NULL || ((row->flags & F_NET) && !s->is_net))
            continue;
        if (family == NULL || strcmp(family, row->name) != 0) {
            prom_family(r, row->name, row->type, row->help);
            family = row->name;
        }
        switch (row->kind) {
        case ROW_BUILD:
            write_prometheus_build(r, s);
            break;
        case ROW_ONE:
            prom_u64(r, row->name, row->labels, row_u64(s, row, 0));
            break;
        case ROW_RATIO:
            ap_rprintf(r, "%s %.6f\n", row->name, row_double(s, row));
            break;
        case ROW_LAB:
            for (int a = row->l1->first; a < row->l1->count; a++)
                prom_u64(r, row->name, apr_psprintf(r->pool, "%s=\"%s\"", row->l1->label, label_name(row->l1, a)),
                         row_u64(s, row, a));
            break;
        case ROW_LAB2:
            for (int a = row->l1->first; a < row->l1->count; a++)
                for (int b = row->l2->first; b < row->l2->count; b++)
                    prom_u64(r, row->name, apr_psprintf(r->pool, "%s=\"%s\",%s=\"%s\"", row->l1->label,
                                                        label_name(row->l1, a), row->l2->label, label_name(row->l2, b)),
                             row_u64(s, row, a * row->l2->count + b));
            break;
        }
    }
}

/* -- JSON ------------------------------------------------------------------- */

static void set_u64(json_t *o, const char *k, uint64_t v)
{
    json_object_set_new(o, k, json_integer((json_int_t)v));
}

/* The object holding `path`'s last component (made as needed); `*leaf`
 * points at that component. */
static json_t *json_parent(json_t *root, const char *path, const char **leaf)
{
    json_t *o = root;
    const char *dot;
    while ((dot = strchr(path, '.')) != NULL) {
        char part[64];
        size_t n = (size_t)(dot - path) < sizeof(part) - 1 ? (size_t)(dot - path) : sizeof(part) - 1;
        memcpy(part, path, n);
        part[n] = '\0';
        json_t *next = json_object_get(o, part);
        if (next == NULL) {
            next = json_object();
            json_object_set_new(o, part, next);
        }
        o = next;
        path = dot + 1;
    }
    *leaf = path;
    return o;
}

static json_t *json_keys_sources(const snapshot_t *s)
{
    json_t *sub = json_array();
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
    return sub;
}

static json_t *json_snapshot(const snapshot_t *s)
{
    /* the document's sections, in this order whatever order the rows fill them */
    static const char *const sections[] = { "build", "config", "counters_since", "tokens", "revocations",
                                            "receiver_errors", "alerts", "guard", "store", "keys", "journal",
                                            "maintenance" };
    json_t *root = json_object(), *o, *sub;
    const char *leaf;

    for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
        json_object_set_new(root, sections[i], json_object());
    for (size_t i = 0; i < sizeof(ROWS) / sizeof(ROWS[0]); i++) {
        const status_row_t *row = &ROWS[i];
        if (row->kind == ROW_BUILD) {
            o = json_object_get(root, "build");
            json_object_set_new(o, "version", json_string(BCL_VERSION));
            json_object_set_new(o, "cjose", json_string(cjose_version()));
            json_object_set_new(o, "openssl", json_string(OpenSSL_version(OPENSSL_VERSION)));
            json_object_set_new(o, "jansson", json_string(JANSSON_VERSION));
            json_object_set_new(json_object_get(root, "config"), "store", json_string(s->store_kind));
            continue;
        }
        if (row->kind == ROW_KEYS) {
            json_object_set_new(json_object_get(root, "keys"), "sources", json_keys_sources(s));
            continue;
        }
        if (row->json == NULL || ((row->flags & F_NET) && !s->is_net))
            continue;
        o = json_parent(root, row->json, &leaf);
        switch (row->kind) {
        case ROW_ONE:
            if (row->flags & F_BOOL)
                json_object_set_new(o, leaf, json_boolean(row_u64(s, row, 0) != 0));
            else
                set_u64(o, leaf, row_u64(s, row, 0));
            break;
        case ROW_RATIO:
            json_object_set_new(o, leaf, json_real(row_double(s, row)));
            break;
        case ROW_LAB:
            sub = json_object();
            for (int a = row->l1->first; a < row->l1->count; a++)
                set_u64(sub, label_name(row->l1, a), row_u64(s, row, a));
            json_object_set_new(o, leaf, sub);
            break;
        case ROW_LAB2:
            sub = json_object();
            for (int a = row->l1->first; a < row->l1->count; a++) {
                json_t *inner = json_object();
                for (int b = row->l2->first; b < row->l2->count; b++)
                    set_u64(inner, label_name(row->l2, b), row_u64(s, row, a * row->l2->count + b));
                json_object_set_new(sub, label_name(row->l1, a), inner);
            }
            json_object_set_new(o, leaf, sub);
            break;
        }
    }
    json_object_set_new(json_object_get(root, "config"), "file", s->journal ? json_string(s->journal) : json_null());
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
        ap_rprintf(r, "BCLTokensRefused: %" APR_UINT64_T_FMT "\n", s.v.tokens_refused_total);
        ap_rprintf(r, "BCLSessionsRefused: %" APR_UINT64_T_FMT "\n", s.v.sessions_refused_total);
        ap_rprintf(r, "BCLStoreRecords: %" APR_UINT64_T_FMT "\n", s.v.records_total);
        ap_rprintf(r, "BCLStoreCapacity: %u\n", (unsigned)s.v.capacity);
        return OK;
    }
    ap_rprintf(r, "<hr />\n<h2>mod_backchannel_logout</h2>\n<dl><dt>Back-channel logout: %" APR_UINT64_T_FMT
               " tokens accepted, %" APR_UINT64_T_FMT " refused; %" APR_UINT64_T_FMT " sessions refused; store %s: %"
               APR_UINT64_T_FMT " of %u records (%.1f%% used)%s%s</dt></dl>\n",
               s.m.tokens_accepted, s.v.tokens_refused_total, s.v.sessions_refused_total, ap_escape_html(r->pool, s.store_kind),
               s.v.records_total, (unsigned)s.v.capacity,
               s.v.capacity ? 100.0 * (double)s.v.used / (double)s.v.capacity : 0.0,
               s.journal ? ", journal " : "", s.journal ? ap_escape_html(r->pool, s.journal) : "");
    return OK;
}

void bcl_status_register_hooks(void)
{
    APR_OPTIONAL_HOOK(ap, status_hook, bcl_mod_status_hook, NULL, NULL, APR_HOOK_MIDDLE);
}
