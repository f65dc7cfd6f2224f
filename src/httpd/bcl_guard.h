/* The guard: per-request enforcement for a proxied app (BCLSessionCookie). */
#ifndef BCL_GUARD_H
#define BCL_GUARD_H

#include <httpd.h>
#include <util_filter.h>

#define BCL_BIND_FILTER "BCL_SESSION_BIND"

/* fixups hook: decides on the request's session before the app sees it. */
int bcl_guard_fixup(request_rec *r);
/* insert_filter hook: adds the binding filter where the guard is on. */
void bcl_guard_insert_filter(request_rec *r);
/* insert_error_filter hook: the same filter for error responses. */
void bcl_guard_insert_error_filter(request_rec *r);
/* The output filter: reads (and removes) the app's binding header, follows
 * cookie rotation and expiry. */
apr_status_t bcl_guard_bind_filter(ap_filter_t *f, apr_bucket_brigade *bb);

#endif
