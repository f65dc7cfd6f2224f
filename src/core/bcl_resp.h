/* The redis protocol (RESP2): commands as arrays of bulk strings, and a
 * parser of replies that allocates nothing: values point into the caller's
 * buffer. Enough for what the store sends: scalars and flat arrays. */
#ifndef BCL_RESP_H
#define BCL_RESP_H

#include <stddef.h>

typedef enum {
    BCL_RESP_SIMPLE,      /* +OK */
    BCL_RESP_ERROR,       /* -ERR ... */
    BCL_RESP_INTEGER,     /* :1 */
    BCL_RESP_BULK,        /* $3 abc */
    BCL_RESP_NIL,         /* $-1 or *-1 */
    BCL_RESP_ARRAY        /* *N of scalars */
} bcl_resp_type_t;

typedef struct {
    bcl_resp_type_t type;
    const char *str;      /* SIMPLE, ERROR, BULK: not NUL-terminated */
    size_t len;
    long long integer;    /* INTEGER */
} bcl_resp_value_t;

#define BCL_RESP_MAX_ELEMS 8
#define BCL_RESP_MAX_BULK (1024 * 1024)

typedef struct {
    bcl_resp_value_t top;                       /* ARRAY: n elements below */
    size_t n;
    bcl_resp_value_t elems[BCL_RESP_MAX_ELEMS];
} bcl_resp_reply_t;

typedef enum {
    BCL_RESP_OK = 0,
    BCL_RESP_INCOMPLETE,  /* read more and call again with the whole buffer */
    BCL_RESP_BAD          /* not RESP, or more than this parser takes (nesting, size) */
} bcl_resp_status_t;

/* Parses one reply from the start of buf[0..len); on OK, `*consumed` is its
 * length (pipelined replies follow it). */
bcl_resp_status_t bcl_resp_parse(const char *buf, size_t len, bcl_resp_reply_t *out, size_t *consumed);

/* Writes a command (argv[i] of lens[i] bytes, binary-safe) into out[0..cap);
 * returns its length, 0 when it does not fit. */
size_t bcl_resp_command(char *out, size_t cap, int argc, const char *const argv[], const size_t lens[]);

#endif
