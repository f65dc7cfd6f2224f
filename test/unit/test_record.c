/* Record keys: known answers (the keys are stored, so they must never
 * change with the implementation: a durable or shared store written by one
 * version is read by the next: journal files, memcache and redis records
 * written before an upgrade), and the same answers from many threads at
 * once; the guard's hasher (bcl_hasher.h: SHA-256 on a stack context when
 * the default provider serves it) gives the same keys, and none when
 * OpenSSL's configuration leaves no SHA-256 to fetch. */
#include <string.h>
#include <check.h>
#include <apr_pools.h>
#include <apr_thread_proc.h>

#include "bcl_record.h"
#include "bcl_hasher.h"
#include "bcl_record_digest.h"
#include "test_helpers.h"

/* first 16 bytes of SHA-256(label NUL a NUL b), computed with Python's hashlib */
static const unsigned char KA_COOKIE[BCL_KEY_LEN] = {
    0x3a, 0x3b, 0xdf, 0x83, 0x95, 0x38, 0x7e, 0x7a, 0xba, 0x8d, 0x05, 0xd5, 0xd7, 0x74, 0xc9, 0x0f };
static const unsigned char KA_SID[BCL_KEY_LEN] = {
    0xf4, 0x5e, 0x1c, 0xb3, 0xca, 0x24, 0xd8, 0x02, 0xf3, 0x7f, 0x15, 0x59, 0x7c, 0x38, 0x61, 0xf2 };
static const unsigned char KA_SUB[BCL_KEY_LEN] = {
    0x4e, 0x54, 0x4b, 0xa9, 0xaa, 0xf5, 0xbd, 0xd9, 0xfe, 0xfe, 0x9f, 0xf2, 0x2e, 0x78, 0x0e, 0x02 };
static const unsigned char KA_JTI[BCL_KEY_LEN] = {
    0xd4, 0xb1, 0x83, 0x65, 0x30, 0xc6, 0x9d, 0x77, 0xa0, 0x0d, 0xf3, 0xfd, 0xf3, 0x0e, 0xd6, 0x8d };

/* the sub-nosid record's stored key (bcl_hkey_stored) of KA_SUB's key */
static const unsigned char KA_SUB_NOSID[BCL_KEY_LEN] = {
    0x8f, 0xb7, 0x38, 0x76, 0xa3, 0xbd, 0x85, 0x71, 0xf9, 0xd2, 0x12, 0x9e, 0xdc, 0x20, 0x85, 0x6f };
/* a cookie value of 200 'x': more than one SHA-256 block */
static const unsigned char KA_LONG_COOKIE[BCL_KEY_LEN] = {
    0x98, 0x03, 0xdb, 0xd3, 0xf9, 0x53, 0x3c, 0x04, 0xce, 0xe9, 0x19, 0x62, 0x6f, 0x26, 0xee, 0x00 };

static const char COOKIE_VALUE[] = "live-0123456789abcdef";

START_TEST(test_keys_known_answers)
{
    bcl_hkey_t k;
    ck_assert_int_eq(bcl_hkey_cookie(&k, "APPSESSION", COOKIE_VALUE, strlen(COOKIE_VALUE)), 0);
    ck_assert_mem_eq(k.b, KA_COOKIE, BCL_KEY_LEN);
    ck_assert_int_eq(bcl_hkey_sid(&k, "https://op.example.com", "c1b7"), 0);
    ck_assert_mem_eq(k.b, KA_SID, BCL_KEY_LEN);
    ck_assert_int_eq(bcl_hkey_sub(&k, "https://op.example.com", "248289761001"), 0);
    ck_assert_mem_eq(k.b, KA_SUB, BCL_KEY_LEN);
    ck_assert_int_eq(bcl_hkey_jti(&k, "https://op.example.com", "28a3bcfd"), 0);
    ck_assert_mem_eq(k.b, KA_JTI, BCL_KEY_LEN);
}
END_TEST

