/* The core's logger is injected: the module forwards to ap_log_error, the
 * command-line tool to stderr, the unit tests to a buffer they can inspect. */
#ifndef BCL_LOG_H
#define BCL_LOG_H

typedef enum { BCL_LOG_ERROR, BCL_LOG_WARNING, BCL_LOG_INFO, BCL_LOG_DEBUG } bcl_log_level_t;

/* `tag` is a stable message tag from bcl_logtags.h (BCL_TAG_*); `msg` is already formatted. */
typedef void bcl_log_fn(void *baton, bcl_log_level_t level, const char *tag, const char *msg);

typedef struct {
    bcl_log_fn *fn;
    void *baton;
} bcl_logger_t;

#if defined(__GNUC__)
#define BCL_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define BCL_PRINTF(f, a)
#endif

/* Logs through `logger` if it is non-NULL; formatting uses a stack buffer so
 * that logging never allocates from a caller's pool. */
void bcl_log(const bcl_logger_t *logger, bcl_log_level_t level, const char *tag,
             const char *fmt, ...) BCL_PRINTF(4, 5);

#endif
