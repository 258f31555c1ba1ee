/*
 * Versions on disk in the file-system engine: the layout marker
 * <root>/format (fs_layout.h) and the format byte of every record file.
 * A store of an older library opens; one of a newer library is refused by
 * name (ST_EUNSUPPORTED) rather than read as empty or called corrupt.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "store/fs_io.h"
#include "store/fs_layout.h"
#include "by_path.h"
#include "util/error.h"

#define K(str) (const uint8_t *)(str), strlen(str)

static int open_state(state_store **out, const char *root)
{
    store_backend *be;
    fs_options o = {STORE_SYNC_OFF};
    int rc = store_backend_open_fs(&be, root, &o);
    return rc == ST_OK ? state_store_open_backend(out, be, NULL) : rc;
}

/* A new store at <tmp>/<name> (its path in root); `path` = its marker. */
static state_store *new_store(char root[1024], char path[1100], const char *name)
{
    tmp_path(root, 1024, name);
    snprintf(path, 1100, "%s/format", root);
    state_store *s;
    ASSERT_OK(open_state(&s, root));
    return s;
}

static void write_file(const char *path, const uint8_t *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    ASSERT(f != NULL);
    ASSERT_EQ_U64(fwrite(data, 1, len, f), len);
    fclose(f);
}

/* Rewrites the file at path as a record of the given magic, format byte
 * and body, with a valid CRC: what a later library would have written. */
static void write_record(const char *path, const char *magic, uint8_t format, const bytes *body)
{
    bytes b = BYTES_INIT;
    bytes_put(&b, magic, 4);
    bytes_put_u8(&b, format);
    bytes_put(&b, body->data, body->len);
    fs_put_crc(&b);
    write_file(path, b.data, b.len);
    bytes_free(&b);
}

static uint32_t marker_layout(const char *root)
{
    char path[1100];
    snprintf(path, sizeof(path), "%s/format", root);
    bytes b = BYTES_INIT;
    reader r;
    ASSERT_OK(fs_read_file(path, &b));
    ASSERT_OK(fs_open_record(&b, "DDFL", path, &r));
    uint32_t layout = reader_u32(&r);
    bytes_free(&b);
    return layout;
}

TEST(test_new_fs_store_records_its_layout_version)
{
    char root[1024], path[1100];
    state_store_close(new_store(root, path, "new"));
    ASSERT_EQ_U64(marker_layout(root), FS_LAYOUT_VERSION);
}

TEST(test_fs_store_from_before_the_marker_opens_as_layout_1)
{
    char root[1024], path[1100];
    state_store *s = new_store(root, path, "old");
    ASSERT_OK(state_store_upsert(s, K("k"), 0, K("v"), NULL));
    state_store_close(s);
    ASSERT_EQ_INT(unlink(path), 0);
    ASSERT_OK(open_state(&s, root));
    expect_state(s, "k", 1, "v");
    state_store_close(s);
    ASSERT_EQ_U64(marker_layout(root), 1);
}

TEST(test_newer_fs_layout_is_refused_by_name)
{
    char root[1024], path[1100];
    state_store *s = new_store(root, path, "newer");
    state_store_close(s);
    bytes body = BYTES_INIT;
    bytes_put_u32(&body, FS_LAYOUT_VERSION + 1);
    write_record(path, "DDFL", 1, &body);
    bytes_free(&body);
    ASSERT_STATUS(open_state(&s, root), ST_EUNSUPPORTED);
    ASSERT(strstr(error_message(), "layout version 2, newer than this library's (1)") != NULL);
}

TEST(test_record_file_of_a_later_format_is_unsupported_not_corrupt)
{
    char root[1024], path[1100];
    state_store *s = new_store(root, path, "records");
    ASSERT_OK(state_store_upsert(s, K("k"), 0, K("v"), NULL));
    snprintf(path, sizeof(path), "%s/state/x6b", root);
    bytes file = BYTES_INIT;
    ASSERT_OK(fs_read_file(path, &file));
    bytes body = BYTES_INIT;
    bytes_put(&body, file.data + 5, file.len - 9);
    write_record(path, "DDFK", FS_RECORD_VERSION + 1, &body);
    uint64_t rev;
    ASSERT_STATUS(state_store_get(s, K("k"), &rev, NULL), ST_EUNSUPPORTED);
    ASSERT(strstr(error_message(), "this library reads 1..") != NULL);
    /* The same byte changed by bit rot (CRC not recomputed) is corruption. */
    file.data[4] = FS_RECORD_VERSION + 1;
    write_file(path, file.data, file.len);
    ASSERT_STATUS(state_store_get(s, K("k"), &rev, NULL), ST_ECORRUPT);
    bytes_free(&body);
    bytes_free(&file);
    state_store_close(s);
}
