/* The guard's cookie model (bcl_cookie_canon.c): which cookies are copies of
 * a configured name, the forms a value stands for, what is suspicious, and
 * that removal takes every copy. Each rule cites the backend it follows. */
#include <string.h>
#include <check.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include <apr_tables.h>

#include "bcl_cookie.h"
#include "bcl_cookie_canon.h"
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

static int copy(const char *name, const char *guarded)
{
    return bcl_cookie_name_is_copy(name, strlen(name), guarded);
}

static apr_array_header_t *names_of(const char *a, const char *b)
{
    apr_array_header_t *arr = apr_array_make(pool, 2, sizeof(const char *));
    APR_ARRAY_PUSH(arr, const char *) = a;
    if (b != NULL)
        APR_ARRAY_PUSH(arr, const char *) = b;
    return arr;
}

/* Does `v` have the form `want` (a C string)? */
static int has_form(const char *v, const char *want, apr_size_t wlen)
{
    const char *f[BCL_COOKIE_MAX_FORMS];
    apr_size_t l[BCL_COOKIE_MAX_FORMS];
    int n = bcl_cookie_value_forms(pool, v, strlen(v), f, l, BCL_COOKIE_MAX_FORMS);
    for (int i = 0; i < n; i++) {
        if (l[i] == wlen && memcmp(f[i], want, wlen) == 0)
            return 1;
    }
    return 0;
}

#define HAS(v, w) has_form((v), (w), sizeof(w) - 1)

static int nforms(const char *v)
{
    const char *f[BCL_COOKIE_MAX_FORMS];
    apr_size_t l[BCL_COOKIE_MAX_FORMS];
    return bcl_cookie_value_forms(pool, v, strlen(v), f, l, BCL_COOKIE_MAX_FORMS);
}

/* Do the forms of two spellings meet (the guard finds one binding)? */
static int meet(const char *a, const char *b)
{
    const char *f[BCL_COOKIE_MAX_FORMS];
    apr_size_t l[BCL_COOKIE_MAX_FORMS];
    int n = bcl_cookie_value_forms(pool, a, strlen(a), f, l, BCL_COOKIE_MAX_FORMS);
    for (int i = 0; i < n; i++) {
        if (has_form(b, f[i], l[i]))
            return 1;
    }
    return 0;
}

START_TEST(test_name_exact_and_unrelated)
{
    ck_assert(copy("APPSESSION", "APPSESSION"));
    ck_assert(!copy("APPSESSIONX", "APPSESSION"));
    ck_assert(!copy("XAPPSESSION", "APPSESSION"));
    ck_assert(!copy("APP", "APPSESSION"));
    ck_assert(!copy("", "APPSESSION"));
    ck_assert(!copy("other", "APPSESSION"));
    ck_assert(!copy("APP_SESSIONS", "APP_SESSION"));
}
END_TEST

START_TEST(test_name_whitespace)
{
    /* Python str.strip(), JavaScript trim(), Werkzeug after UTF-8 decoding */
    ck_assert(copy(" APPSESSION\t", "APPSESSION"));
    ck_assert(copy("\vAPPSESSION\f", "APPSESSION"));
    ck_assert(copy("\r\nAPPSESSION", "APPSESSION"));
    ck_assert(copy("\x85" "APPSESSION", "APPSESSION"));
    ck_assert(copy("APPSESSION\xa0", "APPSESSION"));
    ck_assert(copy("\x1c\x1d\x1e\x1f" "APPSESSION", "APPSESSION"));
    ck_assert(copy("\xc2\xa0" "APPSESSION\xc2\x85", "APPSESSION"));
    ck_assert(copy("\xe2\x80\x80" "APPSESSION\xe3\x80\x80", "APPSESSION"));
    ck_assert(copy("\xe2\x80\xa8\xe2\x80\xa9\xe2\x80\xaf\xe2\x81\x9f\xe1\x9a\x80" "APPSESSION", "APPSESSION"));
    ck_assert(copy("\xef\xbb\xbf" "APPSESSION", "APPSESSION"));
    /* whitespace inside is not trimmed (PHP mangles it, below) */
    ck_assert(!copy("APPSES SIONX", "APPSESSION"));
}
END_TEST

