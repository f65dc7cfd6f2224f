/* Records of the revocation store as a network store (memcache, redis) keeps
 * them: key names, value encoding and expiry times.
 * Pure functions: no I/O, no pools. The rules (what a logout writes, the
 * merge, the guard's decision) are bcl_rules.h. */
#ifndef BCL_NETREC_H
#define BCL_NETREC_H

#include <stddef.h>
#include <stdint.h>
#include "bcl_record.h"
#include "bcl_store.h"

/* A key prefix (several apps or fleets sharing one server): 1 to 64 of
 * [A-Za-z0-9:_.-]. */
#define BCL_NET_PREFIX_MAX 64
#define BCL_NET_DEFAULT_PREFIX "bcl:"
/* prefix + kind letter + ':' + 32 hex digits + NUL; always far below
 * memcached's 250-byte key limit */
#define BCL_NET_KEY_MAX (BCL_NET_PREFIX_MAX + 2 + 2 * BCL_KEY_LEN + 1)
/* an encoded value is at most this long (see bcl_netrec_encode) */
#define BCL_NET_VALUE_MAX 160
/* memcached reads an expiry above 30 days as an absolute unix time */
#define BCL_MEMCACHE_RELATIVE_MAX 2592000

/* Whether `prefix` is usable as a key prefix. */
int bcl_netrec_prefix_ok(const char *prefix);

/* The letter naming a record kind in keys and values ('s' sid revocation,
 * 'u' sub revocation, 'n' revocation of a sub's sessions without sid, 'i'
 * an issuer's cut-off, 'c' binding of a cookie, 'j' jti); 0 for others. A record is named by its
 * kind letter and its identity key (a sub's 'u' and 'n' records share the
 * key's hex). */
char bcl_netrec_kind_letter(int kind);

/* Writes "<prefix><letter>:<hex of the hash>" into `out` (at least
 * BCL_NET_KEY_MAX bytes) and returns its length; 0 for a bad kind or prefix. */
size_t bcl_netrec_key(char *out, const char *prefix, int kind, const bcl_hkey_t *k);

/* Encodes a record as text, binary-safe in every protocol and readable with
 * redis-cli or a memcached `get`:
 *     1 <letter> <expires> <t_server> <t_op> <sid_key hex|-> <sub_key hex|->[ <iss_fp hex>]
 * (the last field: a binding's issuer fingerprint, 14 hex digits, only when
 * it has one; an issuer cut-off is named "<prefix>i:<fingerprint hex><18
 * zeros>", the hex of its bcl_hkey_iss key, so redis's Lua can name it)
 * Returns the length written into `out` (BCL_NET_VALUE_MAX bytes); 0 for a
 * record of no storable kind. */
size_t bcl_netrec_encode(char *out, const bcl_record_t *rec);

/* Decodes a value written by bcl_netrec_encode (the key is not set).
 * Returns 0, or -1 when `data` is not such a value (a foreign or damaged
 * entry: the caller treats it as absent and says so). */
int bcl_netrec_decode(const char *data, size_t len, bcl_record_t *rec);

/* Seconds to live for a record that expires at `expires`: at least 1, so a
 * record is never written without an expiry or with one in the past. */
int64_t bcl_net_ttl(int64_t expires, int64_t now);

/* memcached's exptime: the ttl when it is at most 30 days, the absolute
 * unix time otherwise (memcached would read a larger relative value as a
 * time in 1970: expired at once). Never 0 (which means "never expires"). */
uint32_t bcl_memcache_exptime(int64_t expires, int64_t now);

#endif
