/* Rate-limited warnings (see bcl_alert.h). The slots live in the counters'
 * shared memory and are updated with atomics only: two processes may both
 * write a warning in the same second, which is harmless; no lock is taken
 * on the receiver's path. */
#include <httpd.h>
#include <http_log.h>
#include <apr_strings.h>
#include "bcl_alert.h"
#include "bcl_logtags.h"
#include "bcl_metrics.h"
#include "mod_backchannel_logout.h"

static uint64_t alert_key(const char *issuer, const char *reason)
{
    /* FNV-1a over "issuer\0reason" */
    uint64_t h = 1469598103934665603ull;
    for (const char *p = issuer ? issuer : "-"; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ull;
    h = (h ^ 0) * 1099511628211ull;
    for (const char *p = reason; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ull;
    return h ? h : 1;
}

void bcl_alert(request_rec *r, const char *issuer, const char *reason, const char *what)
{
    bcl_metrics_t *m = bcl_metrics_of(r->server);
    int64_t now = apr_time_sec(apr_time_now());
    uint64_t key = alert_key(issuer, reason), suppressed = 0;
    bcl_alert_slot_t *slot;
    int64_t last;

    if (m == NULL)
        return;
    slot = &m->alerts[key % BCL_ALERT_SLOTS];
    if (__atomic_load_n(&slot->key, __ATOMIC_RELAXED) != key) {
        /* a new pair (or one that shares the slot): take the slot over */
        __atomic_store_n(&slot->key, key, __ATOMIC_RELAXED);
        __atomic_store_n(&slot->last, (int64_t)0, __ATOMIC_RELAXED);
        __atomic_store_n(&slot->suppressed, (uint64_t)0, __ATOMIC_RELAXED);
    }
    last = __atomic_load_n(&slot->last, __ATOMIC_RELAXED);
    if (now - last < BCL_ALERT_INTERVAL
        || !__atomic_compare_exchange_n(&slot->last, &last, now, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
        BCL_METRIC_ADD(slot->suppressed, 1);
        BCL_METRIC_ADD(m->alerts_suppressed, 1);
        return;
    }
    suppressed = __atomic_exchange_n(&slot->suppressed, (uint64_t)0, __ATOMIC_RELAXED);
    ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, BCL_TAG_ALERT ": %s (issuer %s, reason %s); at most one "
                  "such line per %d s%s", what, issuer ? ap_escape_logitem(r->pool, issuer) : "unknown", reason,
                  BCL_ALERT_INTERVAL,
                  suppressed ? apr_psprintf(r->pool, ", %" APR_UINT64_T_FMT " more since the last one",
                                            suppressed) : "");
}
