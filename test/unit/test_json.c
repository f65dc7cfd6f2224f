/* bcl_json: the receiver's JSON parser accepts exactly what jansson's
 * json_loadb(JSON_REJECT_DUPLICATES) accepts (an object or array at the top)
 * and yields the same values: checked on hand-picked inputs and on many
 * deterministic random mutations of token-like documents. */
#include <string.h>
#include <stdlib.h>
#include <jansson.h>

#include "test_helpers.h"
#include "bcl_json.h"
#include "../fuzz/json_agree.h"

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


/* 1 when both accept with the same value or both refuse; 0 otherwise. */
static int agrees(const char *text, size_t len)
{
    json_error_t jerr;
    const char *err = NULL;
    json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    bcl_json_t *b = bcl_json_parse(pool, text, len, &err);
    int ok = json_texts_agree(text, len, j, b, err);

    json_decref(j);
    return ok;
}

static void assert_agrees(const char *text, size_t len)
{
    json_error_t jerr;
    json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    const char *err = NULL;
    int jansson_ok = j != NULL;
    json_decref(j);
    ck_assert_msg(agrees(text, len), "disagreement on %.*s (jansson %s, bcl_json %s)", (int)len, text,
                  jansson_ok ? "accepts" : "refuses",
                  bcl_json_parse(pool, text, len, &err) ? "accepts" : "refuses");
}

#define AGREE(lit) assert_agrees(lit, sizeof(lit) - 1)

START_TEST(test_hand_picked)
{
    AGREE("{}");
    AGREE("[]");
    AGREE(" {\"a\" : 1 , \"b\":[true,false,null]}\r\n\t");
    AGREE("{\"iss\":\"https://op.example\",\"aud\":[\"a\",\"b\"],\"iat\":1700000000,\"exp\":1.7e9,"
          "\"events\":{\"http://schemas.openid.net/event/backchannel-logout\":{}}}");
    /* refused */
    AGREE("");
    AGREE("   ");
    AGREE("1");
    AGREE("\"s\"");
    AGREE("null");
    AGREE("{\"a\":1,}");
    AGREE("[1,]");
    AGREE("{\"a\" 1}");
    AGREE("{a:1}");
    AGREE("{'a':1}");
    AGREE("{\"a\":1}x");
    AGREE("{\"a\":1}{}");
    AGREE("{\"a\":truex}");
    AGREE("{\"a\":tru}");
    AGREE("{\"a\":nul}");
    /* duplicates, at any depth, after unescaping */
    AGREE("{\"a\":1,\"a\":1}");
    AGREE("{\"a\":1,\"\\u0061\":2}");
    AGREE("{\"e\":{\"x\":{},\"x\":{}}}");
    AGREE("[{\"k\":1},{\"k\":1}]");
    AGREE("{\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,\"f\":6,\"g\":7,\"h\":8,\"i\":9,\"j\":10,"
          "\"k\":11,\"l\":12,\"m\":13,\"n\":14,\"o\":15,\"p\":16,\"q\":17,\"r\":18,\"a\":19}");
    AGREE("{\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,\"f\":6,\"g\":7,\"h\":8,\"i\":9,\"j\":10,"
          "\"k\":11,\"l\":12,\"m\":13,\"n\":14,\"o\":15,\"p\":16,\"q\":17,\"r\":18,\"s\":19}");
    /* numbers */
    AGREE("[0,-0,1,-1,10,1.5,-1.5e3,1E2,1e-2,1e+2,0.0]");
    AGREE("[9223372036854775807]");
    AGREE("[-9223372036854775808]");
    AGREE("[9223372036854775808]");
    AGREE("[-9223372036854775809]");
    AGREE("[1e400]");
    AGREE("[-1e400]");
    AGREE("[1e-400]");
    AGREE("[01]");
    AGREE("[-]");
    AGREE("[1.]");
    AGREE("[.5]");
    AGREE("[+1]");
    AGREE("[1e]");
    AGREE("[1e+]");
    AGREE("[--1]");
    /* strings */
    AGREE("[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"]");
    AGREE("[\"\\u00e9\\u20ac\\ud83d\\ude00\"]");
    AGREE("[\"\\u0000\"]");
    AGREE("[\"\\ud83d\"]");
    AGREE("[\"\\ud83dx\"]");
    AGREE("[\"\\ud83d\\u0041\"]");
    AGREE("[\"\\ude00\"]");
    AGREE("[\"\\u12\"]");
    AGREE("[\"\\uzzzz\"]");
    AGREE("[\"\\x\"]");
    AGREE("[\"\\\"]");
    AGREE("[\"abc]");
    AGREE("[\"a\x01\"]");
    AGREE("[\"a\x7f\"]");
    AGREE("[\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"]");
    AGREE("[\"\xc0\x80\"]");
    AGREE("[\"\xc1\xbf\"]");
    AGREE("[\"\xe0\x80\xaf\"]");
    AGREE("[\"\xed\xa0\x80\"]");
    AGREE("[\"\xf4\x90\x80\x80\"]");
    AGREE("[\"\xf5\x80\x80\x80\"]");
    AGREE("[\"\xc3\"]");
    AGREE("[\"\x80\"]");
    AGREE("[\"\xe2\x82\"]");
    assert_agrees("[\"a\0b\"]", 7);
    assert_agrees("{\"a\":1}\0", 8);
    /* jansson accepts these (a NUL ends its look-ahead buffer); bcl_json
     * must refuse them: found by fuzz_json in CI */
    assert_agrees("{\"a\":1\0,\"p\":4}", 14);
    assert_agrees("[1\0]", 4);
    assert_agrees("[true\0]", 7);
    assert_agrees("[1.5\0]", 6);
}
END_TEST

