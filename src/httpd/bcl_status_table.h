/* Every number the status handler shows, once: the Prometheus family (name,
 * type, help, fixed labels), where the value lives, and its place in the
 * JSON document. The Prometheus and JSON writers (bcl_status.c) loop over
 * this list, in this order; a compile-time check there makes sure that
 * every byte of bcl_metrics_t is either listed here or in
 * BCL_STATUS_NOT_SHOWN, so a counter added to the struct and forgotten here
 * does not build.
 *
 * Where a value lives: `m` is the copy of the shared counters
 * (bcl_metrics_t), `v` values of the snapshot taken for this request (the
 * store's stats, the network store's health, totals); both are 64-bit.
 *
 * Rows (each writer defines what it does with each kind):
 *   BUILD(name, type, help)                   bcl_build_info / "build", config.store
 *   ONE(name, type, help, labels, src, field, json, flags)
 *                                             one series; name NULL: JSON only,
 *                                             json NULL: Prometheus only; help
 *                                             NULL: one more series of the
 *                                             family named just above
 *   LAB(name, type, help, src, field, label, json, flags)
 *                                             one series per name of `label`
 *                                             (a status_label_t), JSON an object
 *   LAB2(name, type, help, src, field, label1, label2, json, flags)
 *                                             field[label1][label2], JSON nested
 *   RATIO(name, type, help, src, field, json) a double
 *   KEYS()                                    the per-URL key families / keys.sources
 * Flags: F_NET (only with a memcache / redis store), F_BOOL (JSON true/false).
 */
#ifndef BCL_STATUS_TABLE_H
#define BCL_STATUS_TABLE_H

#include "bcl_logtags.h"

