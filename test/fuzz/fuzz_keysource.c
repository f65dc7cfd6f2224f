/* libFuzzer target: what a key server sends. The input is read as a
 * discovery document (bcl_keysource_parse_metadata), as a Cache-Control
 * header value and as a key URL; every answer must be consistent. */
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>

#include "bcl_keysource.h"
#include "fuzz_common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (apr_initialize() != APR_SUCCESS)
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool_new();
    char *doc = malloc(size ? size : 1);         /* exact size: no NUL after it */
    char *str = malloc(size + 1);                /* NUL-terminated for the string APIs */
    const char *iss = NULL, *uri = NULL, *err = NULL;
    int loopback = -1;
    long age;

    memcpy(doc, data, size);
    memcpy(str, data, size);
    str[size] = '\0';

    if (bcl_keysource_parse_metadata(p, doc, size, &iss, &uri, &err) == 0) {
        if (iss == NULL || uri == NULL || *iss == '\0' || strlen(iss) > BCL_KEYSOURCE_MAX_ISSUER)
            abort();
        if (bcl_keysource_check_url(p, uri, &loopback, &err) != 0)
            abort();
    } else if (err == NULL) {
        abort();
    }

    age = bcl_keysource_max_age(str);
    if (age < -1)
        abort();
    if (bcl_keysource_refresh_delay(age, 60, 3600) < 60 || bcl_keysource_refresh_delay(age, 60, 3600) > 3600)
        abort();

    err = NULL;
    if (bcl_keysource_check_url(p, str, &loopback, &err) == 0) {
        if (strncasecmp(str, "https://", 8) != 0 && !(loopback == 1 && strncasecmp(str, "http://", 7) == 0))
            abort();
    } else if (err == NULL) {
        abort();
    }
    free(doc);
    free(str);
    fuzz_pool_destroy(p);
    return 0;
}
