/* bcl_form: the POST body of a back-channel logout request. */
#include <string.h>

#include "test_helpers.h"
#include "bcl_form.h"

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

static bcl_form_status_t parse(const char *body, const char **tok, apr_size_t *tok_len)
{
    *tok = NULL;
    *tok_len = 0;
    return bcl_form_logout_token(pool, body, strlen(body), tok, tok_len);
}

static void assert_token(const char *body, const char *expect)
{
    const char *tok;
    apr_size_t n;
    bcl_form_status_t st = parse(body, &tok, &n);
    ck_assert_msg(st == BCL_FORM_OK, "body \"%s\": status %d", body, (int)st);
    ck_assert_ptr_nonnull(tok);
    ck_assert_uint_eq(n, strlen(expect));
    ck_assert_mem_eq(tok, expect, n);
    ck_assert_msg(tok[n] == '\0', "token not NUL-terminated");
}

static void assert_status(const char *body, bcl_form_status_t expect)
{
    const char *tok;
    apr_size_t n;
    bcl_form_status_t st = parse(body, &tok, &n);
    ck_assert_msg(st == expect, "body \"%s\": status %d, expected %d", body, (int)st, (int)expect);
}

/* ---- content type ---- */

START_TEST(test_ct_exact)
{
    ck_assert(bcl_form_content_type_ok("application/x-www-form-urlencoded"));
}
END_TEST

START_TEST(test_ct_case_insensitive)
{
    ck_assert(bcl_form_content_type_ok("APPLICATION/X-WWW-FORM-URLENCODED"));
    ck_assert(bcl_form_content_type_ok("Application/X-Www-Form-Urlencoded"));
}
END_TEST

START_TEST(test_ct_parameters)
{
    ck_assert(bcl_form_content_type_ok("application/x-www-form-urlencoded; charset=UTF-8"));
    ck_assert(bcl_form_content_type_ok("application/x-www-form-urlencoded;charset=utf-8"));
    ck_assert(bcl_form_content_type_ok("application/x-www-form-urlencoded ; charset=\"UTF-8\""));
    ck_assert(bcl_form_content_type_ok("application/x-www-form-urlencoded;"));
    ck_assert(bcl_form_content_type_ok("application/x-www-form-urlencoded\t;charset=ISO-8859-1"));
}
END_TEST

START_TEST(test_ct_whitespace)
{
    /* Optional whitespace around the media type (RFC 9110 OWS). */
    ck_assert(bcl_form_content_type_ok(" application/x-www-form-urlencoded"));
    ck_assert(bcl_form_content_type_ok("application/x-www-form-urlencoded "));
    ck_assert(bcl_form_content_type_ok("\tapplication/x-www-form-urlencoded\t"));
    /* Whitespace inside the type/subtype token is not allowed. */
    ck_assert(!bcl_form_content_type_ok("application / x-www-form-urlencoded"));
    ck_assert(!bcl_form_content_type_ok("application/ x-www-form-urlencoded"));
    ck_assert(!bcl_form_content_type_ok("application/x-www-form- urlencoded"));
}
END_TEST

START_TEST(test_ct_prefix_tricks)
{
    ck_assert(!bcl_form_content_type_ok("application/x-www-form-urlencodedX"));
    ck_assert(!bcl_form_content_type_ok("application/x-www-form-urlencoded-evil"));
    ck_assert(!bcl_form_content_type_ok("application/x-www-form-urlencoded2"));
    ck_assert(!bcl_form_content_type_ok("application/x-www-form-urlencoded/json"));
    ck_assert(!bcl_form_content_type_ok("application/x-www-form-urlencoded,text/plain"));
    ck_assert(!bcl_form_content_type_ok("application/x-www-form"));
    ck_assert(!bcl_form_content_type_ok("application/x-www-form-urlencode"));
    ck_assert(!bcl_form_content_type_ok("xapplication/x-www-form-urlencoded"));
    ck_assert(!bcl_form_content_type_ok("text/application/x-www-form-urlencoded"));
    ck_assert(!bcl_form_content_type_ok("application"));
    ck_assert(!bcl_form_content_type_ok("application/"));
}
END_TEST

