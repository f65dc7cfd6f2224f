/* Cookies as the guard sees them: the request's Cookie header, the app's
 * Set-Cookie headers, and the expiring Set-Cookie the guard sends. */
#ifndef BCL_COOKIE_H
#define BCL_COOKIE_H

#include <apr_pools.h>
#include <apr_tables.h>
#include "bcl_cookie_canon.h"

/* Finds every cookie `name` in a Cookie header value ("a=1; b=2"; httpd
 * joins several header lines with ", ", so ',' separates too). Points
 * values[i] into `header` (length lens[i]; one pair of quotes stripped);
 * returns how many, at most `max`. Exact names only: the guard uses
 * bcl_cookie_copies (bcl_cookie_canon.h), which finds every spelling. */
int bcl_cookie_find_all(const char *header, const char *name, const char **values,
                        apr_size_t *lens, int max);

/* Parses a Set-Cookie value. Returns 1 when it sets cookie `name`, with
 * `*value` (pool string: the value as a browser stores it, space and tab
 * trimmed, quotes kept; bcl_cookie_value_forms gives what backends read)
 * and `*expired` (Max-Age <= 0, an Expires date before `now`, or an empty
 * value: the app is ending the session). */
int bcl_set_cookie_parse(apr_pool_t *p, const char *set_cookie, const char *name, long long now,
                         const char **value, int *expired);

/* "NAME=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=PATH[; Domain=D][; Secure]" */
const char *bcl_cookie_expiring(apr_pool_t *p, const char *name, const char *path,
                                const char *domain, int secure);

/* The app's binding header: `iss="...", sid="...", sub="..."` (RFC 9110
 * quoted strings; tokens accepted too). iss and one of sid/sub required;
 * unknown names ignored. Returns 0, or -1 with `*err`. */
int bcl_binding_header_parse(apr_pool_t *p, const char *value, const char **iss,
                             const char **sid, const char **sub, const char **err);

#endif
