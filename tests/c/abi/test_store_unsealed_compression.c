/*
 * compression_level works without a key ring: an unsealed store given
 * level 9 stores a compressible 4 KiB event and state record in far fewer
 * bytes (the fs engine's files show it), and reads them back whole.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "ddata.h"
#include "test.h"

static long long file_bytes(const char *path)
{
    struct stat st;
    ASSERT_MSG(stat(path, &st) == 0, "%s", path);
    return (long long)st.st_size;
}

TEST(test_unsealed_store_compresses_when_asked)
{
    char path[1100];
    snprintf(path, sizeof(path), "%s/zip", test_tmpdir());
    dd_store_options o;
    ASSERT_EQ_INT(dd_store_options_init(&o, DD_STORE_OPTIONS_VERSION), DD_OK);
    o.backend = DD_BACKEND_FS;
    o.path = path;
    o.compression_level = 9;
    static uint8_t big[4096];
    memset(big, 'z', sizeof(big));
    dd_journal *j;
    ASSERT_EQ_INT(dd_journal_open(&j, &o), DD_OK);
    dd_append_event ev = {big, sizeof(big), 1, NULL, 0};
    ASSERT_EQ_INT(dd_journal_append(j, (const uint8_t *)"p", 1, 0, &ev, 1), DD_OK);
    dd_journal_cursor *c;
    dd_journal_event e;
    ASSERT_EQ_INT(dd_journal_replay(&c, j, (const uint8_t *)"p", 1, 1, 1, 1), DD_OK);
    ASSERT_EQ_INT(dd_journal_cursor_next(&e, c), DD_OK);
    ASSERT_MEM_EQ(e.payload, e.len, big, sizeof(big));
    dd_journal_cursor_close(c);
    dd_journal_close(j);
    dd_state_store *s;
    ASSERT_EQ_INT(dd_state_store_open(&s, &o), DD_OK);
    uint64_t rev;
    ASSERT_EQ_INT(dd_state_store_upsert(&rev, s, (const uint8_t *)"k", 1, 0, big, sizeof(big)),
                  DD_OK);
    dd_buf out = {0};
    ASSERT_EQ_INT(dd_state_store_get(&out, &rev, s, (const uint8_t *)"k", 1), DD_OK);
    ASSERT_MEM_EQ(out.data, out.len, big, sizeof(big));
    dd_buf_free(&out);
    dd_state_store_close(s);
    char file[1200];
    snprintf(file, sizeof(file), "%s/journal/x70/b00000000000000000001", path);
    ASSERT(file_bytes(file) < 300);
    snprintf(file, sizeof(file), "%s/state/x6b", path);
    ASSERT(file_bytes(file) < 300);
}
