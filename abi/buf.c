/*
 * dd_buf: byte strings handed to the caller.
 */
#include <stdlib.h>

#include "abi.h"
#include "util/bytes.h"

DD_API void dd_buf_free(dd_buf *buf)
{
    if (!buf)
        return;
    free(buf->data);
    buf->data = NULL;
    buf->len = 0;
}

int abi_buf_from_bytes(dd_buf *out, bytes *b)
{
    if (b->failed) {
        bytes_free(b);
        return error_oom();
    }
    out->data = bytes_steal(b, &out->len);
    if (!out->data) {
        /* An empty result still gets a valid pointer, so callers can tell
         * "empty" from "not filled in". */
        out->data = malloc(1);
        if (!out->data)
            return error_oom();
    }
    return DD_OK;
}