#define BCL_STATUS_ROWS(BUILD, ONE, LAB, LAB2, RATIO, KEYS) \
    BUILD("bcl_build_info", "gauge", "Version of mod_backchannel_logout, its libraries and its store (value 1).") \
    ONE("bcl_counters_since_seconds", "gauge", "When these counters started (Unix time; a full restart resets them).", \
        NULL, m, since, "counters_since", 0) \
    ONE("bcl_tokens_accepted_total", "counter", "Logout tokens accepted and stored (answered 200).", \
        NULL, m, tokens_accepted, "tokens.accepted", 0) \
    ONE("bcl_tokens_replayed_total", "counter", "Logout tokens already applied (same jti): 200, nothing changed.", \
        NULL, m, tokens_replayed, "tokens.replayed", 0) \
    LAB("bcl_revocations_total", "counter", "Revocations stored, by channel (replays not counted).", \
        m, revocations, LABEL_CHANNEL, "revocations", 0) \
    LAB("bcl_tokens_refused_total", "counter", "Back-channel requests and logout tokens refused, by reason code.", \
        m, tokens_refused, LABEL_TOKEN_REASON, "tokens.refused", 0) \
    ONE(NULL, NULL, NULL, NULL, v, tokens_refused_total, "tokens.refused_total", 0) \
    LAB2("bcl_store_errors_total", "counter", "Records the store could not take, by operation and error.", \
         m, store_errors, LABEL_STORE_OP, LABEL_STORE_ERR, "store.errors", 0) \
    ONE("bcl_sessions_passed_total", "counter", "Guarded requests with a session cookie let through.", \
        NULL, m, sessions_passed, "guard.passed", 0) \
    ONE("bcl_sessions_passed_unbound_total", "counter", "Of those, let through with no binding in the store " \
        "(BCLUnboundSession allow): not protected by back-channel logout.", \
        NULL, m, sessions_passed_unbound, "guard.passed_unbound", 0) \
    LAB2("bcl_sessions_refused_total", "counter", "Guarded requests refused at the edge, by reason and BCLOnRevoked action.", \
         m, sessions_refused, LABEL_GUARD_WHY, LABEL_GUARD_ACT, "guard.refused", 0) \
    ONE(NULL, NULL, NULL, NULL, v, sessions_refused_total, "guard.refused_total", 0) \
    LAB("bcl_guard_store_unavailable_total", "counter", "Guard checks that found the store unavailable, by BCLStoreUnavailable.", \
        m, guard_store_unavailable, LABEL_POLICY, "guard.store_unavailable", 0) \
    ONE("bcl_bindings_made_total", "counter", "Session cookies bound to an OP session.", \
        NULL, m, bindings_made, "guard.bindings_made", 0) \
    ONE("bcl_bindings_dropped_total", "counter", "Bindings dropped because the app expired its cookie.", \
        NULL, m, bindings_dropped, "guard.bindings_dropped", 0) \
    LAB("bcl_store_records", "gauge", "Records held in the store, by kind (expired ones until swept).", \
        v, by_kind, LABEL_RECORD_KIND, "store.records", 0) \
    ONE(NULL, NULL, NULL, NULL, v, records_total, "store.records_total", 0) \
    ONE(NULL, NULL, NULL, NULL, v, capacity, "config.capacity", 0) \
    ONE("bcl_store_capacity_records", "gauge", "Records the store can hold (BCLStore capacity= or memory=).", \
        NULL, v, capacity, "store.capacity", 0) \
    ONE("bcl_store_used_records", "gauge", "Records counted against capacity (expired ones until swept or reused).", \
        NULL, v, used, "store.used", 0) \
    RATIO("bcl_store_usage_ratio", "gauge", "Used records over capacity (1 = full: new records are refused).", \
          v, usage, "store.usage") \
    ONE("bcl_store_memory_bytes", "gauge", "Shared memory taken by the store's table.", \
        NULL, v, memory, "config.memory_bytes", 0) \
    ONE("bcl_store_lifetime_seconds", "gauge", "BCLRevocationLifetime.", NULL, v, lifetime, "config.lifetime", 0) \
    ONE("bcl_store_full_refusals_total", "counter", "Inserts the table refused because it was full (since the store was made).", \
        NULL, v, full_refusals, "store.full_refusals", 0) \
    ONE("bcl_store_up", "gauge", "1 when the store answered this scrape.", NULL, v, up, "store.up", F_BOOL) \
    /* all key URLs together: JSON only (Prometheus: sum bcl_keys_fetches_total over url) */ \
    ONE(NULL, NULL, NULL, NULL, m, key_fetches_ok, "keys.fetches", 0) \
    ONE(NULL, NULL, NULL, NULL, m, key_fetches_failed, "keys.failures", 0) \
    ONE("bcl_receiver_errors_total", "counter", "The receiver's 500 and 503 answers, by cause.", \
        "status=\"500\",cause=\"not_configured\"", m, receiver_errors[BCL_RECEIVER_ERR_NOT_CONFIGURED], \
        "receiver_errors.not_configured", 0) \
    ONE("bcl_receiver_errors_total", NULL, NULL, "status=\"500\",cause=\"configuration\"", \
        m, receiver_errors[BCL_RECEIVER_ERR_CONFIGURATION], "receiver_errors.configuration", 0) \
    ONE("bcl_receiver_errors_total", NULL, NULL, "status=\"503\",cause=\"keys_unavailable\"", \
        m, receiver_errors[BCL_RECEIVER_ERR_KEYS], "receiver_errors.keys_unavailable", 0) \
    ONE("bcl_receiver_errors_total", NULL, NULL, "status=\"503\",cause=\"store\"", \
        m, receiver_errors[BCL_RECEIVER_ERR_STORE], "receiver_errors.store", 0) \
    ONE("bcl_alerts_suppressed_total", "counter", BCL_TAG_ALERT " warnings held back by their rate limit.", \
        NULL, m, alerts_suppressed, "alerts.suppressed", 0) \
    ONE("bcl_key_issuer_mismatches_total", "counter", "Fetched metadata whose issuer differs from a " \
        "configured BCLIssuer (" BCL_TAG_KEYS_ISSUER_MISMATCH "): tokens there are answered 500.", \
        NULL, m, key_issuer_mismatches, "keys.issuer_mismatches", 0) \
    KEYS() \
    ONE("bcl_store_net_operations_total", "counter", "Operations sent to memcache / redis (since the store was made).", \
        NULL, v, net_ops, "store.network.operations", F_NET) \
    ONE("bcl_store_net_failures_total", "counter", "memcache / redis operations that failed (503 / BCLStoreUnavailable).", \
        NULL, v, net_failures, "store.network.failures", F_NET) \
    ONE("bcl_store_net_bad_records_total", "counter", "Values under the prefix that were not records of this module.", \
        NULL, v, net_bad_records, "store.network.bad_records", F_NET) \
    ONE("bcl_store_net_down", "gauge", "1 from a failed memcache / redis operation to the next success.", \
        NULL, v, net_down, "store.network.down", F_NET | F_BOOL) \
    ONE("bcl_journal_enabled", "gauge", "1 when the store is durable (BCLStore shm file=).", \
        NULL, v, journal_enabled, "journal.enabled", F_BOOL) \
    ONE("bcl_journal_appends_total", "counter", "Writes appended to the journal.", \
        NULL, m, journal.appends, "journal.appends", 0) \
    ONE("bcl_journal_records_written_total", "counter", "Records appended to the journal.", \
        NULL, m, journal.records_written, "journal.records_written", 0) \
    ONE("bcl_journal_append_errors_total", "counter", "Journal writes that failed.", \
        NULL, m, journal.append_errors, "journal.append_errors", 0) \
    ONE("bcl_journal_syncs_total", "counter", "fdatasync calls on the journal.", NULL, m, journal.syncs, "journal.syncs", 0) \
    ONE("bcl_journal_sync_errors_total", "counter", "fdatasync calls on the journal that failed.", \
        NULL, m, journal.sync_errors, "journal.sync_errors", 0) \
    ONE("bcl_journal_compactions_total", "counter", "Journal rewrites with only the live records.", \
        NULL, m, journal.compactions, "journal.compactions", 0) \
    ONE("bcl_journal_compaction_errors_total", "counter", "Journal compactions that failed.", \
        NULL, m, journal.compaction_errors, "journal.compaction_errors", 0) \
    ONE("bcl_journal_bytes", "gauge", "Size of the journal file.", NULL, m, journal.bytes, "journal.bytes", 0) \
    ONE("bcl_journal_replayed_records", "gauge", "Records restored from the journal at the last startup.", \
        NULL, m, journal.replayed, "journal.replayed", 0) \
    ONE("bcl_journal_damaged_bytes", "gauge", "Damaged journal bytes skipped at the last startup.", \
        NULL, m, journal.damaged_bytes, "journal.damaged_bytes", 0) \
    ONE("bcl_journal_dropped_records", "gauge", "Unexpired journal records that did not fit the capacity at the last startup.", \
        NULL, m, journal.replay_dropped_full, "journal.dropped_records", 0) \
    ONE("bcl_maintenance_runs_total", "counter", "Runs of the periodic maintenance (watchdog).", \
        NULL, m, maintenance_runs, "maintenance.runs", 0) \
    ONE("bcl_maintenance_sweeps_total", "counter", "Sweeps of expired records.", NULL, m, sweeps, "maintenance.sweeps", 0) \
    ONE("bcl_maintenance_swept_records_total", "counter", "Expired records removed by sweeps.", \
        NULL, m, swept_records, "maintenance.swept_records", 0)

/* Fields of bcl_metrics_t the status does not show, on purpose: the
 * segment's header, the alert rate limiter's slots, the journal's group
 * commit mark and the journal's internal bookkeeping. */
#define BCL_STATUS_NOT_SHOWN(X) \
    X(magic) X(version) X(alerts) X(journal_durable) \
    X(journal.compacted_bytes) X(journal.last_compaction) X(journal.unsynced) \
    X(journal.replay_expired) X(journal.damaged_regions)

#endif
