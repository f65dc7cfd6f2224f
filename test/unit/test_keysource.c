/* bcl_keysource: which key URLs may be fetched, how long fetched keys are
 * used, retry back-off, discovery documents; bcl_keyset_union_verify. */
#include <string.h>

#include "test_helpers.h"
#include "bcl_keysource.h"

static apr_pool_t *pool;

static void setup(void)
{
    ck_assert_int_eq(apr_pool_create(&pool, NULL), APR_SUCCESS);
}

static void teardown(void)
{
    apr_pool_destroy(pool);
    pool = NULL;
}

static void url_ok(const char *url, int want_loopback)
{
    const char *err = NULL;
    int loopback = -1;
    ck_assert_msg(bcl_keysource_check_url(pool, url, &loopback, &err) == 0, "%s refused: %s", url, err);
    ck_assert_int_eq(loopback, want_loopback);
}

static void url_refused(const char *url, const char *why_part)
{
    const char *err = NULL;
    int loopback;
    ck_assert_msg(bcl_keysource_check_url(pool, url, &loopback, &err) != 0, "%s accepted", url);
    ck_assert_ptr_nonnull(err);
    ck_assert_msg(strstr(err, why_part) != NULL, "%s: message \"%s\" lacks \"%s\"", url, err, why_part);
}

START_TEST(test_url_rules)
{
    url_ok("https://login.microsoftonline.com/tid/discovery/v2.0/keys", 0);
    url_ok("HTTPS://op.example.com:8443/realms/main/protocol/openid-connect/certs", 0);
    url_ok("http://127.0.0.1:3000/jwks", 1);
    url_ok("http://127.1.2.3/jwks", 1);
    url_ok("http://localhost:8080/.well-known/openid-configuration", 1);
    url_ok("http://[::1]:8080/jwks", 1);
    url_refused("http://op.example.com/jwks", "loopback");
    url_refused("http://127.0.0.1.evil.example/jwks", "loopback");
    url_refused("http://10.0.0.1/jwks", "loopback");
    url_refused("ftp://op.example.com/jwks", "scheme");
    url_refused("file:///etc/passwd", "host");
    url_refused("/relative/jwks", "absolute");
    url_refused("", "empty");
    url_refused("https://user:pw@op.example.com/jwks", "user");
    url_refused("https://op.example.com/jwks#frag", "fragment");
    url_refused("https://op.example.com/a b", "space");
}
END_TEST

START_TEST(test_cache_control)
{
    ck_assert_int_eq(bcl_keysource_max_age(NULL), -1);
    ck_assert_int_eq(bcl_keysource_max_age(""), -1);
    ck_assert_int_eq(bcl_keysource_max_age("public"), -1);
    ck_assert_int_eq(bcl_keysource_max_age("max-age=3600"), 3600);
    ck_assert_int_eq(bcl_keysource_max_age("public, max-age=86400, must-revalidate"), 86400);
    ck_assert_int_eq(bcl_keysource_max_age("Max-Age=\"120\""), 120);
    ck_assert_int_eq(bcl_keysource_max_age("s-maxage=50"), -1);
    ck_assert_int_eq(bcl_keysource_max_age("s-maxage=50, max-age=70"), 70);
    ck_assert_int_eq(bcl_keysource_max_age("no-cache"), 0);
    ck_assert_int_eq(bcl_keysource_max_age("max-age=600, no-store"), 0);
    ck_assert_int_eq(bcl_keysource_max_age("max-age=abc"), -1);
    ck_assert_int_eq(bcl_keysource_max_age("max-age=-5"), -1);
    ck_assert_int_eq(bcl_keysource_max_age("max-age="), -1);
    /* a huge value does not overflow */
    ck_assert_int_gt(bcl_keysource_max_age("max-age=99999999999999999999999"), 0);
}
END_TEST

START_TEST(test_refresh_delay)
{
    ck_assert_int_eq(bcl_keysource_refresh_delay(-1, 60, 3600), 3600);
    ck_assert_int_eq(bcl_keysource_refresh_delay(0, 60, 3600), 60);
    ck_assert_int_eq(bcl_keysource_refresh_delay(300, 60, 3600), 300);
    ck_assert_int_eq(bcl_keysource_refresh_delay(86400, 60, 3600), 3600);
    ck_assert_int_eq(bcl_keysource_refresh_delay(10, 60, 30), 30);   /* min above max: max wins */
}
END_TEST

