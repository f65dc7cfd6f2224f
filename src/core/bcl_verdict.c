#include <string.h>
#include <apr_strings.h>
#include "bcl_verdict.h"

bcl_reason_t bcl_verdict_fail(bcl_verdict_t *v, bcl_reason_t r, const char *detail)
{
    v->reason = r;
    v->detail = detail;
    return r;
}

const char *bcl_verdict_clip(apr_pool_t *p, const char *s)
{
    char *c = apr_pstrndup(p, s, 64);
    for (char *q = c; *q; q++) {
        if ((unsigned char)*q < 0x20 || *q == '"' || *q == '\\')
            *q = '?';
    }
    return strlen(s) > 64 ? apr_pstrcat(p, c, "...", NULL) : c;
}