START_TEST(test_depth)
{
    for (int depth = 2046; depth <= 2050; depth++) {
        char *s = apr_palloc(pool, (apr_size_t)depth * 2 + 1);
        memset(s, '[', (size_t)depth);
        memset(s + depth, ']', (size_t)depth);
        s[depth * 2] = '\0';
        assert_agrees(s, (size_t)depth * 2);
    }
}
END_TEST

/* Deterministic mutations (replace, insert, delete a byte) of token-like
 * documents: both parsers must agree on every one. */
START_TEST(test_mutations)
{
    static const char *const seeds[] = {
        "{\"iss\":\"https://op.example/\",\"aud\":[\"client-1\",\"c2\"],\"iat\":1700000000,\"exp\":1700000120,"
        "\"jti\":\"j-1\\u00e9\",\"sid\":\"s\",\"sub\":\"u\",\"events\":{\"http://schemas.openid.net/event/"
        "backchannel-logout\":{}},\"x\":[null,true,false,-1.25e-3]}",
        "{\"alg\":\"RS256\",\"kid\":\"k1\",\"typ\":\"logout+jwt\",\"crit\":[\"b64\"]}",
        "[\"\\ud83d\\ude00\",\"\xc3\xa9\",{\"a\":{\"b\":[1,2,{\"c\":\"\\n\"}]}}]",
    };
    static const char alphabet[] = "{}[]:,\"\\u0123456789abcdefABCDEF.eE+-tfn \t\r\nxyz\x01\x7f\x80\xc3\xa9\xed\xf0";
    unsigned seed = 12345;
    char buf[512];

    for (int n = 0; n < 30000; n++) {
        const char *src = seeds[n % 3];
        size_t len = strlen(src);
        memcpy(buf, src, len);
        for (int m = 0; m < 1 + n % 3; m++) {
            seed = seed * 1103515245u + 12345u;
            size_t at = (seed >> 8) % (len + 1);
            char c = alphabet[(seed >> 20) % (sizeof(alphabet) - 1)];
            switch ((seed >> 4) % 3) {
            case 0:
                if (at < len)
                    buf[at] = c;
                break;
            case 1:
                if (len + 1 < sizeof(buf)) {
                    memmove(buf + at + 1, buf + at, len - at);
                    buf[at] = c;
                    len++;
                }
                break;
            default:
                if (at < len) {
                    memmove(buf + at, buf + at + 1, len - at - 1);
                    len--;
                }
            }
        }
        ck_assert_msg(agrees(buf, len), "disagreement on mutation %d: %.*s", n, (int)len, buf);
        if (n % 1000 == 999) {
            apr_pool_clear(pool);
        }
    }
}
END_TEST

Suite *json_suite(void)
{
    Suite *s = suite_create("json");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_hand_picked);
    tcase_add_test(tc, test_depth);
    tcase_add_test(tc, test_mutations);
    suite_add_tcase(s, tc);
    return s;
}
