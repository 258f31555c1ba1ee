/*
 * <root>/format: a "DDFL" record (magic, format byte, CRC as every fs
 * record) whose body is the layout version, a little-endian u32. See
 * fs_layout.h for why it exists.
 */
#include "store/fs_layout.h"

#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>

#include "util/bytes.h"
#include "util/error.h"
#include "util/status.h"

static int write_marker(fs_backend *f)
{
    bytes b = BYTES_INIT;
    bytes_put(&b, "DDFL\1", 5);
    bytes_put_u32(&b, FS_LAYOUT_VERSION);
    return fs_write_record(f, f->root, "format", &b);
}

int fs_layout_read(fs_backend *f)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/format", f->root);
    bytes b = BYTES_INIT;
    int rc = fs_read_file(path, &b);
    if (rc == ST_ENOTFOUND) {
        rc = ST_OK; /* layout 1, from before the marker */
        goto done;
    }
    reader r;
    if (rc != ST_OK || (rc = fs_open_record(&b, "DDFL", path, &r)) != ST_OK)
        goto done;
    uint32_t layout = reader_u32(&r);
    if (!reader_ok(&r) || layout == 0)
        rc = error_set(ST_ECORRUPT, "fs store: '%s' holds no layout version", path);
    else if (layout > FS_LAYOUT_VERSION)
        rc = error_set(ST_EUNSUPPORTED,
                       "fs store: '%s' has layout version %u, newer than this library's (%u)",
                       f->root, layout, FS_LAYOUT_VERSION);
done:
    bytes_free(&b);
    return rc;
}

int fs_layout_check(fs_backend *f)
{
    char path[4096];
    struct stat sb;
    snprintf(path, sizeof(path), "%s/format", f->root);
    if (stat(path, &sb) != 0 && errno == ENOENT)
        return write_marker(f);
    return fs_layout_read(f);
}
