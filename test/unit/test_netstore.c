/* The network stores' pure parts: key names, record encoding, expiry times,
 * the redis and memcached
 * protocol parsers, the server list and the log throttle. */
#include <stdlib.h>
#include <string.h>
#include <check.h>
#include <apr_pools.h>
#include "bcl_mcproto.h"
#include "bcl_netrec.h"
#include "bcl_resp.h"
#include "bcl_store_net.h"
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

/* -- records ---------------------------------------------------------------- */

START_TEST(test_key_names)
{
    char out[BCL_NET_KEY_MAX];
    bcl_hkey_t k;
    size_t n;

    memset(&k, 0, sizeof(k));
    k.b[0] = 0xab;
    k.b[15] = 0x01;
    n = bcl_netrec_key(out, "bcl:", BCL_REC_REVOKED_SID, &k);
    ck_assert_uint_eq(n, strlen(out));
    ck_assert_str_eq(out, "bcl:s:ab000000000000000000000000000001");
    ck_assert_uint_gt(bcl_netrec_key(out, "x", BCL_REC_REVOKED_SUB, &k), 0);
    ck_assert_int_eq(out[1], 'u');
    ck_assert_uint_gt(bcl_netrec_key(out, "x", BCL_REC_BINDING, &k), 0);
    ck_assert_int_eq(out[1], 'c');
    ck_assert_uint_gt(bcl_netrec_key(out, "x", BCL_REC_JTI, &k), 0);
    ck_assert_int_eq(out[1], 'j');
    ck_assert_uint_eq(bcl_netrec_key(out, "x", BCL_REC_EMPTY, &k), 0);
    ck_assert_uint_eq(bcl_netrec_key(out, "bad prefix", BCL_REC_JTI, &k), 0);

    /* the longest prefix still makes a key memcached takes */
    char prefix[BCL_NET_PREFIX_MAX + 2];
    memset(prefix, 'p', BCL_NET_PREFIX_MAX);
    prefix[BCL_NET_PREFIX_MAX] = '\0';
    n = bcl_netrec_key(out, prefix, BCL_REC_BINDING, &k);
    ck_assert_uint_eq(n, BCL_NET_PREFIX_MAX + 2 + 32);
    ck_assert(bcl_mc_key_ok(out, n));
    prefix[BCL_NET_PREFIX_MAX] = 'p';
    prefix[BCL_NET_PREFIX_MAX + 1] = '\0';
    ck_assert(!bcl_netrec_prefix_ok(prefix));
}
END_TEST

START_TEST(test_prefixes)
{
    ck_assert(bcl_netrec_prefix_ok("bcl:"));
    ck_assert(bcl_netrec_prefix_ok("fleet-a.app_1:"));
    ck_assert(!bcl_netrec_prefix_ok(""));
    ck_assert(!bcl_netrec_prefix_ok(NULL));
    ck_assert(!bcl_netrec_prefix_ok("a b"));
    ck_assert(!bcl_netrec_prefix_ok("a\r\n"));
    ck_assert(!bcl_netrec_prefix_ok("a/b"));
    ck_assert(!bcl_netrec_prefix_ok("caf\xc3\xa9"));
}
END_TEST

static bcl_record_t binding(const char *sid, const char *sub, int64_t expires, int64_t ts, int64_t top)
{
    bcl_record_t r;
    memset(&r, 0, sizeof(r));
    r.kind = BCL_REC_BINDING;
    r.expires = expires;
    r.t_server = ts;
    r.t_op = top;
    if (sid)
        ck_assert_int_eq(bcl_hkey_sid(&r.sid_key, "https://op", sid), 0);
    if (sub)
        ck_assert_int_eq(bcl_hkey_sub(&r.sub_key, "https://op", sub), 0);
    return r;
}

