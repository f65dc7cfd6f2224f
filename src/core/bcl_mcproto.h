/* memcached's text protocol: the commands the store sends (get and gets with
 * several keys, set, add, cas, delete) and parsers of the answers that allocate nothing:
 * values point into the caller's buffer. Data is counted, never assumed to
 * be NUL-free. */
#ifndef BCL_MCPROTO_H
#define BCL_MCPROTO_H

#include <stddef.h>
#include <stdint.h>

#define BCL_MC_KEY_MAX 250
#define BCL_MC_MAX_VALUES 8

typedef enum {
    BCL_MC_OK = 0,
    BCL_MC_INCOMPLETE,        /* read more and call again with the whole buffer */
    BCL_MC_BAD,               /* not an answer to what was asked */
    BCL_MC_SERVER_ERROR       /* ERROR, CLIENT_ERROR or SERVER_ERROR (e.g. out of memory) */
} bcl_mc_status_t;

typedef enum {
    BCL_MC_STORED, BCL_MC_NOT_STORED, BCL_MC_EXISTS, BCL_MC_NOT_FOUND, BCL_MC_DELETED
} bcl_mc_reply_t;

typedef struct {
    const char *key;
    size_t key_len;
    const char *data;
    size_t len;
    uint64_t cas;             /* the item's version (answer to gets), 0 when the line has none */
    int has_cas;
} bcl_mc_value_t;

/* A key memcached takes: 1 to 250 bytes, no space or control character. */
int bcl_mc_key_ok(const char *key, size_t len);

/* "<verb> k1 k2 ...\r\n" for verb get or gets (gets: each VALUE line carries
 * the item's version for cas); returns its length, 0 if it does not fit or a
 * key is bad. */
size_t bcl_mc_get_command(char *out, size_t cap, const char *verb, int n, const char *const keys[]);

/* "<verb> <key> 0 <exptime> <len>\r\n<data>\r\n" for verb set or add. */
size_t bcl_mc_store_command(char *out, size_t cap, const char *verb, const char *key,
                            uint32_t exptime, const char *data, size_t len);

/* "cas <key> 0 <exptime> <len> <version>\r\n<data>\r\n": stored only if the
 * item is still the version a gets returned (EXISTS: changed since;
 * NOT_FOUND: gone since). */
size_t bcl_mc_cas_command(char *out, size_t cap, const char *key, uint32_t exptime, const char *data, size_t len,
                          uint64_t version);

/* "delete <key>\r\n" */
size_t bcl_mc_delete_command(char *out, size_t cap, const char *key);

/* The answer to a get: VALUE blocks then END. On OK, vals[0..*n) are the
 * values found (in the server's order) and *consumed the answer's length. */
bcl_mc_status_t bcl_mc_parse_values(const char *buf, size_t len, bcl_mc_value_t *vals, size_t max,
                                    size_t *n, size_t *consumed);

/* The one-line answer to a set, add or delete. */
bcl_mc_status_t bcl_mc_parse_reply(const char *buf, size_t len, bcl_mc_reply_t *reply, size_t *consumed);

#endif