START_TEST(test_name_php_mangling)
{
    /* php_register_variable_ex: '.' and ' ' become '_' */
    ck_assert(copy("ci.session", "ci_session"));
    ck_assert(copy("ci session", "ci_session"));
    ck_assert(copy("ci_session", "ci.session"));
    /* an unclosed '[' becomes '_'; NAME[x] is the array NAME */
    ck_assert(copy("ci[session", "ci_session"));
    ck_assert(copy("APPSESSION[x]", "APPSESSION"));
    ck_assert(copy("APPSESSION[]", "APPSESSION"));
    ck_assert(!copy("APP[SESSION]", "APPSESSION"));
    /* only the first '[' is replaced; after it, '.' stays: PHP reads
     * "a[b.c" as a_b.c, which no browser cookie a_b_c or a.b.c becomes */
    ck_assert(!copy("a[b.c", "a_b_c"));
    ck_assert(!copy("a[b.c", "a.b.c"));
    ck_assert(copy("a[b.c", "a[b.c"));
}
END_TEST

START_TEST(test_name_percent_and_case)
{
    /* PHP before 8.0.24 and Rack before 2.1.4 decoded names */
    ck_assert(copy("APP%53ESSION", "APPSESSION"));
    ck_assert(copy("%41PPSESSION", "APPSESSION"));
    ck_assert(copy("%20APPSESSION", "APPSESSION"));
    ck_assert(copy("+APPSESSION", "APPSESSION"));
    ck_assert(copy("ci%2esession", "ci_session"));
    ck_assert(!copy("APP%2553ESSION", "APPSESSION"));   /* decoded once only */
    /* ASP.NET Core's request cookies ignore case (OrdinalIgnoreCase) */
    ck_assert(copy("appsession", "APPSESSION"));
    ck_assert(copy("AppSession", "APPSESSION"));
    ck_assert(copy("\xc5\xbf" "ession", "SESSION"));      /* U+017F upper-cases to S */
    ck_assert(copy("\xc4\xb1" "d", "ID"));                /* U+0131 upper-cases to I */
}
END_TEST

START_TEST(test_name_long_padding)
{
    /* padding longer than the normalised buffer is a suspicious copy */
    char *name = apr_palloc(pool, 3000);
    memset(name, ' ', 2000);
    memcpy(name + 2000, "%20%20APPSESSION", 17);
    for (int i = 0; i < 2000; i += 2)
        name[i] = '\xa0';
    ck_assert(copy(name, "APPSESSION"));
    /* old PHP decodes %20 and drops the leading spaces: 1200 bytes of them */
    char *enc = apr_palloc(pool, 1300);
    for (int i = 0; i < 400; i++)
        memcpy(enc + 3 * i, "%20", 3);
    memcpy(enc + 1200, "APPSESSION", 11);
    ck_assert(copy(enc, "APPSESSION"));
}
END_TEST

START_TEST(test_value_forms_plain)
{
    /* a plain token is its only form: one look-up per copy */
    ck_assert_int_eq(nforms("abc123-_.XYZ"), 1);
    ck_assert_int_eq(nforms("eyJhbGciOi.eyJzdWIi.c2ln"), 1);
    ck_assert(HAS("abc", "abc"));
    /* every printable byte but the ones some rule changes: still one form
     * (the short cut in bcl_cookie_value_forms) */
    for (int c = 0x21; c < 0x7f; c++) {
        char v[4] = { 'a', (char)c, 'b', 0 };
        if (c == '"' || c == '%' || c == '+' || c == '\\')
            continue;
        ck_assert_msg(nforms(v) == 1 && HAS(v, v), "value %s", v);
    }
    /* and the general rules still see what a short cut must not skip */
    ck_assert(HAS("ab\x1c", "ab"));
    ck_assert(HAS("a+b", "a b"));
}
END_TEST

START_TEST(test_value_forms_quotes)
{
    /* RFC 6265 quotes: Go, Tomcat, Node cookie, Werkzeug, Python */
    ck_assert(HAS("\"abc\"", "abc"));
    ck_assert(HAS("\"abc\"", "\"abc\""));   /* PHP and Rack keep them */
    /* Node cookie 0.x: a leading quote drops the first and last byte */
    ck_assert(HAS("\"abcX", "abc"));
    ck_assert(HAS("\"", ""));
    ck_assert(meet("\"abc\"", "abc"));
}
END_TEST