START_TEST(test_ct_other_types)
{
    ck_assert(!bcl_form_content_type_ok(NULL));
    ck_assert(!bcl_form_content_type_ok(""));
    ck_assert(!bcl_form_content_type_ok(" "));
    ck_assert(!bcl_form_content_type_ok(";charset=utf-8"));
    ck_assert(!bcl_form_content_type_ok("application/json"));
    ck_assert(!bcl_form_content_type_ok("multipart/form-data; boundary=x"));
    ck_assert(!bcl_form_content_type_ok("text/plain"));
    ck_assert(!bcl_form_content_type_ok("application/jwt"));
    ck_assert(!bcl_form_content_type_ok("application/logout+jwt"));
}
END_TEST

/* ---- body ---- */

START_TEST(test_body_only_token)
{
    assert_token("logout_token=eyJhbGciOiJSUzI1NiJ9.eyJ9.c2ln", "eyJhbGciOiJSUzI1NiJ9.eyJ9.c2ln");
}
END_TEST

START_TEST(test_body_among_other_params)
{
    assert_token("foo=bar&logout_token=abc.def.ghi&baz=1", "abc.def.ghi");
    assert_token("logout_token=abc.def.ghi&state=x", "abc.def.ghi");
    assert_token("a=1&b=2&logout_token=abc.def.ghi", "abc.def.ghi");
    assert_token("a&logout_token=abc.def.ghi&b=", "abc.def.ghi");
    /* Unknown parameters may hold anything, even bad escapes. */
    assert_token("junk=%zz&logout_token=abc&more=%", "abc");
}
END_TEST

START_TEST(test_body_name_must_match_exactly)
{
    assert_status("xlogout_token=abc", BCL_FORM_MISSING);
    assert_status("logout_tokenx=abc", BCL_FORM_MISSING);
    assert_status("logout_token_hint=abc", BCL_FORM_MISSING);
    assert_status("LOGOUT_TOKEN=abc", BCL_FORM_MISSING);
    assert_status("id_token=abc&token=def", BCL_FORM_MISSING);
}
END_TEST

START_TEST(test_body_decoding)
{
    assert_token("logout_token=a+b", "a b");
    assert_token("logout_token=a%2Bb", "a+b");
    assert_token("logout_token=a%2fb%2Fc", "a/b/c");
    assert_token("logout_token=abc%3D%3d", "abc==");
    assert_token("logout_token=%41%42%43", "ABC");
    assert_token("logout_token=%7e", "~");
}
END_TEST

START_TEST(test_body_duplicate)
{
    assert_status("logout_token=a&logout_token=b", BCL_FORM_DUPLICATE);
    assert_status("logout_token=a&logout_token=a", BCL_FORM_DUPLICATE);
    assert_status("logout_token=a&x=1&logout_token=b", BCL_FORM_DUPLICATE);
    assert_status("logout_token=&logout_token=b", BCL_FORM_DUPLICATE);
}
END_TEST

START_TEST(test_body_missing)
{
    assert_status("", BCL_FORM_MISSING);
    assert_status("foo=bar", BCL_FORM_MISSING);
    assert_status("&&&", BCL_FORM_MISSING);
    assert_status("=abc", BCL_FORM_MISSING);
}
END_TEST

START_TEST(test_body_empty)
{
    assert_status("logout_token=", BCL_FORM_EMPTY);
    assert_status("logout_token=&foo=bar", BCL_FORM_EMPTY);
    assert_status("foo=bar&logout_token=", BCL_FORM_EMPTY);
}
END_TEST

START_TEST(test_body_bad_escapes)
{
    assert_status("logout_token=abc%", BCL_FORM_MALFORMED);
    assert_status("logout_token=abc%4", BCL_FORM_MALFORMED);
    assert_status("logout_token=%zz", BCL_FORM_MALFORMED);
    assert_status("logout_token=%G1abc", BCL_FORM_MALFORMED);
    assert_status("logout_token=ab%4&x=1", BCL_FORM_MALFORMED);
    assert_status("logout_token=ab%%41", BCL_FORM_MALFORMED);
}
END_TEST

