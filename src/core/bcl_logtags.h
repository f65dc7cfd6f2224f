/* Stable message tags: the one registry, used by the core and the httpd
 * glue alike (no "BCLnnnn" literal elsewhere in src/ or tools/). Operators
 * grep and alert on these: never reuse a number for another meaning.
 * docs/receiver.md lists every tag defined here, and
 * test/integration/test_logtags.py fails when the two differ. Code that
 * decides on a kind of event uses an enum (e.g. BCL_GUARD_WHY_*), never a
 * comparison of tag strings.
 *   BCL00xx  startup
 *   BCL01xx  the receiver's decisions
 *   BCL02xx  the guard
 *   BCL03xx  configuration and keys
 *   BCL04xx  the store
 *   BCL05xx  keys fetched from the OP (BCLJWKSURI, BCLProviderMetadataURL)
 *   BCL06xx  the network stores (memcache, redis)
 *   BCL07xx  the journal, status and maintenance
 *   BCL08xx  front-channel logout
 */
#ifndef BCL_LOGTAGS_H
#define BCL_LOGTAGS_H

#define BCL_TAG_STARTUP          "BCL0001"  /* module initialised */
#define BCL_TAG_ACCEPTED         "BCL0100"  /* logout token accepted */
#define BCL_TAG_TOKEN_REFUSED    "BCL0101"  /* logout token refused (reason) */
#define BCL_TAG_REQUEST_REFUSED  "BCL0102"  /* request refused before the token: method, type, size, form */
#define BCL_TAG_TOKEN_DEBUG      "BCL0103"  /* debug detail on a token (never the whole token) */
#define BCL_TAG_STORE_FAILED     "BCL0104"  /* an accepted logout could not be stored: 503 */
#define BCL_TAG_REPLAY           "BCL0105"  /* a logout token already applied (same jti) */
#define BCL_TAG_KEY_FAILED       "BCL0110"  /* an accepted logout's keys could not be computed (digest failed): 503 */
#define BCL_TAG_INTERNAL         "BCL0190"  /* internal error */
#define BCL_TAG_NOT_CONFIGURED   "BCL0191"  /* receiver location lacks required directives */
#define BCL_TAG_CONFIG_REFUSED   "BCL0192"  /* a combination of directives refused at startup (file:line) */
#define BCL_TAG_ALERT            "BCL0193"  /* warn, rate-limited per issuer and reason: logouts refused, 500/503 */
#define BCL_TAG_SESSION_REVOKED  "BCL0200"  /* a revoked session refused */
#define BCL_TAG_SESSION_UNBOUND  "BCL0201"  /* an unbound session refused (BCLUnboundSession deny) */
#define BCL_TAG_BOUND            "BCL0202"  /* a session cookie bound to an identity */
#define BCL_TAG_BIND_BAD_HEADER  "BCL0203"  /* the app's binding header is malformed: no binding */
#define BCL_TAG_UNBOUND_DROPPED  "BCL0204"  /* the app expired its cookie: binding dropped */
#define BCL_TAG_STORE_DOWN       "BCL0205"  /* store unavailable during a guard check */
#define BCL_TAG_COOKIE_SUSPICIOUS "BCL0210" /* a session cookie in a form no browser sends back refused (BCLSuspiciousCookie deny) */
#define BCL_TAG_COOKIE_ODD_ALLOWED "BCL0211" /* such a cookie checked in every form and let on (BCLSuspiciousCookie allow; debug) */
#define BCL_TAG_REBIND_REFUSED   "BCL0220"  /* a value bound to one session is not re-bound to another */
#define BCL_TAG_BIND_AMBIGUOUS   "BCL0221"  /* the request carried several copies: no binding made or dropped */
#define BCL_TAG_ROTATION_WITHHELD "BCL0222" /* copies bound to different sessions: a rotated value withheld */
#define BCL_TAG_HASH_REFUSED     "BCL0230"  /* a request's session cookie or env identity could not be hashed: 503 */
#define BCL_TAG_HASH_NOT_BOUND   "BCL0231"  /* a value or the binding header's identity could not be hashed: not bound */
#define BCL_TAG_HASH_UNAVAILABLE "BCL0240"  /* a child cannot fetch SHA-256 (OpenSSL configuration): the guard answers 503 */
#define BCL_TAG_KEYS_LOADED      "BCL0301"  /* keys loaded from a file */
#define BCL_TAG_KEY_SKIPPED      "BCL0302"  /* a JWKS key skipped (src/core/bcl_keyset.c) */

#define BCL_TAG_STORE            "BCL0400"  /* store lifecycle */
#define BCL_TAG_STORE_USAGE      "BCL0401"  /* store usage crossed 80% or 100% */

