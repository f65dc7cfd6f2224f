/* bcl_b64url: strict base64url, one encoding per byte string. */
#include <string.h>
#include <stdlib.h>

#include "test_helpers.h"
#include "bcl_b64url.h"

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

static int dec(const char *s, unsigned char **out, apr_size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    return bcl_b64url_decode(pool, s, strlen(s), out, out_len);
}

static void assert_rejects(const char *s)
{
    unsigned char *out;
    apr_size_t n;
    ck_assert_msg(dec(s, &out, &n) != 0, "\"%s\" was accepted", s);
}

static void assert_decodes(const char *s, const char *expect, apr_size_t expect_len)
{
    unsigned char *out;
    apr_size_t n;
    ck_assert_msg(dec(s, &out, &n) == 0, "\"%s\" was rejected", s);
    ck_assert_uint_eq(n, expect_len);
    ck_assert_ptr_nonnull(out);
    ck_assert_msg(memcmp(out, expect, expect_len) == 0, "\"%s\" decoded wrongly", s);
    ck_assert_msg(out[n] == '\0', "decoded buffer is not NUL-terminated");
}

START_TEST(test_rfc4648_vectors)
{
    /* RFC 4648 section 10, without padding. */
    static const struct { const char *plain, *enc; } v[] = {
        {"", ""}, {"f", "Zg"}, {"fo", "Zm8"}, {"foo", "Zm9v"},
        {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"},
    };
    size_t i;
    for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        char *e = bcl_b64url_encode(pool, (const unsigned char *)v[i].plain, strlen(v[i].plain));
        ck_assert_ptr_nonnull(e);
        ck_assert_str_eq(e, v[i].enc);
        assert_decodes(v[i].enc, v[i].plain, strlen(v[i].plain));
    }
}
END_TEST

START_TEST(test_url_alphabet)
{
    static const unsigned char bytes[] = {0xfb, 0xff, 0xbf};
    char *e = bcl_b64url_encode(pool, bytes, sizeof(bytes));
    ck_assert_str_eq(e, "-_-_");
    assert_decodes("-_-_", (const char *)bytes, sizeof(bytes));
    /* The standard alphabet's + and / are not base64url. */
    assert_rejects("+/+/");
    assert_rejects("-_+_");
    assert_rejects("-_/_");
}
END_TEST

START_TEST(test_round_trip_all_lengths)
{
    unsigned char buf[300];
    size_t len, i;
    srand(12345);
    for (len = 0; len <= sizeof(buf); len++) {
        char *e;
        unsigned char *out;
        apr_size_t n;
        for (i = 0; i < len; i++) buf[i] = (unsigned char)(rand() & 0xff);
        e = bcl_b64url_encode(pool, buf, len);
        ck_assert_ptr_nonnull(e);
        ck_assert_uint_eq(strlen(e), (len * 4 + 2) / 3);
        ck_assert_ptr_null(strchr(e, '='));
        /* Same as the helpers' independent encoder. */
        ck_assert_str_eq(e, th_b64url(pool, buf, len));
        ck_assert_int_eq(bcl_b64url_decode(pool, e, strlen(e), &out, &n), 0);
        ck_assert_uint_eq(n, len);
        ck_assert(len == 0 || memcmp(out, buf, len) == 0);
    }
}
END_TEST

START_TEST(test_all_byte_values)
{
    unsigned char buf[256];
    int i;
    char *e;
    for (i = 0; i < 256; i++) buf[i] = (unsigned char)i;
    e = bcl_b64url_encode(pool, buf, sizeof(buf));
    assert_decodes(e, (const char *)buf, sizeof(buf));
}
END_TEST

START_TEST(test_rejects_padding)
{
    assert_rejects("Zg==");
    assert_rejects("Zg=");
    assert_rejects("Zm8=");
    assert_rejects("Zm9v====");
    assert_rejects("=");
    assert_rejects("====");
    assert_rejects("Z=g");
}
END_TEST