START_TEST(test_stored_and_long_keys_known_answers)
{
    bcl_hkey_t sub, k;
    char longv[200];
    memset(longv, 'x', sizeof(longv));
    ck_assert_int_eq(bcl_hkey_sub(&sub, "https://op.example.com", "248289761001"), 0);
    ck_assert_int_eq(bcl_hkey_stored(&k, BCL_REC_REVOKED_SUB_NOSID, &sub), 0);
    ck_assert_mem_eq(k.b, KA_SUB_NOSID, BCL_KEY_LEN);
    ck_assert_int_eq(bcl_hkey_stored(&k, BCL_REC_REVOKED_SUB, &sub), 0);
    ck_assert_mem_eq(k.b, KA_SUB, BCL_KEY_LEN);
    ck_assert_int_eq(bcl_hkey_cookie(&k, "APPSESSION", longv, sizeof(longv)), 0);
    ck_assert_mem_eq(k.b, KA_LONG_COOKIE, BCL_KEY_LEN);
    /* the EVP path agrees */
    ck_assert_int_eq(bcl_hkey_digest(&k, EVP_sha256(), "cookie", "APPSESSION", 10, longv, sizeof(longv)), 0);
    ck_assert_mem_eq(k.b, KA_LONG_COOKIE, BCL_KEY_LEN);
}
END_TEST

START_TEST(test_cookie_key_uses_the_given_length)
{
    bcl_hkey_t a, b;
    /* a value inside a Cookie header is not NUL-terminated */
    const char header[] = "live-0123456789abcdef; other=1";
    ck_assert_int_eq(bcl_hkey_cookie(&a, "APPSESSION", header, strlen(COOKIE_VALUE)), 0);
    ck_assert_mem_eq(a.b, KA_COOKIE, BCL_KEY_LEN);
    ck_assert_int_eq(bcl_hkey_cookie(&b, "APPSESSION", header, strlen(header)), 0);
    ck_assert(memcmp(a.b, b.b, BCL_KEY_LEN) != 0);
}
END_TEST

/* The digest the keys use, called directly: the same known answer. */
START_TEST(test_digest_with_sha256_is_the_cookie_key)
{
    bcl_hkey_t k;
    ck_assert_int_eq(bcl_hkey_digest(&k, EVP_sha256(), "cookie", "APPSESSION", strlen("APPSESSION"),
                                     COOKIE_VALUE, strlen(COOKIE_VALUE)), 0);
    ck_assert_mem_eq(k.b, KA_COOKIE, BCL_KEY_LEN);
}
END_TEST

/* A digest that cannot be computed reports it and yields no key: never a
 * constant stand-in that unrelated values would share. */
START_TEST(test_digest_failure_yields_no_key)
{
    static const unsigned char zero[BCL_KEY_LEN] = { 0 };
    bcl_hkey_t a, b;

    /* no digest at all: EVP_DigestInit_ex cannot start */
    memset(a.b, 0xaa, BCL_KEY_LEN);
    ck_assert_int_eq(bcl_hkey_digest(&a, NULL, "cookie", "APP", 3, "v1", 2), -1);
    ck_assert_mem_eq(a.b, zero, BCL_KEY_LEN);
    ck_assert(bcl_hkey_is_zero(&a));

    /* a digest that runs but gives fewer bytes than a key (the null
     * digest: 0 bytes) */
    ck_assert_int_eq(EVP_MD_get_size(EVP_md_null()), 0);
    memset(b.b, 0x55, BCL_KEY_LEN);
    ck_assert_int_eq(bcl_hkey_digest(&b, EVP_md_null(), "cookie", "APP", 3, "v2", 2), -1);
    ck_assert(bcl_hkey_is_zero(&b));
}
END_TEST

#define HASH_THREADS 8
#define HASHES_PER_THREAD 2000

static void *APR_THREAD_FUNC hash_many(apr_thread_t *t, void *arg)
{
    int *wrong = arg;
    for (int i = 0; i < HASHES_PER_THREAD; i++) {
        bcl_hkey_t k;
        if (bcl_hkey_cookie(&k, "APPSESSION", COOKIE_VALUE, strlen(COOKIE_VALUE)) != 0
            || memcmp(k.b, KA_COOKIE, BCL_KEY_LEN) != 0)
            (*wrong)++;
    }
    apr_thread_exit(t, APR_SUCCESS);
    return NULL;
}