START_TEST(test_value_forms_escapes)
{
    /* Python http.cookies._unquote and Werkzeug: \c and \ooo inside quotes */
    ck_assert(HAS("\"a\\bc\"", "abc"));
    ck_assert(HAS("\"\\141bc\"", "abc"));
    ck_assert(HAS("\"a\\\"b\"", "a\"b"));
    ck_assert(HAS("\"a\\073b\"", "a;b"));
    ck_assert(HAS("\"\\000x\"", "\0x"));
    ck_assert(!HAS("a\\bc", "abc"));      /* unquoted: no backend unescapes */
    ck_assert(HAS("\"\\400\"", "400"));   /* first octal digit 0-3 only */
    ck_assert(meet("\"\\141\\142\\143\"", "abc"));
    /* RFC 2109/2965 quoted-pair: \123 is "123", not 'S' */
    ck_assert(HAS("\"\\123abc\"", "123abc"));
    ck_assert(HAS("\"\\123abc\"", "Sabc"));
    /* Tomcat's legacy processor: only \" */
    ck_assert(HAS("\"a\\\"b\\c\"", "a\"b\\c"));
}
END_TEST

START_TEST(test_value_forms_percent)
{
    /* express-session: connect.sid=s%3A... and s:... are one session */
    ck_assert(meet("s%3Aabc.sig", "s:abc.sig"));
    ck_assert(HAS("s%3Aabc.sig", "s%3Aabc.sig"));
    ck_assert(HAS("%61bc", "abc"));
    ck_assert(HAS("\"%61bc\"", "abc"));   /* Node, ASP.NET: unquote, then decode */
    /* PHP's rawurldecode keeps '+'; Rack and old PHP make it a space */
    ck_assert(HAS("a+b%2B", "a+b+"));
    ck_assert(HAS("a+b%2B", "a b+"));
    ck_assert(meet("a%2Bb", "a+b"));
    /* invalid sequences stay (PHP) and the raw value stays (Node on error) */
    ck_assert(HAS("%zz%41", "%zzA"));
    ck_assert(HAS("%zz%41", "%zz%41"));
    ck_assert(HAS("abc%", "abc%"));
    ck_assert(HAS("%00x", "\0x"));
    /* decoded once */
    ck_assert(HAS("%2561", "%61"));
    ck_assert(!HAS("%2561", "a"));
}
END_TEST

START_TEST(test_value_forms_whitespace)
{
    /* Werkzeug and Node 0.x trim more than space and tab */
    ck_assert(HAS("abc\xa0", "abc"));
    ck_assert(HAS("\xc2\xa0" "abc\x0b", "abc"));
    /* Python http.cookies ends an unquoted value at whitespace */
    ck_assert(HAS("abc def", "abc"));
    ck_assert(!HAS("\"abc def\"", "\"abc"));
}
END_TEST

START_TEST(test_value_forms_set_cookie_agrees)
{
    /* the Set-Cookie side keeps the value as the browser stores it, so the
     * request's copy and the binding have the same forms */
    const char *v;
    int expired;
    ck_assert(bcl_set_cookie_parse(pool, "connect.sid=s%3Aabc.sig; Path=/", "connect.sid", 1000, &v, &expired));
    ck_assert_str_eq(v, "s%3Aabc.sig");
    ck_assert(meet(v, "s:abc.sig"));
    ck_assert(bcl_set_cookie_parse(pool, "APP=\"abc\"; Path=/", "APP", 1000, &v, &expired));
    ck_assert_str_eq(v, "\"abc\"");
    ck_assert(!expired);
    ck_assert(meet(v, "abc"));
    ck_assert(bcl_set_cookie_parse(pool, "APP=\"\"; Path=/", "APP", 1000, &v, &expired));
    ck_assert(expired);
}
END_TEST