START_TEST(test_body_nul_escape)
{
    /* A NUL byte inside the token would cut it short for C string users. */
    assert_status("logout_token=abc%00def", BCL_FORM_MALFORMED);
    assert_status("logout_token=%00", BCL_FORM_MALFORMED);
}
END_TEST

START_TEST(test_body_encoded_name)
{
    /* Names are percent-decoded like values (WHATWG URL, form-urlencoded). */
    assert_token("logout%5Ftoken=abc", "abc");
    assert_status("logout%5Ftoken=abc&logout_token=def", BCL_FORM_DUPLICATE);
}
END_TEST

START_TEST(test_body_name_without_value)
{
    assert_status("logout_token", BCL_FORM_EMPTY);
    assert_status("logout_token&logout_token=abc", BCL_FORM_DUPLICATE);
}
END_TEST

START_TEST(test_body_length_is_authoritative)
{
    /* The body need not be NUL-terminated and may be followed by anything. */
    static const char body[] = "logout_token=abc&logout_token=def";
    const char *tok = NULL;
    apr_size_t n = 0;
    ck_assert_int_eq(bcl_form_logout_token(pool, body, 16, &tok, &n), BCL_FORM_OK);
    ck_assert_uint_eq(n, 3);
    ck_assert_mem_eq(tok, "abc", 3);
    ck_assert_int_eq(bcl_form_logout_token(pool, body, 13, &tok, &n), BCL_FORM_EMPTY);
    ck_assert_int_eq(bcl_form_logout_token(pool, body, 0, &tok, &n), BCL_FORM_MISSING);
}
END_TEST

START_TEST(test_body_long_token)
{
    /* A token as big as a large RSA-signed JWE: no fixed-size buffers. */
    size_t n = 20000, i;
    char *body = apr_palloc(pool, n + 32), *expect = apr_palloc(pool, n + 1);
    const char *tok;
    apr_size_t tl;
    strcpy(body, "logout_token=");
    for (i = 0; i < n; i++) expect[i] = "abcdefghijklmnopqrstuvwxyz.-_"[i % 29];
    expect[n] = '\0';
    strcat(body, expect);
    ck_assert_int_eq(parse(body, &tok, &tl), BCL_FORM_OK);
    ck_assert_uint_eq(tl, n);
    ck_assert_mem_eq(tok, expect, n);
}
END_TEST

Suite *form_suite(void)
{
    Suite *s = suite_create("form");
    TCase *ct = tcase_create("content_type");
    TCase *body = tcase_create("body");

    tcase_add_test(ct, test_ct_exact);
    tcase_add_test(ct, test_ct_case_insensitive);
    tcase_add_test(ct, test_ct_parameters);
    tcase_add_test(ct, test_ct_whitespace);
    tcase_add_test(ct, test_ct_prefix_tricks);
    tcase_add_test(ct, test_ct_other_types);
    suite_add_tcase(s, ct);

    tcase_add_checked_fixture(body, setup, teardown);
    tcase_add_test(body, test_body_only_token);
    tcase_add_test(body, test_body_among_other_params);
    tcase_add_test(body, test_body_name_must_match_exactly);
    tcase_add_test(body, test_body_decoding);
    tcase_add_test(body, test_body_duplicate);
    tcase_add_test(body, test_body_missing);
    tcase_add_test(body, test_body_empty);
    tcase_add_test(body, test_body_bad_escapes);
    tcase_add_test(body, test_body_nul_escape);
    tcase_add_test(body, test_body_encoded_name);
    tcase_add_test(body, test_body_name_without_value);
    tcase_add_test(body, test_body_length_is_authoritative);
    tcase_add_test(body, test_body_long_token);
    suite_add_tcase(s, body);
    return s;
}