START_TEST(test_encode_decode)
{
    char buf[BCL_NET_VALUE_MAX];
    bcl_record_t r = binding("s1", "u1", 1700086400, 1700000000123456LL, 1699999999), back;
    size_t n = bcl_netrec_encode(buf, &r);

    ck_assert_uint_gt(n, 0);
    ck_assert_uint_lt(n, BCL_NET_VALUE_MAX);
    ck_assert_int_eq(bcl_netrec_decode(buf, n, &back), 0);
    ck_assert_int_eq(back.kind, BCL_REC_BINDING);
    ck_assert(back.expires == r.expires && back.t_server == r.t_server && back.t_op == r.t_op);
    ck_assert(memcmp(&back.sid_key, &r.sid_key, BCL_KEY_LEN) == 0);
    ck_assert(memcmp(&back.sub_key, &r.sub_key, BCL_KEY_LEN) == 0);

    /* absent keys are '-'; negative times survive */
    r = binding(NULL, "u1", 10, -5, 0);
    n = bcl_netrec_encode(buf, &r);
    ck_assert(memchr(buf, '-', n) != NULL);
    ck_assert_int_eq(bcl_netrec_decode(buf, n, &back), 0);
    ck_assert(bcl_hkey_is_zero(&back.sid_key));
    ck_assert(back.t_server == -5);

    /* every kind */
    for (int kind = BCL_REC_REVOKED_SID; kind < BCL_REC_KINDS; kind++) {
        r.kind = (uint8_t)kind;
        n = bcl_netrec_encode(buf, &r);
        ck_assert_uint_gt(n, 0);
        ck_assert_int_eq(bcl_netrec_decode(buf, n, &back), 0);
        ck_assert_int_eq(back.kind, kind);
    }
    r.kind = BCL_REC_EMPTY;
    ck_assert_uint_eq(bcl_netrec_encode(buf, &r), 0);
}
END_TEST

START_TEST(test_decode_refuses_foreign_values)
{
    static const char *const bad[] = {
        "", "1", "1 ", "2 s 1 2 3 - -", "1 x 1 2 3 - -", "1 s 1 2 3 -", "1 s 1 2 3 - - ",
        "1 s a 2 3 - -", "1 s 1 2 3 00 -", "1 s 1 2 3 - - extra", "1 s  1 2 3 - -",
        "1 s 1 2 3 ABCDEF0123456789abcdef0123456789 -", "1 s 1234567890123456789 2 3 - -",
        "hello world", "\x00\x01\x02",
    };
    bcl_record_t r;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(bcl_netrec_decode(bad[i], strlen(bad[i]), &r) == -1, "accepted \"%s\"", bad[i]);
    /* a NUL inside a value is data, not an end */
    ck_assert_int_eq(bcl_netrec_decode("1 s 1 2 3 - -\0", 14, &r), -1);
    ck_assert_int_eq(bcl_netrec_decode("1 s 1 2 3 - -", 13, &r), 0);
}
END_TEST

START_TEST(test_expiry_times)
{
    const int64_t now = 1700000000;
    ck_assert(bcl_net_ttl(now + 100, now) == 100);
    ck_assert(bcl_net_ttl(now, now) == 1);
    ck_assert(bcl_net_ttl(now - 100, now) == 1);
    /* memcached: relative up to 30 days, absolute beyond, never 0 */
    ck_assert_uint_eq(bcl_memcache_exptime(now + 86400, now), 86400);
    ck_assert_uint_eq(bcl_memcache_exptime(now + BCL_MEMCACHE_RELATIVE_MAX, now), BCL_MEMCACHE_RELATIVE_MAX);
    ck_assert_uint_eq(bcl_memcache_exptime(now + BCL_MEMCACHE_RELATIVE_MAX + 1, now),
                      (uint32_t)(now + BCL_MEMCACHE_RELATIVE_MAX + 1));
    ck_assert_uint_eq(bcl_memcache_exptime(now + 366 * 86400LL, now), (uint32_t)(now + 366 * 86400LL));
    ck_assert_uint_eq(bcl_memcache_exptime(now - 5, now), 1);
    ck_assert_uint_eq(bcl_memcache_exptime(0, 0), 1);
}
END_TEST

/* -- RESP ------------------------------------------------------------------- */

START_TEST(test_resp_command)
{
    char out[128];
    const char *argv[] = { "SET", "k", "a\0b\r\n" };
    size_t lens[] = { 3, 1, 5 };
    size_t n = bcl_resp_command(out, sizeof(out), 3, argv, lens);
    static const char want[] = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\na\0b\r\n\r\n";
    ck_assert_uint_eq(n, sizeof(want) - 1);
    ck_assert(memcmp(out, want, n) == 0);
    ck_assert_uint_eq(bcl_resp_command(out, 20, 3, argv, lens), 0);
}
END_TEST

