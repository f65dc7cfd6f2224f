/* Runs every suite of the core's unit tests.
 *
 * Check's environment variables apply: CK_FORK=no runs the tests in this
 * process (for valgrind and debuggers), CK_RUN_SUITE / CK_RUN_CASE select
 * tests, CK_VERBOSITY=verbose lists each test, CK_DEFAULT_TIMEOUT and
 * CK_TIMEOUT_MULTIPLIER scale the per-test timeout (slow sanitizer builds). */
#include <stdlib.h>
#include <check.h>
#include <apr_general.h>

#include "test_helpers.h"

int main(void)
{
    SRunner *sr;
    int failed;

    if (apr_initialize() != APR_SUCCESS)
        return EXIT_FAILURE;
    /* Keys are made once, before Check forks a child per test. */
    th_init();

    sr = srunner_create(b64url_suite());
    srunner_add_suite(sr, json_suite());
    srunner_add_suite(sr, form_suite());
    srunner_add_suite(sr, keyset_suite());
    srunner_add_suite(sr, token_suite());
    srunner_add_suite(sr, jwe_suite());
    srunner_add_suite(sr, store_suite());
    srunner_add_suite(sr, seqlock_suite());
    srunner_add_suite(sr, netstore_suite());
    srunner_add_suite(sr, rules_suite());
    srunner_add_suite(sr, storecontract_suite());
    srunner_add_suite(sr, keysource_suite());
    srunner_add_suite(sr, journal_suite());
    srunner_add_suite(sr, record_suite());
    srunner_add_suite(sr, cookie_suite());
    srunner_add_suite(sr, admin_suite());

    srunner_run_all(sr, CK_ENV);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);

    th_cleanup();
    apr_terminate();
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