START_TEST(test_value_odd)
{
    /* one byte at a time against RFC 6265's cookie-octet ranges */
    for (int c = 0; c < 256; c++) {
        char v[2] = { (char)c, 0 };
        int octet = c == 0x21 || (c >= 0x23 && c <= 0x2b) || (c >= 0x2d && c <= 0x3a) || (c >= 0x3c && c <= 0x5b)
                    || (c >= 0x5d && c <= 0x7e);
        if (c == '%')
            continue;           /* a lone '%' is odd for another reason */
        ck_assert_msg((bcl_cookie_value_odd(v, 1) == 0) == octet, "byte 0x%02x", c);
    }
    ck_assert_int_eq(bcl_cookie_value_odd("abc", 3), 0);
    ck_assert_int_eq(bcl_cookie_value_odd("s%3Aabc.sig", 11), 0);        /* express */
    ck_assert_int_eq(bcl_cookie_value_odd("YWJj--ZGVm%3D%3D", 16), 0);   /* Rails */
    ck_assert_int_eq(bcl_cookie_value_odd("a+b/c==", 7), 0);             /* base64 */
    ck_assert_int_eq(bcl_cookie_value_odd("\"abc\"", 5), 0);             /* RFC 6265 quotes */
    ck_assert_int_eq(bcl_cookie_value_odd("%7E%2A", 6), 0);              /* PHP urlencode */
    ck_assert_int_eq(bcl_cookie_value_odd("\"a\\bc\"", 6), BCL_COOKIE_ODD_VALUE);
    ck_assert_int_eq(bcl_cookie_value_odd("\"abc", 4), BCL_COOKIE_ODD_VALUE);
    ck_assert_int_eq(bcl_cookie_value_odd("%61bc", 5), BCL_COOKIE_ODD_VALUE);   /* nobody encodes 'a' */
    ck_assert_int_eq(bcl_cookie_value_odd("s%3aabc", 7), BCL_COOKIE_ODD_VALUE); /* lower-case hex */
    ck_assert_int_eq(bcl_cookie_value_odd("abc%", 4), BCL_COOKIE_ODD_VALUE);
    ck_assert_int_eq(bcl_cookie_value_odd("ab%zz", 5), BCL_COOKIE_ODD_VALUE);
    ck_assert_int_eq(bcl_cookie_value_odd("abc\xa0", 4), BCL_COOKIE_ODD_VALUE);
    ck_assert_int_eq(bcl_cookie_value_odd("a b", 3), BCL_COOKIE_ODD_VALUE);
    ck_assert_int_eq(bcl_cookie_value_odd("a,b", 3), BCL_COOKIE_ODD_VALUE);
}
END_TEST

static int copies(const char *h, const char *a, const char *b, bcl_cookie_copy_t *out)
{
    return bcl_cookie_copies(h, names_of(a, b), out, 8);
}

START_TEST(test_copies_plain)
{
    bcl_cookie_copy_t c[8];
    ck_assert_int_eq(copies("a=1; APP=x; b=2; oidc=y", "APP", "oidc", c), 2);
    ck_assert_str_eq(c[0].name, "APP");
    ck_assert(c[0].vlen == 1 && c[0].value[0] == 'x');
    ck_assert_int_eq(c[0].odd, 0);
    ck_assert_str_eq(c[1].name, "oidc");
    ck_assert_int_eq(c[1].odd, 0);
    /* the same value twice is not suspicious; joined header lines count */
    ck_assert_int_eq(copies("APP=x, APP=x", "APP", NULL, c), 2);
    ck_assert_int_eq(c[0].odd | c[1].odd, 0);
    ck_assert_int_eq(copies("", "APP", NULL, c), 0);
    ck_assert_int_eq(copies("APP", "APP", NULL, c), 1);
    ck_assert_uint_eq(c[0].vlen, 0);
}
END_TEST

START_TEST(test_copies_odd)
{
    bcl_cookie_copy_t c[8];
    ck_assert_int_eq(copies("app=x", "APP", NULL, c), 1);
    ck_assert_int_eq(c[0].odd, BCL_COOKIE_ODD_NAME);
    ck_assert_int_eq(copies("\xa0" "APP=x", "APP", NULL, c), 1);
    ck_assert_int_eq(c[0].odd, BCL_COOKIE_ODD_NAME);
    ck_assert_int_eq(copies("APP=\"x\\y\"", "APP", NULL, c), 1);
    ck_assert_int_eq(c[0].odd, BCL_COOKIE_ODD_VALUE);
    ck_assert_int_eq(copies("APP=x; APP=y", "APP", NULL, c), 2);
    ck_assert(c[0].odd & BCL_COOKIE_ODD_MULTI);
    ck_assert(c[1].odd & BCL_COOKIE_ODD_MULTI);
    /* an empty copy is not a differing one */
    ck_assert_int_eq(copies("APP=; APP=y", "APP", NULL, c), 2);
    ck_assert_int_eq(c[0].odd | c[1].odd, 0);
}
END_TEST