START_TEST(test_resp_parse)
{
    bcl_resp_reply_t r;
    size_t used;
    static const char arr[] = "*3\r\n$3\r\nabc\r\n$-1\r\n$0\r\n\r\n+OK\r\n";

    ck_assert_int_eq(bcl_resp_parse("+OK\r\n", 5, &r, &used), BCL_RESP_OK);
    ck_assert(r.top.type == BCL_RESP_SIMPLE && r.top.len == 2 && used == 5);
    ck_assert_int_eq(bcl_resp_parse("-NOSCRIPT No matching\r\n", 23, &r, &used), BCL_RESP_OK);
    ck_assert(r.top.type == BCL_RESP_ERROR && memcmp(r.top.str, "NOSCRIPT", 8) == 0);
    ck_assert_int_eq(bcl_resp_parse(":-42\r\n", 6, &r, &used), BCL_RESP_OK);
    ck_assert(r.top.type == BCL_RESP_INTEGER && r.top.integer == -42);
    ck_assert_int_eq(bcl_resp_parse("$-1\r\n", 5, &r, &used), BCL_RESP_OK);
    ck_assert(r.top.type == BCL_RESP_NIL);
    ck_assert_int_eq(bcl_resp_parse("$4\r\na\r\nb\r\n", 10, &r, &used), BCL_RESP_OK);
    ck_assert(r.top.type == BCL_RESP_BULK && r.top.len == 4 && memcmp(r.top.str, "a\r\nb", 4) == 0);

    /* an array, followed by a pipelined reply */
    ck_assert_int_eq(bcl_resp_parse(arr, sizeof(arr) - 1, &r, &used), BCL_RESP_OK);
    ck_assert(r.top.type == BCL_RESP_ARRAY && r.n == 3);
    ck_assert(r.elems[0].type == BCL_RESP_BULK && r.elems[0].len == 3);
    ck_assert(r.elems[1].type == BCL_RESP_NIL);
    ck_assert(r.elems[2].type == BCL_RESP_BULK && r.elems[2].len == 0);
    ck_assert_uint_eq(used, sizeof(arr) - 1 - 5);

    /* every prefix of a reply is incomplete, never wrong */
    for (size_t i = 0; i < sizeof(arr) - 1 - 5; i++)
        ck_assert_int_eq(bcl_resp_parse(arr, i, &r, &used), BCL_RESP_INCOMPLETE);
}
END_TEST

START_TEST(test_resp_parse_refuses)
{
    static const char *const bad[] = {
        "?x\r\n", "$abc\r\n", "$-2\r\n", "$3\r\nabcd\r\n", ":12a\r\n", "*-2\r\n", "*9\r\n",
        "*1\r\n*1\r\n:1\r\n", "$99999999\r\n", ":\r\n", "*\r\n",
    };
    bcl_resp_reply_t r;
    size_t used;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(bcl_resp_parse(bad[i], strlen(bad[i]), &r, &used) == BCL_RESP_BAD, "accepted %s", bad[i]);
}
END_TEST

/* -- memcached -------------------------------------------------------------- */