START_TEST(test_rejects_invalid_chars)
{
    static const char *bad[] = {
        "Zm9v YmFy", "Zm9v\nYmFy", "Zm9v\rYmFy", "Zm9v\tYmFy", " Zm9v", "Zm9v ",
        "Zm9v.YmFy", "Zm9v!", "Zm9v*", "Zm9v~", "Zm9v\"", "Zm9\x80v", "Zm9\xffv",
        "Zm9v%3D", "Zm,9",
    };
    size_t i;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) assert_rejects(bad[i]);
}
END_TEST

START_TEST(test_rejects_embedded_nul)
{
    /* The length is authoritative: a NUL inside the span is not alphabet. */
    static const char s[] = "Zm9v\0mFy";
    unsigned char *out;
    apr_size_t n;
    ck_assert_int_ne(bcl_b64url_decode(pool, s, sizeof(s) - 1, &out, &n), 0);
}
END_TEST

START_TEST(test_length_not_nul_terminated)
{
    /* Decoding stops at len, whatever follows. */
    static const char s[] = "Zm9vYmFy!!!garbage";
    unsigned char *out;
    apr_size_t n;
    ck_assert_int_eq(bcl_b64url_decode(pool, s, 8, &out, &n), 0);
    ck_assert_uint_eq(n, 6);
    ck_assert_mem_eq(out, "foobar", 6);
    ck_assert_int_eq(bcl_b64url_decode(pool, s, 4, &out, &n), 0);
    ck_assert_uint_eq(n, 3);
    ck_assert_mem_eq(out, "foo", 3);
}
END_TEST

START_TEST(test_rejects_len_mod4_1)
{
    assert_rejects("Z");
    assert_rejects("Zm9vY");
    assert_rejects("Zm9vYmFyZ");
    assert_rejects("AAAAA");
}
END_TEST

START_TEST(test_rejects_nonzero_trailing_bits)
{
    /* "Zg" is "f"; "Zh".."Zv" carry the same byte with non-zero spare bits. */
    assert_decodes("Zg", "f", 1);
    assert_rejects("Zh");
    assert_rejects("Zi");
    assert_rejects("Zv");
    assert_rejects("Z_");
    /* Three characters: two spare bits. "Zm8" is "fo". */
    assert_decodes("Zm8", "fo", 2);
    assert_rejects("Zm9");
    assert_rejects("Zm-");
    /* "QQ" is "A", "QR" is not canonical. */
    assert_decodes("QQ", "A", 1);
    assert_rejects("QR");
    assert_decodes("QUI", "AB", 2);
    assert_rejects("QUJ");
}
END_TEST

START_TEST(test_empty)
{
    unsigned char *out = NULL;
    apr_size_t n = 99;
    ck_assert_int_eq(bcl_b64url_decode(pool, "", 0, &out, &n), 0);
    ck_assert_uint_eq(n, 0);
    ck_assert_ptr_nonnull(out);
    ck_assert_int_eq(out[0], 0);
    ck_assert_str_eq(bcl_b64url_encode(pool, (const unsigned char *)"", 0), "");
}
END_TEST

Suite *b64url_suite(void)
{
    Suite *s = suite_create("b64url");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_rfc4648_vectors);
    tcase_add_test(tc, test_url_alphabet);
    tcase_add_test(tc, test_round_trip_all_lengths);
    tcase_add_test(tc, test_all_byte_values);
    tcase_add_test(tc, test_rejects_padding);
    tcase_add_test(tc, test_rejects_invalid_chars);
    tcase_add_test(tc, test_rejects_embedded_nul);
    tcase_add_test(tc, test_length_not_nul_terminated);
    tcase_add_test(tc, test_rejects_len_mod4_1);
    tcase_add_test(tc, test_rejects_nonzero_trailing_bits);
    tcase_add_test(tc, test_empty);
    suite_add_tcase(s, tc);
    return s;
}