START_TEST(test_copies_python_whitespace_split)
{
    bcl_cookie_copy_t c[8];
    /* Python http.cookies: "X=1 APP=2" is two cookies */
    ck_assert_int_eq(copies("X=1 APP=revoked", "APP", NULL, c), 1);
    ck_assert(c[0].vlen == 7 && memcmp(c[0].value, "revoked", 7) == 0);
    ck_assert(c[0].odd & BCL_COOKIE_ODD_SPLIT);
    ck_assert_int_eq(copies("X=1\tY=2  APP = v", "APP", NULL, c), 1);
    ck_assert_int_eq(copies("X=a b c", "APP", NULL, c), 0);
}
END_TEST

START_TEST(test_copies_value_over_comma)
{
    bcl_cookie_copy_t c[8];
    /* PHP (session.sid_bits_per_character 6), Werkzeug, Node and Python
     * split pairs at ';' only: "abc,def" is the value, not "abc" */
    ck_assert_int_eq(copies("a=1; APP=abc,def ; x=1", "APP", NULL, c), 1);
    ck_assert(c[0].vlen == 3 && memcmp(c[0].value, "abc", 3) == 0);
    ck_assert(c[0].vlen_semi == 7 && memcmp(c[0].value_semi, "abc,def", 7) == 0);
    ck_assert_int_eq(c[0].odd, 0);
    ck_assert_int_eq(copies("APP=abc,def", "APP", NULL, c), 1);
    ck_assert(c[0].vlen_semi == 7 && memcmp(c[0].value_semi, "abc,def", 7) == 0);
    /* no ',' in the value: no second reading */
    ck_assert_int_eq(copies("APP=abc; x=1,y", "APP", NULL, c), 1);
    ck_assert_ptr_null(c[0].value_semi);
    ck_assert_uint_eq(c[0].vlen_semi, 0);
    /* Python http.cookies: values hold ',', so "y APP=2,z" after a ',' is
     * the cookie APP="2,z" */
    ck_assert_int_eq(copies("X=1,y APP=2,z", "APP", NULL, c), 1);
    ck_assert(c[0].vlen == 1 && c[0].value[0] == '2');
    ck_assert(c[0].vlen_semi == 3 && memcmp(c[0].value_semi, "2,z", 3) == 0);
    ck_assert(c[0].odd & BCL_COOKIE_ODD_SPLIT);
    /* copies that differ only in what follows the ',' differ */
    ck_assert_int_eq(copies("APP=a,x; APP=a,y", "APP", NULL, c), 2);
    ck_assert(c[0].odd & c[1].odd & BCL_COOKIE_ODD_MULTI);
    ck_assert_int_eq(copies("APP=a,x; APP=a,x", "APP", NULL, c), 2);
    ck_assert_int_eq(c[0].odd | c[1].odd, 0);
    /* leading whitespace of a segment starts no second copy */
    ck_assert_int_eq(copies("\vAPP=x", "APP", NULL, c), 1);
}
END_TEST

START_TEST(test_copies_quoted_over_separators)
{
    bcl_cookie_copy_t c[8];
    /* Werkzeug and Python read "a;b" as one quoted value */
    ck_assert_int_eq(copies("APP=\"a;b\"; x=1", "APP", NULL, c), 2);
    ck_assert(c[0].vlen == 2 && memcmp(c[0].value, "\"a", 2) == 0);
    ck_assert(c[1].vlen == 5 && memcmp(c[1].value, "\"a;b\"", 5) == 0);
    ck_assert(c[1].odd & BCL_COOKIE_ODD_SPLIT);
    const char *f[BCL_COOKIE_MAX_FORMS];
    apr_size_t l[BCL_COOKIE_MAX_FORMS];
    int n = bcl_cookie_value_forms(pool, c[1].value, c[1].vlen, f, l, BCL_COOKIE_MAX_FORMS), found = 0;
    for (int i = 0; i < n; i++)
        found |= l[i] == 3 && memcmp(f[i], "a;b", 3) == 0;
    ck_assert(found);
}
END_TEST

