/* Stable message tags. Operators grep and alert on these: never reuse a
 * number for another meaning.
 *   BCL00xx  startup
 *   BCL01xx  the receiver's decisions
 *   BCL03xx  configuration and keys
 */
#ifndef BCL_LOGTAGS_H
#define BCL_LOGTAGS_H

#define BCL_TAG_STARTUP          "BCL0001"  /* module initialised */
#define BCL_TAG_ACCEPTED         "BCL0100"  /* logout token accepted */
#define BCL_TAG_TOKEN_REFUSED    "BCL0101"  /* logout token refused (reason) */
#define BCL_TAG_REQUEST_REFUSED  "BCL0102"  /* request refused before the token: method, type, size, form */
#define BCL_TAG_TOKEN_DEBUG      "BCL0103"  /* debug detail on a token (never the whole token) */
#define BCL_TAG_INTERNAL         "BCL0190"  /* internal error */
#define BCL_TAG_NOT_CONFIGURED   "BCL0191"  /* receiver location lacks required directives */
#define BCL_TAG_KEYS_LOADED      "BCL0301"  /* keys loaded from a file */
#define BCL_TAG_KEY_SKIPPED      "BCL0302"  /* a JWKS key skipped (emitted by the core) */

#endif
