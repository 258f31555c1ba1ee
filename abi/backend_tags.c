/*
 * The tag-blob readers a user's engine calls (dd_backend_tags_contain,
 * dd_backend_tags_next): the blob's format is the library's
 * (core/store/tags.h), so engines that index tags in a table of their own
 * walk it through these rather than parsing it.
 */
#include <stddef.h>

#include "abi.h"
#include "store/store.h"
#include "store/tags.h"
#include "util/bytes.h"

int abi_impl_dd_backend_tags_contain(int *out, const uint8_t *tags, size_t tags_len,
                                     const uint8_t *tag, size_t tag_len)
{
    ABI_REQUIRE(out, "out");
    *out = 0;
    if (!tags && tags_len)
        return error_set(DD_EINVAL, "tags must not be NULL when its length is %zu", tags_len);
    ABI_REQUIRE(tag, "tag");
    *out = store_tags_contain(tags, tags_len, tag, tag_len);
    return DD_OK;
}

int abi_impl_dd_backend_tags_next(const uint8_t **tag, size_t *tag_len, const uint8_t *tags,
                                  size_t tags_len, size_t *pos)
{
    ABI_REQUIRE(tag, "tag");
    ABI_REQUIRE(tag_len, "tag_len");
    ABI_REQUIRE(pos, "pos");
    *tag = NULL;
    *tag_len = 0;
    if (!tags && tags_len)
        return error_set(DD_EINVAL, "tags must not be NULL when its length is %zu", tags_len);
    if (*pos > tags_len)
        return error_set(DD_EINVAL, "pos %zu is past the end of the tags (%zu bytes)", *pos,
                         tags_len);
    reader r = reader_make(tags, tags_len);
    if (*pos == 0) {
        /* The list opens with its count; skip it (the end of the blob is
         * the end of the list). */
        size_t left;
        int rc = store_tags_begin(&r, tags, tags_len, &left);
        if (rc != ST_OK)
            return rc;
    } else {
        r.p = tags + *pos;
    }
    if (reader_left(&r) == 0)
        return DD_EDONE;
    size_t n;
    const uint8_t *t = reader_blob(&r, STORE_MAX_TAG_BYTES, &n);
    if (!reader_ok(&r))
        return error_set(DD_ECORRUPT, "tag list is malformed at byte %zu", *pos);
    *tag = t;
    *tag_len = n;
    *pos = (size_t)(r.p - tags);
    return DD_OK;
}
