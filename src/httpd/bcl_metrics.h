/* Counters shared by every child process: a small APR shared-memory segment
 * of 64-bit counters, incremented atomically (no lock), read by the status
 * handler and mod_status. The segment is made by the parent at the first
 * startup and kept across graceful restarts (like the store); a full
 * restart starts the counters at zero. */
#ifndef BCL_METRICS_H
#define BCL_METRICS_H

#include <httpd.h>
#include "bcl_journal_file.h"
#include "bcl_reason.h"
#include "bcl_alert.h"

/* why the guard refused a session: picks its log tag and its status counter */
typedef enum { BCL_GUARD_WHY_REVOKED = 0, BCL_GUARD_WHY_UNBOUND, BCL_GUARD_WHY_SUSPICIOUS, BCL_GUARD_WHY_COUNT } bcl_guard_why_t;
/* indexes follow BCL_ON_REVOKED_PASS/DENY/REDIRECT minus one */
enum { BCL_GUARD_ACT_PASS = 0, BCL_GUARD_ACT_DENY, BCL_GUARD_ACT_REDIRECT, BCL_GUARD_ACT_COUNT };
/* where a revocation came from (status: revocations by channel) */
enum { BCL_CHANNEL_BACK = 0, BCL_CHANNEL_FRONT, BCL_CHANNEL_ADMIN, BCL_CHANNEL_COUNT };
enum { BCL_STORE_OP_LOGOUT = 0, BCL_STORE_OP_BINDING, BCL_STORE_OP_COUNT };
enum { BCL_STORE_ERR_FULL = 0, BCL_STORE_ERR_UNAVAILABLE, BCL_STORE_ERR_COUNT };
/* why the receiver answered 500 or 503 */
enum { BCL_RECEIVER_ERR_NOT_CONFIGURED = 0,   /* 500: a directive is missing after merging */
       BCL_RECEIVER_ERR_CONFIGURATION,        /* 500: BCLIssuer differs from the discovered issuer, ... */
       BCL_RECEIVER_ERR_KEYS,                 /* 503: the OP's keys could not be fetched yet */
       BCL_RECEIVER_ERR_STORE,                /* 503: the store is full or unavailable */
       BCL_RECEIVER_ERR_COUNT };

typedef struct bcl_metrics_t {
    uint32_t magic;
    uint32_t version;
    int64_t since;                                /* seconds: when the counters started */
    uint64_t tokens_accepted;                     /* stored and answered 200 */
    uint64_t tokens_replayed;                     /* same jti again: 200, nothing changed */
    uint64_t tokens_refused[BCL_R_COUNT];         /* by reason (request and token checks) */
    uint64_t store_errors[BCL_STORE_OP_COUNT][BCL_STORE_ERR_COUNT];
    uint64_t sessions_passed;                     /* guarded requests let through */
    uint64_t sessions_refused[BCL_GUARD_WHY_COUNT][BCL_GUARD_ACT_COUNT];
    uint64_t guard_store_unavailable[2];          /* [BCL_STORE_CLOSED / BCL_STORE_OPEN] */
    uint64_t bindings_made;
    uint64_t bindings_dropped;
    uint64_t key_fetches_ok;
    uint64_t key_fetches_failed;
    uint64_t maintenance_runs;
    uint64_t sweeps;
    uint64_t swept_records;
    bcl_journal_stats_t journal;                  /* written by the journal under the store's lock */
    uint64_t key_issuer_mismatches;               /* fetched metadata whose issuer differs from a BCLIssuer */
    uint64_t receiver_errors[BCL_RECEIVER_ERR_COUNT];  /* the receiver's 500 and 503 answers, by cause */
    uint64_t alerts_suppressed;                   /* BCL0193 warnings held back by the rate limit */
    bcl_alert_slot_t alerts[BCL_ALERT_SLOTS];
    uint64_t journal_durable;                     /* journal frames (records_written) known to be on disk */
    uint64_t sessions_passed_unbound;             /* of sessions_passed: let through unbound (BCLUnboundSession allow) */
    uint64_t revocations[BCL_CHANNEL_COUNT];      /* revocations stored, by channel (BCL_CHANNEL_*); replays not counted */
} bcl_metrics_t;

/* post_config (not the check pass): makes the segment, or finds the one an
 * earlier generation made. */
apr_status_t bcl_metrics_init(server_rec *s, bcl_metrics_t **out);

/* The segment; NULL before post_config. */
bcl_metrics_t *bcl_metrics_of(server_rec *s);

#define BCL_METRIC_ADD(counter, n) __atomic_add_fetch(&(counter), (uint64_t)(n), __ATOMIC_RELAXED)
#define BCL_METRIC_GET(counter) __atomic_load_n(&(counter), __ATOMIC_RELAXED)

/* Increments `field` of the server's metrics, if there are any. */
#define BCL_COUNT(s, field) do { \
        bcl_metrics_t *bcl_m_ = bcl_metrics_of(s); \
        if (bcl_m_ != NULL) BCL_METRIC_ADD(bcl_m_->field, 1); \
    } while (0)

/* For key fetching: one fetch of a JWKS or discovery document ended,
 * successfully or not. Safe from any thread of any child. */
void bcl_metrics_key_fetch(server_rec *s, int ok);

void bcl_metrics_token_refused(server_rec *s, bcl_reason_t reason);

#endif
