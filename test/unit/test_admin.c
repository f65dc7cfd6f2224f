/* The admin endpoint's inputs (bcl_admin_req.c): the token file, bearer
 * credentials and the JSON request body. */
#include <string.h>
#include <check.h>
#include <apr_pools.h>
#include "bcl_admin_req.h"
#include "test_helpers.h"

static apr_pool_t *pool;

static void setup(void)
{
    apr_pool_create(&pool, NULL);
}

static void teardown(void)
{
    apr_pool_destroy(pool);
}

#define T1 "0123456789abcdefXYZ"
#define T2 "another-token-of-the-file"

START_TEST(test_token_file)
{
    const char *why = NULL;
    const char *file = "# who: on-call\n\n   \t\n  " T1 "  \r\n#" T2 "\n" T2 "\n";
    apr_array_header_t *t = bcl_admin_tokens_parse(pool, file, strlen(file), &why);

    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(t->nelts, 2);
    /* found by their line, compared whole */
    ck_assert_int_eq(bcl_admin_token_find(t, T1, strlen(T1)), 4);
    ck_assert_int_eq(bcl_admin_token_find(t, T2, strlen(T2)), 6);
    ck_assert_int_eq(bcl_admin_token_find(t, T1, strlen(T1) - 1), 0);
    ck_assert_int_eq(bcl_admin_token_find(t, T1 "x", strlen(T1) + 1), 0);
    ck_assert_int_eq(bcl_admin_token_find(t, "#" T2, strlen(T2) + 1), 0);   /* a comment is no token */
    ck_assert_int_eq(bcl_admin_token_find(NULL, T1, strlen(T1)), 0);
    ck_assert_int_eq(bcl_admin_token_find(t, "", 0), 0);
}
END_TEST

START_TEST(test_bad_token_files_name_the_line)
{
    const char *why = NULL;
    ck_assert_ptr_null(bcl_admin_tokens_parse(pool, "# nothing\n\n", 11, &why));
    ck_assert_ptr_nonnull(strstr(why, "no token"));
    ck_assert_ptr_null(bcl_admin_tokens_parse(pool, "", 0, &why));
    ck_assert_ptr_null(bcl_admin_tokens_parse(pool, T1 "\nshort\n", strlen(T1) + 7, &why));
    ck_assert_ptr_nonnull(strstr(why, "line 2"));
    ck_assert_ptr_null(bcl_admin_tokens_parse(pool, "\n\n" T1 " " T2 "\n", strlen(T1) + strlen(T2) + 4, &why));
    ck_assert_ptr_nonnull(strstr(why, "line 3"));
    ck_assert_ptr_null(bcl_admin_tokens_parse(pool, T1 "\x01\n", strlen(T1) + 2, &why));
    ck_assert_ptr_nonnull(strstr(why, "line 1"));
}
END_TEST

START_TEST(test_bearer)
{
    ck_assert_str_eq(bcl_admin_bearer(pool, "Bearer " T1), T1);
    ck_assert_str_eq(bcl_admin_bearer(pool, "bearer   " T1 "  "), T1);
    ck_assert_ptr_null(bcl_admin_bearer(pool, NULL));
    ck_assert_ptr_null(bcl_admin_bearer(pool, "Basic eDp5"));
    ck_assert_ptr_null(bcl_admin_bearer(pool, "Bearer"));
    ck_assert_ptr_null(bcl_admin_bearer(pool, "Bearer   "));
    ck_assert_ptr_null(bcl_admin_bearer(pool, "Bearer" T1));
}
END_TEST

static const char *parse_error(const char *body)
{
    bcl_admin_req_t q;
    const char *why = NULL;
    if (bcl_admin_request_parse(pool, body, strlen(body), &q, &why) == 0)
        return NULL;
    ck_assert(q.value == NULL && q.iss == NULL);
    return why;
}

START_TEST(test_request_bodies)
{
    bcl_admin_req_t q;
    const char *why = NULL;

    ck_assert_int_eq(bcl_admin_request_parse(pool, "{\"sub\": \"alice\"}", 16, &q, &why), 0);
    ck_assert(q.what == BCL_ADMIN_SUB && strcmp(q.value, "alice") == 0 && q.iss == NULL);
    ck_assert_int_eq(bcl_admin_request_parse(pool, "{\"iss\":\"https://op\",\"sid\":\"s1\"}", 31, &q, &why), 0);
    ck_assert(q.what == BCL_ADMIN_SID && strcmp(q.value, "s1") == 0 && strcmp(q.iss, "https://op") == 0);
    ck_assert_int_eq(bcl_admin_request_parse(pool, "{\"all\":true}", 12, &q, &why), 0);
    ck_assert(q.what == BCL_ADMIN_ALL && q.value == NULL);

    ck_assert_ptr_nonnull(strstr(parse_error("nope"), "not valid JSON"));
    ck_assert_ptr_nonnull(strstr(parse_error("{\"sub\":\"a\"} x"), "not valid JSON"));
    ck_assert_ptr_nonnull(strstr(parse_error("{\"sub\":\"a\",\"sub\":\"b\"}"), "not valid JSON"));
    ck_assert_ptr_nonnull(strstr(parse_error("[\"sub\"]"), "JSON object"));
    ck_assert_ptr_nonnull(strstr(parse_error("{}"), "names nothing"));
    ck_assert_ptr_nonnull(strstr(parse_error("{\"iss\":\"x\"}"), "names nothing"));
    ck_assert_ptr_nonnull(strstr(parse_error("{\"sub\":\"a\",\"all\":true}"), "exactly one"));
    ck_assert_ptr_nonnull(strstr(parse_error("{\"sub\":null}"), "must be a string"));
    ck_assert_ptr_nonnull(strstr(parse_error("{\"iss\":7,\"sub\":\"a\"}"), "\"iss\" must be a string"));
    ck_assert_ptr_nonnull(strstr(parse_error("{\"sid\":\"\"}"), "1 to"));
    ck_assert_ptr_nonnull(strstr(parse_error("{\"all\":1}"), "must be true"));
    ck_assert_ptr_nonnull(strstr(parse_error("{\"sub\":\"a\",\"Sub\":\"b\"}"), "unknown member \"Sub\""));
    ck_assert_ptr_nonnull(strstr(parse_error("{\"sub\":\"a\\u0000b\"}"), "not valid JSON"));

    char big[BCL_ADMIN_BODY_MAX + 2];
    memset(big, ' ', sizeof(big));
    big[sizeof(big) - 1] = '\0';
    ck_assert_ptr_nonnull(strstr(parse_error(big), "larger than"));
}
END_TEST

Suite *admin_suite(void)
{
    Suite *s = suite_create("admin");
    TCase *tc = tcase_create("admin");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_token_file);
    tcase_add_test(tc, test_bad_token_files_name_the_line);
    tcase_add_test(tc, test_bearer);
    tcase_add_test(tc, test_request_bodies);
    suite_add_tcase(s, tc);
    return s;
}