#define BCL_TAG_KEYS_FETCHED     "BCL0500"  /* keys fetched and changed: kids, generation, next refresh */
#define BCL_TAG_KEYS_FETCH_FAILED "BCL0501" /* a key or metadata fetch failed (transport, TLS, status, redirect) */
#define BCL_TAG_KEYS_STALE       "BCL0502"  /* a refresh failed: the keys held stay in use (stale-if-error) */
#define BCL_TAG_KEYS_TOO_LARGE   "BCL0503"  /* a fetched document is larger than BCLHTTPMaxSize: refused */
#define BCL_TAG_KEYS_MALFORMED   "BCL0504"  /* a fetched JWKS or metadata document is malformed: refused */
#define BCL_TAG_KEYS_NONE_YET    "BCL0505"  /* a refresh failed and no keys were ever fetched from this URL */
#define BCL_TAG_KEYS_UNCHANGED   "BCL0506"  /* keys refetched, unchanged (debug) */
#define BCL_TAG_KEYS_RECOVERED   "BCL0507"  /* a fetch succeeded after failures */
#define BCL_TAG_KEYS_REFETCH     "BCL0510"  /* an unknown kid caused a refetch */
#define BCL_TAG_KEYS_REFETCH_LIMITED "BCL0511" /* an unknown kid caused no refetch: BCLKeyRefetchInterval not over */
#define BCL_TAG_KEYS_UNAVAILABLE "BCL0512"  /* a token needs fetched keys and none were ever fetched: 503 */
#define BCL_TAG_KEYS_ISSUER_MISMATCH "BCL0520" /* BCLIssuer differs from the discovered issuer */
#define BCL_TAG_KEYS_CONFIG      "BCL0530"  /* key sources at startup: URL, settings, http:// loopback warning */
#define BCL_TAG_KEYS_SETTINGS_DIFFER "BCL0531" /* one URL declared with different fetch settings: the first wins */
#define BCL_TAG_KEYS_NO_WATCHDOG "BCL0540"  /* mod_watchdog missing: keys are fetched when requests need them */
#define BCL_TAG_KEYS_DISK        "BCL0541"  /* key sets kept beside the journal: saved, unusable, not writable */
#define BCL_TAG_KEYS_INTERNAL    "BCL0590"  /* shared memory, mutex or parse failure inside the module */

#define BCL_TAG_NET_STORE        "BCL0600"  /* network store configured / lifecycle */
/* BCL0601-BCL0603 are emitted by the core (src/core/bcl_store_net.c) */
#define BCL_TAG_NET_FAILED       "BCL0601"  /* a network store operation failed (at most once per 10 s) */
#define BCL_TAG_NET_RECOVERED    "BCL0602"  /* the network store answers again */
#define BCL_TAG_NET_BAD_RECORD   "BCL0603"  /* a value under our prefix is not our record: treated as absent */
/* BCL0700-BCL0704 are emitted by the core (src/core/bcl_journal_file.c) */
#define BCL_TAG_JOURNAL          "BCL0700"  /* journal lifecycle: opened, replayed, file= changed */
#define BCL_TAG_JOURNAL_DAMAGE   "BCL0701"  /* a damaged region of the journal (file, offset, length) skipped */
#define BCL_TAG_JOURNAL_IO       "BCL0702"  /* a journal write or fsync failed */
#define BCL_TAG_JOURNAL_COMPACT  "BCL0703"  /* journal compacted, or compaction failed */
#define BCL_TAG_JOURNAL_DROPPED  "BCL0704"  /* journal records that did not fit the store's capacity */
#define BCL_TAG_STATUS           "BCL0710"  /* status handler and counters */
#define BCL_TAG_MAINTENANCE      "BCL0720"  /* periodic maintenance: sweep, watchdog */
/* the front-channel logout handler (SetHandler frontchannel-logout) */
#define BCL_TAG_FC_SID_REVOKED   "BCL0800"  /* front-channel logout: (iss, sid) revoked */
#define BCL_TAG_FC_COOKIE_REVOKED "BCL0801" /* front-channel logout without sid: the browser's cookie's session revoked */
#define BCL_TAG_FC_NOTHING       "BCL0802"  /* front-channel logout without sid nor bound cookie: nothing revoked */
#define BCL_TAG_FC_REFUSED       "BCL0803"  /* front-channel request refused: method, iss, duplicate or malformed parameter */
#define BCL_TAG_FC_STORE_FAILED  "BCL0804"  /* front-channel logout could not be stored: 503 */
#define BCL_TAG_FC_NOT_CONFIGURED "BCL0805" /* front-channel location without BCLIssuer: 500 */
/* the administrative revocation handler (SetHandler backchannel-logout-admin) */
#define BCL_TAG_ADMIN_REVOKED    "BCL0820"  /* admin revocation stored: who, from where, what */
#define BCL_TAG_ADMIN_QUERY      "BCL0821"  /* admin query (GET) answered */
#define BCL_TAG_ADMIN_REFUSED    "BCL0822"  /* admin request refused: method, content type, body, parameters (400/405/415) */
#define BCL_TAG_ADMIN_UNAUTH     "BCL0823"  /* admin request without a valid credential: 401 */
#define BCL_TAG_ADMIN_STORE_FAILED "BCL0824" /* admin revocation or query could not reach the store: 503 */
#define BCL_TAG_ADMIN_TOKENS     "BCL0825"  /* BCLAdminTokenFile read at startup: how many tokens */
#define BCL_TAG_ADMIN_NO_CREDENTIAL "BCL0826" /* admin location with no BCLAdminTokenFile and no AuthType: every request 401 */

#endif
