/*
 * Event tags: encoding and walking of the per-event tag list. See tags.h.
 */
#include "store/tags.h"

#include <string.h>

#include "util/error.h"
#include "util/status.h"

int store_tags_encode(bytes *out, const char *const *tags, size_t count)
{
    if (count && !tags)
        return error_set(ST_EINVAL, "tags must not be NULL when tag_count is %zu", count);
    if (count > STORE_MAX_TAGS)
        return error_set(ST_ELIMIT, "%zu tags on one event, at most %u", count, STORE_MAX_TAGS);
    bytes_put_varint(out, count);
    for (size_t i = 0; i < count; i++) {
        if (!tags[i] || !tags[i][0])
            return error_set(ST_EINVAL, "tag %zu is NULL or empty", i);
        size_t n = strlen(tags[i]);
        if (n > STORE_MAX_TAG_BYTES)
            return error_set(ST_ELIMIT, "tag %zu is %zu bytes, at most %u", i, n,
                             STORE_MAX_TAG_BYTES);
        bytes_put_blob(out, tags[i], n);
    }
    if (out->failed)
        return error_oom();
    return ST_OK;
}

int store_tags_begin(reader *r, const uint8_t *blob, size_t len, size_t *remaining)
{
    *r = reader_make(blob, len);
    *remaining = 0;
    if (!blob || !len)
        return ST_OK;
    uint64_t n = reader_varint(r);
    if (!reader_ok(r) || n > STORE_MAX_TAGS)
        return error_set(ST_ECORRUPT, "stored tag list is malformed");
    *remaining = (size_t)n;
    return ST_OK;
}

int store_tags_next(reader *r, size_t *remaining, const uint8_t **tag, size_t *tag_len)
{
    if (!*remaining)
        return 0;
    *tag = reader_blob(r, STORE_MAX_TAG_BYTES, tag_len);
    if (!reader_ok(r))
        return error_set(ST_ECORRUPT, "stored tag list is malformed");
    (*remaining)--;
    return 1;
}

int store_tags_contain(const uint8_t *blob, size_t len, const uint8_t *tag, size_t tag_len)
{
    reader r;
    size_t left;
    if (store_tags_begin(&r, blob, len, &left) != ST_OK)
        return 0;
    const uint8_t *t;
    size_t tl;
    while (store_tags_next(&r, &left, &t, &tl) == 1)
        if (tl == tag_len && memcmp(t, tag, tl) == 0)
            return 1;
    return 0;
}