START_TEST(test_keys_agree_across_threads)
{
    apr_pool_t *p;
    apr_thread_t *threads[HASH_THREADS];
    int wrong[HASH_THREADS] = { 0 };

    ck_assert_int_eq(apr_pool_create(&p, NULL), APR_SUCCESS);
    for (int i = 0; i < HASH_THREADS; i++)
        ck_assert_int_eq(apr_thread_create(&threads[i], NULL, hash_many, &wrong[i], p), APR_SUCCESS);
    for (int i = 0; i < HASH_THREADS; i++) {
        apr_status_t rv;
        ck_assert_int_eq(apr_thread_join(&rv, threads[i]), APR_SUCCESS);
        ck_assert_int_eq(wrong[i], 0);
    }
    apr_pool_destroy(p);
}
END_TEST

START_TEST(test_hasher_gives_the_same_keys)
{
    apr_pool_t *p;
    bcl_hasher_t *h;
    bcl_hkey_t k;
    char longv[200];

    memset(longv, 'x', sizeof(longv));
    ck_assert_int_eq(apr_pool_create(&p, NULL), APR_SUCCESS);
    h = bcl_hasher_create(p, NULL);
    ck_assert(bcl_hasher_ok(h));
    ck_assert_str_eq(bcl_hasher_kind(h), "stack");
    ck_assert_int_eq(bcl_hasher_cookie(h, &k, "APPSESSION", COOKIE_VALUE, strlen(COOKIE_VALUE)), 0);
    ck_assert_mem_eq(k.b, KA_COOKIE, BCL_KEY_LEN);
    ck_assert_int_eq(bcl_hasher_cookie(h, &k, "APPSESSION", longv, sizeof(longv)), 0);
    ck_assert_mem_eq(k.b, KA_LONG_COOKIE, BCL_KEY_LEN);
    ck_assert_int_eq(bcl_hasher_sid(h, &k, "https://op.example.com", "c1b7"), 0);
    ck_assert_mem_eq(k.b, KA_SID, BCL_KEY_LEN);
    ck_assert_int_eq(bcl_hasher_sub(h, &k, "https://op.example.com", "248289761001"), 0);
    ck_assert_mem_eq(k.b, KA_SUB, BCL_KEY_LEN);
    {
        /* the issuer's cut-off key: the same as bcl_hkey_iss's */
        bcl_hkey_t slow;
        ck_assert_int_eq(bcl_hasher_iss(h, &k, "https://op.example.com"), 0);
        ck_assert_int_eq(bcl_hkey_iss(&slow, "https://op.example.com"), 0);
        ck_assert_mem_eq(k.b, slow.b, BCL_KEY_LEN);
        ck_assert(!bcl_hkey_is_zero(&k));
    }
    apr_pool_destroy(p);
}
END_TEST

/* "fips=yes" with no FIPS provider loaded: no SHA-256, no key (the guard
 * then answers 503), never a stand-in. */
START_TEST(test_hasher_without_sha256_gives_no_key)
{
    apr_pool_t *p;
    bcl_hasher_t *h;
    bcl_hkey_t k;

    ck_assert_int_eq(apr_pool_create(&p, NULL), APR_SUCCESS);
    h = bcl_hasher_create(p, "fips=yes");
    ck_assert(!bcl_hasher_ok(h));
    ck_assert_str_eq(bcl_hasher_kind(h), "none");
    memset(k.b, 0xaa, BCL_KEY_LEN);
    ck_assert_int_eq(bcl_hasher_cookie(h, &k, "APPSESSION", "v", 1), -1);
    ck_assert(bcl_hkey_is_zero(&k));
    ck_assert_int_eq(bcl_hasher_sid(h, &k, "https://op", "s"), -1);
    ck_assert(bcl_hkey_is_zero(&k));
    ck_assert_int_eq(bcl_hasher_iss(h, &k, "https://op"), -1);
    ck_assert(bcl_hkey_is_zero(&k));
    apr_pool_destroy(p);
}
END_TEST

Suite *record_suite(void)
{
    Suite *s = suite_create("record");
    TCase *tc = tcase_create("keys");
    tcase_add_test(tc, test_keys_known_answers);
    tcase_add_test(tc, test_stored_and_long_keys_known_answers);
    tcase_add_test(tc, test_hasher_gives_the_same_keys);
    tcase_add_test(tc, test_hasher_without_sha256_gives_no_key);
    tcase_add_test(tc, test_cookie_key_uses_the_given_length);
    tcase_add_test(tc, test_keys_agree_across_threads);
    tcase_add_test(tc, test_digest_with_sha256_is_the_cookie_key);
    tcase_add_test(tc, test_digest_failure_yields_no_key);
    suite_add_tcase(s, tc);
    return s;
}