START_TEST(test_retry_delay)
{
    ck_assert_int_eq(bcl_keysource_retry_delay(1, 3600), 5);
    ck_assert_int_eq(bcl_keysource_retry_delay(2, 3600), 10);
    ck_assert_int_eq(bcl_keysource_retry_delay(3, 3600), 20);
    ck_assert_int_eq(bcl_keysource_retry_delay(10, 3600), 300);
    ck_assert_int_eq(bcl_keysource_retry_delay(1000, 3600), 300);
    ck_assert_int_eq(bcl_keysource_retry_delay(4, 2), 2);
    ck_assert_int_eq(bcl_keysource_retry_delay(1, 0), 1);
}
END_TEST

static const char *meta_err(const char *json)
{
    const char *iss = NULL, *uri = NULL, *err = NULL;
    ck_assert_msg(bcl_keysource_parse_metadata(pool, json, strlen(json), &iss, &uri, &err) != 0,
                  "accepted: %s", json);
    ck_assert_ptr_nonnull(err);
    return err;
}

START_TEST(test_metadata)
{
    const char *doc = "{\"issuer\":\"https://op.example.com/realms/main\","
                      "\"jwks_uri\":\"https://op.example.com/realms/main/certs\",\"other\":[1,2]}";
    const char *iss = NULL, *uri = NULL, *err = NULL;

    ck_assert_int_eq(bcl_keysource_parse_metadata(pool, doc, strlen(doc), &iss, &uri, &err), 0);
    ck_assert_str_eq(iss, "https://op.example.com/realms/main");
    ck_assert_str_eq(uri, "https://op.example.com/realms/main/certs");

    ck_assert_ptr_nonnull(strstr(meta_err("not json"), "not JSON"));
    ck_assert_ptr_nonnull(strstr(meta_err("[1]"), "not a JSON object"));
    ck_assert_ptr_nonnull(strstr(meta_err("{\"jwks_uri\":\"https://a/b\"}"), "issuer"));
    ck_assert_ptr_nonnull(strstr(meta_err("{\"issuer\":\"\",\"jwks_uri\":\"https://a/b\"}"), "issuer"));
    ck_assert_ptr_nonnull(strstr(meta_err("{\"issuer\":\"https://a\"}"), "jwks_uri"));
    ck_assert_ptr_nonnull(strstr(meta_err("{\"issuer\":\"https://a\",\"jwks_uri\":5}"), "jwks_uri"));
    ck_assert_ptr_nonnull(strstr(meta_err("{\"issuer\":\"https://a\",\"jwks_uri\":\"http://op.example.com/k\"}"),
                                 "jwks_uri"));
    ck_assert_ptr_nonnull(strstr(meta_err("{\"issuer\":\"https://a\",\"issuer\":\"https://b\","
                                          "\"jwks_uri\":\"https://a/k\"}"), "not JSON"));
    ck_assert_ptr_nonnull(strstr(meta_err("{\"issuer\":\"https://a\\u0000b\",\"jwks_uri\":\"https://a/k\"}"), "NUL"));
}
END_TEST

START_TEST(test_union_verify)
{
    bcl_keyset_t *a = bcl_keyset_create(pool), *b = bcl_keyset_create(pool), *u;
    const char *err = NULL;
    const bcl_key_t *sel[4];
    char *ja = th_jwks(pool, th_rsa1, NULL);
    char *jb = th_jwks(pool, th_ec256, NULL);

    ck_assert_int_eq(bcl_keyset_add_jwks(a, ja, strlen(ja), NULL, &err), 0);
    ck_assert_int_eq(bcl_keyset_add_jwks(b, jb, strlen(jb), NULL, &err), 0);
    u = bcl_keyset_union_verify(pool, a, b);
    ck_assert_int_eq(bcl_keyset_count(u), 2);
    ck_assert_int_eq(bcl_keyset_has_kid(u, th_rsa1->kid), 1);
    ck_assert_int_eq(bcl_keyset_has_kid(u, th_ec256->kid), 1);
    ck_assert_int_eq(bcl_keyset_select(u, BCL_ALG_ES256, th_ec256->kid, sel, 4), 1);
    ck_assert_ptr_eq(bcl_keyset_verify_key(u, 0), bcl_keyset_verify_key(a, 0));
    ck_assert_ptr_null(bcl_keyset_verify_key(u, 2));
    ck_assert_int_eq(bcl_keyset_count(bcl_keyset_union_verify(pool, NULL, b)), 1);
    ck_assert_int_eq(bcl_keyset_count(bcl_keyset_union_verify(pool, NULL, NULL)), 0);
}
END_TEST

Suite *keysource_suite(void)
{
    Suite *s = suite_create("keysource");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_url_rules);
    tcase_add_test(tc, test_cache_control);
    tcase_add_test(tc, test_refresh_delay);
    tcase_add_test(tc, test_retry_delay);
    tcase_add_test(tc, test_metadata);
    tcase_add_test(tc, test_union_verify);
    suite_add_tcase(s, tc);
    return s;
}
