/* Whether jansson's parse and bcl_json's hold the same value: the
 * differential check shared by the unit test (test/unit/test_json.c) and
 * the fuzz target (fuzz_json.c). */
#ifndef BCL_JSON_AGREE_H
#define BCL_JSON_AGREE_H

#include <string.h>
#include <jansson.h>

#include "bcl_json.h"

static int json_agree(const json_t *j, const bcl_json_t *b)
{
    switch (json_typeof(j)) {
    case JSON_NULL: return b->type == BCL_JSON_NULL;
    case JSON_TRUE: return b->type == BCL_JSON_TRUE;
    case JSON_FALSE: return b->type == BCL_JSON_FALSE;
    case JSON_INTEGER:
    case JSON_REAL: {
        /* the same value (-0 equals 0), said without == (-Wfloat-equal) */
        double v = json_number_value(j);
        return b->type == BCL_JSON_NUMBER && !(v < b->num) && !(v > b->num);
    }
    case JSON_STRING:
        return b->type == BCL_JSON_STRING && json_string_length(j) == b->len
               && memcmp(json_string_value(j), b->str, b->len) == 0 && b->str[b->len] == '\0';
    case JSON_ARRAY:
        if (b->type != BCL_JSON_ARRAY || (int)json_array_size(j) != b->n)
            return 0;
        for (int i = 0; i < b->n; i++)
            if (!json_agree(json_array_get(j, (size_t)i), b->items[i]))
                return 0;
        return 1;
    case JSON_OBJECT:
        if (b->type != BCL_JSON_OBJECT || (int)json_object_size(j) != b->n)
            return 0;
        for (int i = 0; i < b->n; i++) {
            const json_t *m = json_object_get(j, b->keys[i]);
            if (m == NULL || !json_agree(m, b->items[i]) || bcl_json_get(b, b->keys[i]) != b->items[i])
                return 0;
        }
        return 1;
    }
    return 0;
}

/* Whether both parsers answered text the same way: both refuse (bcl_json
 * with a reason), or both accept with the same value. A raw NUL byte can
 * never be valid JSON (inside a string it must be escaped, outside one only
 * whitespace may stand), so bcl_json must refuse any text holding one;
 * jansson is no reference there: its reader uses NUL as the end of its
 * look-ahead buffer, skips what follows one and accepts, for example,
 * [1<NUL>] and {"a":1<NUL>,"p":4}. */
static int json_texts_agree(const char *text, size_t len, const json_t *j, const bcl_json_t *b,
                            const char *err)
{
    if (b == NULL && err == NULL)
        return 0;
    if (memchr(text, '\0', len) != NULL)
        return b == NULL;
    if (j == NULL || b == NULL)
        return j == NULL && b == NULL;
    return json_agree(j, b);
}

#endif
