/* A strict, read-only JSON parser for the logout token's header and claims.
 *
 * Why not jansson: parsing a logout token's claims with json_loadb cost
 * about 44,000 instructions (its lexer reads through a character stream
 * callback and builds hash tables); this parser does the same checks in a
 * few thousand, into the request pool. It accepts exactly what
 * json_loadb(..., JSON_REJECT_DUPLICATES) accepts for an object or array
 * at the top level: RFC 8259 grammar, valid UTF-8, no \u0000, paired
 * surrogates, no duplicate member names at any depth (compared after
 * unescaping), integers that fit in 64 bits, reals that do not overflow,
 * nesting at most 2048 deep, nothing but whitespace after the value. */
#ifndef BCL_JSON_H
#define BCL_JSON_H

#include <apr_pools.h>

typedef enum {
    BCL_JSON_NULL, BCL_JSON_FALSE, BCL_JSON_TRUE, BCL_JSON_NUMBER,
    BCL_JSON_STRING, BCL_JSON_ARRAY, BCL_JSON_OBJECT
} bcl_json_type_t;

typedef struct bcl_json_t bcl_json_t;
struct bcl_json_t {
    bcl_json_type_t type;
    const char *str;        /* STRING: unescaped, NUL-terminated (no NUL inside) */
    apr_size_t len;         /* STRING: bytes, without the terminating NUL */
    double num;             /* NUMBER */
    int n;                  /* ARRAY, OBJECT: number of elements / members */
    const char **keys;      /* OBJECT: member names, unescaped, NUL-terminated */
    bcl_json_t **items;     /* ARRAY: elements; OBJECT: member values */
};

/* Parses `len` bytes. Returns the value (an object or an array), or NULL
 * with `*err` saying what is wrong (a short phrase and the byte offset). */
bcl_json_t *bcl_json_parse(apr_pool_t *p, const char *text, apr_size_t len, const char **err);

/* The value of member `name` of an object; NULL when `obj` is NULL, not an
 * object, or has no such member. */
const bcl_json_t *bcl_json_get(const bcl_json_t *obj, const char *name);

#define bcl_json_is_string(v) ((v) != NULL && (v)->type == BCL_JSON_STRING)
#define bcl_json_is_number(v) ((v) != NULL && (v)->type == BCL_JSON_NUMBER)
#define bcl_json_is_object(v) ((v) != NULL && (v)->type == BCL_JSON_OBJECT)
#define bcl_json_is_array(v) ((v) != NULL && (v)->type == BCL_JSON_ARRAY)

#endif