START_TEST(test_copies_exact_name_first)
{
    bcl_cookie_copy_t c[8];
    /* both configured: each cookie is a copy of its own name, not odd */
    ck_assert_int_eq(copies("a_b=1; a.b=2", "a.b", "a_b", c), 2);
    ck_assert_str_eq(c[0].name, "a_b");
    ck_assert_str_eq(c[1].name, "a.b");
    ck_assert_int_eq(c[0].odd | c[1].odd, 0);
    /* only one configured: the other spelling is an odd copy of it */
    ck_assert_int_eq(copies("a_b=1; a.b=1", "a.b", NULL, c), 2);
    ck_assert_int_eq(c[0].odd, BCL_COOKIE_ODD_NAME);
    ck_assert_int_eq(c[1].odd, 0);
}
END_TEST

START_TEST(test_copies_max)
{
    bcl_cookie_copy_t c[2];
    ck_assert_int_eq(bcl_cookie_copies("APP=1; APP=1; APP=1; APP=1", names_of("APP", NULL), c, 2), 4);
}
END_TEST

START_TEST(test_remove_every_spelling)
{
    apr_array_header_t *names = names_of("APP", "oidc");
    ck_assert_str_eq(bcl_cookie_remove(pool, "a=1; APP=x; oidc=y; b=2", names), "a=1; b=2");
    ck_assert_ptr_null(bcl_cookie_remove(pool, "APP=x; oidc=z", names));
    ck_assert_str_eq(bcl_cookie_remove(pool, "theme=dark, APP=x", names), "theme=dark");
    ck_assert_str_eq(bcl_cookie_remove(pool, "a=1; app=x; %41PP=y; \xa0" "APP=z; APP[k]=w; b=2", names), "a=1; b=2");
    /* a pair holding a whitespace-split copy goes as a whole */
    ck_assert_str_eq(bcl_cookie_remove(pool, "X=1 APP=2; b=2", names), "b=2");
    /* what is left holds no copy by the same rules */
    const char *rest = bcl_cookie_remove(pool, "q=1; Oidc=2; \"APP\"=3; A.P.P=4; APP =5; r=\"s", names);
    bcl_cookie_copy_t c[8];
    ck_assert_int_eq(bcl_cookie_copies(rest, names, c, 8), 0);
    ck_assert_str_eq(rest, "q=1; \"APP\"=3; A.P.P=4; r=\"s");
}
END_TEST

START_TEST(test_name_is_token)
{
    ck_assert(bcl_cookie_name_is_token("APP", 3));
    ck_assert(bcl_cookie_name_is_token("ci.session", 10));
    ck_assert(!bcl_cookie_name_is_token("a b", 3));
    ck_assert(!bcl_cookie_name_is_token("a[b", 3));
    ck_assert(!bcl_cookie_name_is_token("\xa0" "a", 2));
    ck_assert(!bcl_cookie_name_is_token("", 0));
}
END_TEST

Suite *cookie_suite(void)
{
    Suite *s = suite_create("cookie");
    TCase *tc = tcase_create("canon");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_name_exact_and_unrelated);
    tcase_add_test(tc, test_name_whitespace);
    tcase_add_test(tc, test_name_php_mangling);
    tcase_add_test(tc, test_name_percent_and_case);
    tcase_add_test(tc, test_name_long_padding);
    tcase_add_test(tc, test_value_forms_plain);
    tcase_add_test(tc, test_value_forms_quotes);
    tcase_add_test(tc, test_value_forms_escapes);
    tcase_add_test(tc, test_value_forms_percent);
    tcase_add_test(tc, test_value_forms_whitespace);
    tcase_add_test(tc, test_value_forms_set_cookie_agrees);
    tcase_add_test(tc, test_value_odd);
    tcase_add_test(tc, test_copies_plain);
    tcase_add_test(tc, test_copies_odd);
    tcase_add_test(tc, test_copies_python_whitespace_split);
    tcase_add_test(tc, test_copies_value_over_comma);
    tcase_add_test(tc, test_copies_quoted_over_separators);
    tcase_add_test(tc, test_copies_exact_name_first);
    tcase_add_test(tc, test_copies_max);
    tcase_add_test(tc, test_remove_every_spelling);
    tcase_add_test(tc, test_name_is_token);
    suite_add_tcase(s, tc);
    return s;
}
