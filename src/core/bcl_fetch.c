#include <string.h>
#include <strings.h>
#include <apr_strings.h>
#include <curl/curl.h>
#include "bcl_fetch.h"
#include "bcl_keysource.h"

typedef struct {
    apr_pool_t *pool;
    char *buf;
    apr_size_t len, cap, max;
    int too_large;
    const char *cache_control;
} sink_t;

static size_t on_body(char *data, size_t size, size_t nmemb, void *baton)
{
    sink_t *s = baton;
    apr_size_t n = size * nmemb;

    if (n > s->max - s->len) {
        s->too_large = 1;
        return 0;   /* libcurl aborts the transfer */
    }
    if (s->len + n + 1 > s->cap) {
        apr_size_t cap = s->cap ? s->cap : 4096;
        while (cap < s->len + n + 1)
            cap *= 2;
        if (cap > s->max + 1)
            cap = s->max + 1;
        char *nb = apr_palloc(s->pool, cap);
        if (s->len)
            memcpy(nb, s->buf, s->len);
        s->buf = nb;
        s->cap = cap;
    }
    memcpy(s->buf + s->len, data, n);
    s->len += n;
    return n;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *baton)
{
    sink_t *s = baton;
    apr_size_t n = size * nmemb;

    /* each answer (a redirect, then the final one) starts with its status line */
    if (n >= 5 && strncmp(data, "HTTP/", 5) == 0) {
        s->cache_control = NULL;
    } else if (n > 14 && strncasecmp(data, "Cache-Control:", 14) == 0) {
        const char *v = data + 14;
        apr_size_t vl = n - 14;
        while (vl > 0 && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
            vl--;
        while (vl > 0 && (*v == ' ' || *v == '\t')) {
            v++;
            vl--;
        }
        /* several Cache-Control lines combine as one list */
        const char *val = apr_pstrmemdup(s->pool, v, vl);
        s->cache_control = s->cache_control ? apr_pstrcat(s->pool, s->cache_control, ", ", val, NULL) : val;
    }
    return n;
}

int bcl_fetch_global_init(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

void bcl_fetch_global_cleanup(void)
{
    curl_global_cleanup();
}

const char *bcl_fetch_status_name(bcl_fetch_status_t st)
{
    switch (st) {
    case BCL_FETCH_OK: return "ok";
    case BCL_FETCH_TRANSPORT: return "transport";
    case BCL_FETCH_HTTP_STATUS: return "http_status";
    case BCL_FETCH_TOO_LARGE: return "too_large";
    case BCL_FETCH_BAD_REDIRECT: return "bad_redirect";
    }
    return "unknown";
}

static bcl_fetch_status_t fail(bcl_fetch_result_t *res, bcl_fetch_status_t st, const char *error)
{
    res->status = st;
    res->error = error;
    res->body = NULL;
    res->len = 0;
    return st;
}

static int on_progress(void *data, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
    const bcl_fetch_opts_t *o = data;
    (void)dltotal; (void)dlnow; (void)ultotal; (void)ulnow;
    return o->should_stop(o->stop_baton) ? 1 : 0;
}

bcl_fetch_status_t bcl_fetch_get(apr_pool_t *p, const char *url, const bcl_fetch_opts_t *o,
                                 bcl_fetch_result_t *res)
{
    char errbuf[CURL_ERROR_SIZE];
    sink_t sink;
    CURL *c;
    CURLcode cc;
    char *eff = NULL, *redirect = NULL;
    const char *refused_redirect = NULL;

    memset(res, 0, sizeof(*res));
    memset(&sink, 0, sizeof(sink));
    sink.pool = p;
    sink.max = o->max_size;
    errbuf[0] = '\0';

    if ((c = curl_easy_init()) == NULL)
        return fail(res, BCL_FETCH_TRANSPORT, "libcurl could not start a transfer");

    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);          /* threads: no SIGALRM for DNS timeouts */
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, (long)BCL_FETCH_MAX_REDIRECTS);
    /* a redirect's Location comes from the fetched answer: only to https,
     * whatever the first URL was (plain http only for a configured URL) */
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "https");
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    if (o->ca_file != NULL)
        curl_easy_setopt(c, CURLOPT_CAINFO, o->ca_file);
    if (o->proxy != NULL)
        curl_easy_setopt(c, CURLOPT_PROXY, o->proxy);  /* "" turns the environment's proxy off */
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, o->connect_timeout_ms);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, o->timeout_ms);
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)o->max_size);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &sink);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
    if (o->user_agent != NULL)
        curl_easy_setopt(c, CURLOPT_USERAGENT, o->user_agent);
    if (o->should_stop != NULL) {
        curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(c, CURLOPT_XFERINFODATA, (void *)o);
        curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    }

    cc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &res->http_status);
    curl_easy_getinfo(c, CURLINFO_TOTAL_TIME, &res->seconds);
    if (curl_easy_getinfo(c, CURLINFO_EFFECTIVE_URL, &eff) == CURLE_OK && eff != NULL)
        res->final_url = apr_pstrdup(p, eff);
    else
        res->final_url = url;
    /* where a refused redirect pointed (before the handle goes) */
    if (cc == CURLE_UNSUPPORTED_PROTOCOL && curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &redirect) == CURLE_OK
        && redirect != NULL)
        refused_redirect = apr_pstrdup(p, redirect);
    res->cache_control = sink.cache_control;
    curl_easy_cleanup(c);

    if (sink.too_large || cc == CURLE_FILESIZE_EXCEEDED)
        return fail(res, BCL_FETCH_TOO_LARGE,
                    apr_psprintf(p, "the document is larger than %" APR_SIZE_T_FMT " bytes (BCLHTTPMaxSize)",
                                 o->max_size));
    if (cc == CURLE_ABORTED_BY_CALLBACK)
        return fail(res, BCL_FETCH_TRANSPORT, "abandoned: the process is stopping");
    if (cc == CURLE_TOO_MANY_REDIRECTS)
        return fail(res, BCL_FETCH_BAD_REDIRECT,
                    apr_psprintf(p, "more than %d redirects", BCL_FETCH_MAX_REDIRECTS));
    if (cc == CURLE_UNSUPPORTED_PROTOCOL)
        return fail(res, BCL_FETCH_BAD_REDIRECT,
                    apr_psprintf(p, "redirected to a URL that may not be fetched (%s); "
                                 "redirects are followed only to https:// (a fetch that starts on https:// "
                                 "stays on https://)",
                                 refused_redirect ? refused_redirect : res->final_url));
    if (cc != CURLE_OK)
        return fail(res, BCL_FETCH_TRANSPORT,
                    apr_psprintf(p, "%s%s%s", curl_easy_strerror(cc), errbuf[0] ? ": " : "", errbuf));
    if (res->final_url != url && strcmp(res->final_url, url) != 0) {
        int loopback;
        const char *why;
        if (bcl_keysource_check_url(p, res->final_url, &loopback, &why) != 0)
            return fail(res, BCL_FETCH_BAD_REDIRECT,
                        apr_psprintf(p, "redirected to %s: %s", res->final_url, why));
    }
    if (res->http_status != 200)
        return fail(res, BCL_FETCH_HTTP_STATUS,
                    apr_psprintf(p, "HTTP status %ld (expected 200)", res->http_status));
    if (sink.buf == NULL) {
        sink.buf = apr_palloc(p, 1);
        sink.len = 0;
    }
    sink.buf[sink.len] = '\0';
    res->status = BCL_FETCH_OK;
    res->body = sink.buf;
    res->len = sink.len;
    return BCL_FETCH_OK;
}
