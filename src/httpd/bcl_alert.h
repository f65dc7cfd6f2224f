/* Problems an operator must see at Debian's default `LogLevel warn`: an OP
 * whose logouts are refused, a receiver answering 500 or 503. One warning
 * per (issuer, reason) per BCL_ALERT_INTERVAL seconds across all child
 * processes; the next one says how many were suppressed meanwhile. The
 * per-request details stay at level info (BCL0101, BCL0102). */
#ifndef BCL_ALERT_H
#define BCL_ALERT_H

#include <httpd.h>

#define BCL_ALERT_INTERVAL 60
#define BCL_ALERT_SLOTS 32

/* One (issuer, reason) pair's rate limit, in the shared counters segment. */
typedef struct {
    uint64_t key;          /* hash of issuer and reason; 0 = free */
    int64_t last;          /* seconds: when the last warning was written */
    uint64_t suppressed;   /* occurrences not written since */
} bcl_alert_slot_t;

/* Logs `what` at level warn with tag BCL0193, or counts it as suppressed.
 * `issuer` may be NULL (not known: a request refused before its token was
 * read); `reason` is a short code (a refusal reason, "status_500", ...). */
void bcl_alert(request_rec *r, const char *issuer, const char *reason, const char *what);

#endif