START_TEST(test_mc_commands)
{
    char out[512];
    const char *keys[] = { "bcl:c:00", "bcl:s:11" };
    size_t n = bcl_mc_get_command(out, sizeof(out), "get", 2, keys);
    ck_assert_uint_eq(n, strlen("get bcl:c:00 bcl:s:11\r\n"));
    ck_assert(memcmp(out, "get bcl:c:00 bcl:s:11\r\n", n) == 0);
    n = bcl_mc_get_command(out, sizeof(out), "gets", 1, keys);
    ck_assert_uint_eq(n, strlen("gets bcl:c:00\r\n"));
    ck_assert(memcmp(out, "gets bcl:c:00\r\n", n) == 0);
    ck_assert_uint_eq(bcl_mc_get_command(out, sizeof(out), "delete", 1, keys), 0);
    ck_assert_uint_eq(bcl_mc_get_command(out, 8, "gets", 1, keys), 0);

    n = bcl_mc_store_command(out, sizeof(out), "add", "k", 3000000000u, "v\r\n", 3);
    ck_assert(memcmp(out, "add k 0 3000000000 3\r\nv\r\n\r\n", n) == 0);
    /* never "0: no expiry", never a bad key */
    ck_assert_uint_eq(bcl_mc_store_command(out, sizeof(out), "set", "k", 0, "v", 1), 0);
    ck_assert_uint_eq(bcl_mc_store_command(out, sizeof(out), "set", "a b", 5, "v", 1), 0);
    ck_assert_uint_eq(bcl_mc_store_command(out, sizeof(out), "cas", "k", 5, "v", 1), 0);
    n = bcl_mc_cas_command(out, sizeof(out), "k", 7, "vv", 2, UINT64_MAX);
    ck_assert_uint_eq(n, strlen("cas k 0 7 2 18446744073709551615\r\nvv\r\n"));
    ck_assert(memcmp(out, "cas k 0 7 2 18446744073709551615\r\nvv\r\n", n) == 0);
    ck_assert_uint_eq(bcl_mc_cas_command(out, sizeof(out), "k", 0, "v", 1, 1), 0);
    ck_assert_uint_eq(bcl_mc_cas_command(out, 20, "k", 7, "vv", 2, UINT64_MAX), 0);
    const char *bad[] = { "a\nb" };
    ck_assert_uint_eq(bcl_mc_get_command(out, sizeof(out), "get", 1, bad), 0);
    n = bcl_mc_delete_command(out, sizeof(out), "k");
    ck_assert(memcmp(out, "delete k\r\n", n) == 0);

    char big[BCL_MC_KEY_MAX + 2];
    memset(big, 'k', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    ck_assert(!bcl_mc_key_ok(big, strlen(big)));
    ck_assert(bcl_mc_key_ok(big, BCL_MC_KEY_MAX));
}
END_TEST

START_TEST(test_mc_parse_values)
{
    static const char ans[] = "VALUE a 0 3\r\nx\r\n\r\nVALUE bb 0 0 77\r\n\r\nEND\r\nSTORED\r\n";
    bcl_mc_value_t v[4];
    size_t n, used;

    ck_assert_int_eq(bcl_mc_parse_values(ans, sizeof(ans) - 1, v, 4, &n, &used), BCL_MC_OK);
    ck_assert_uint_eq(n, 2);
    ck_assert(v[0].key_len == 1 && v[0].len == 3 && memcmp(v[0].data, "x\r\n", 3) == 0);
    ck_assert(v[1].key_len == 2 && v[1].len == 0);
    ck_assert(!v[0].has_cas && v[1].has_cas && v[1].cas == 77);
    ck_assert_uint_eq(used, sizeof(ans) - 1 - 8);
    for (size_t i = 0; i < used; i++)
        ck_assert_int_eq(bcl_mc_parse_values(ans, i, v, 4, &n, &used), BCL_MC_INCOMPLETE);
    ck_assert_int_eq(bcl_mc_parse_values("END\r\n", 5, v, 4, &n, &used), BCL_MC_OK);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(bcl_mc_parse_values("SERVER_ERROR busy\r\n", 19, v, 4, &n, &used), BCL_MC_SERVER_ERROR);
    ck_assert_int_eq(bcl_mc_parse_values("VALUE a 0 1\r\nxy\r\nEND\r\n", 22, v, 4, &n, &used), BCL_MC_BAD);
    ck_assert_int_eq(bcl_mc_parse_values("VALUE a x 1\r\nx\r\nEND\r\n", 21, v, 4, &n, &used), BCL_MC_BAD);
    ck_assert_int_eq(bcl_mc_parse_values("STORED\r\n", 8, v, 4, &n, &used), BCL_MC_BAD);
    ck_assert_int_eq(bcl_mc_parse_values("VALUE a 0 1\r\nx\r\nEND\r\n", 21, v, 0, &n, &used), BCL_MC_BAD);
    /* the version of a gets answer: 64 bits, nothing after it */
    static const char top[] = "VALUE a 0 1 18446744073709551615\r\nx\r\nEND\r\n";
    ck_assert_int_eq(bcl_mc_parse_values(top, sizeof(top) - 1, v, 4, &n, &used), BCL_MC_OK);
    ck_assert(n == 1 && v[0].has_cas && v[0].cas == UINT64_MAX);
    static const char *const bad_versions[] = {
        "VALUE a 0 1 18446744073709551616\r\nx\r\nEND\r\n",   /* 2^64 */
        "VALUE a 0 1 000000000000000000001\r\nx\r\nEND\r\n",   /* 21 digits */
        "VALUE a 0 1 \r\nx\r\nEND\r\n",
        "VALUE a 0 1 7 \r\nx\r\nEND\r\n",
        "VALUE a 0 1 7 8\r\nx\r\nEND\r\n",
        "VALUE a 0 1 -7\r\nx\r\nEND\r\n",
    };
    for (size_t i = 0; i < sizeof(bad_versions) / sizeof(bad_versions[0]); i++)
        ck_assert_int_eq(bcl_mc_parse_values(bad_versions[i], strlen(bad_versions[i]), v, 4, &n, &used), BCL_MC_BAD);
}
END_TEST

START_TEST(test_mc_parse_reply)
{
    bcl_mc_reply_t r;
    size_t used;
    ck_assert_int_eq(bcl_mc_parse_reply("STORED\r\n", 8, &r, &used), BCL_MC_OK);
    ck_assert(r == BCL_MC_STORED && used == 8);
    ck_assert_int_eq(bcl_mc_parse_reply("NOT_STORED\r\n", 12, &r, &used), BCL_MC_OK);
    ck_assert(r == BCL_MC_NOT_STORED);
    ck_assert_int_eq(bcl_mc_parse_reply("NOT_FOUND\r\n", 11, &r, &used), BCL_MC_OK);
    ck_assert_int_eq(bcl_mc_parse_reply("DELETED\r\n", 9, &r, &used), BCL_MC_OK);
    ck_assert_int_eq(bcl_mc_parse_reply("STORED", 6, &r, &used), BCL_MC_INCOMPLETE);
    ck_assert_int_eq(bcl_mc_parse_reply("SERVER_ERROR out of memory storing object\r\n", 43, &r, &used),
                     BCL_MC_SERVER_ERROR);
    ck_assert_int_eq(bcl_mc_parse_reply("ERROR\r\n", 7, &r, &used), BCL_MC_SERVER_ERROR);
    ck_assert_int_eq(bcl_mc_parse_reply("STOREDX\r\n", 9, &r, &used), BCL_MC_BAD);
}
END_TEST

/* -- configuration and throttle --------------------------------------------- */

START_TEST(test_parse_servers)
{
    apr_array_header_t *a = NULL;
    ck_assert_ptr_null(bcl_net_parse_servers(pool, "127.0.0.1:11211", 4, &a));
    ck_assert_int_eq(a->nelts, 1);
    ck_assert_ptr_null(bcl_net_parse_servers(pool, "a:1,[::1]:2,b.example:65535", 4, &a));
    ck_assert_int_eq(a->nelts, 3);
    ck_assert_str_eq(APR_ARRAY_IDX(a, 1, bcl_net_server_t).host, "::1");
    ck_assert_int_eq(APR_ARRAY_IDX(a, 2, bcl_net_server_t).port, 65535);
    static const char *const bad[] = { "", "a", "a:", ":1", "a:0", "a:65536", "a:x", "a:1,", ",a:1", "a:1,,b:2" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(bcl_net_parse_servers(pool, bad[i], 4, &a) != NULL, "accepted \"%s\"", bad[i]);
    ck_assert_ptr_nonnull(bcl_net_parse_servers(pool, "a:1,b:2", 1, &a));
}
END_TEST

START_TEST(test_throttle)
{
    volatile apr_uint32_t next = 0;
    ck_assert(bcl_net_throttle(&next, 100, 10));
    ck_assert(!bcl_net_throttle(&next, 100, 10));
    ck_assert(!bcl_net_throttle(&next, 109, 10));
    ck_assert(bcl_net_throttle(&next, 110, 10));
    ck_assert(!bcl_net_throttle(&next, 111, 10));
}
END_TEST

Suite *netstore_suite(void)
{
    Suite *s = suite_create("netstore");
    TCase *tc = tcase_create("netstore");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_key_names);
    tcase_add_test(tc, test_prefixes);
    tcase_add_test(tc, test_encode_decode);
    tcase_add_test(tc, test_decode_refuses_foreign_values);
    tcase_add_test(tc, test_expiry_times);
    tcase_add_test(tc, test_resp_command);
    tcase_add_test(tc, test_resp_parse);
    tcase_add_test(tc, test_resp_parse_refuses);
    tcase_add_test(tc, test_mc_commands);
    tcase_add_test(tc, test_mc_parse_values);
    tcase_add_test(tc, test_mc_parse_reply);
    tcase_add_test(tc, test_parse_servers);
    tcase_add_test(tc, test_throttle);
    suite_add_tcase(s, tc);
    return s;
}
