/*
 * A store worth rekeying, and a way to compare two of them, for the
 * rekey tests (tests/c/abi/test_store_rekey*.c): fixture_fill writes events
 * on two pids (tags, a deleted head), snapshots and state records at
 * several revisions; fixture_dump reads all of it back through the public
 * API as text; fixture_envelope_key_ids lists the key ids of the sealed envelopes
 * in a file or tree. Header-only, on the public ABI alone.
 */
#ifndef DD_TEST_STORE_FIXTURE_H
#define DD_TEST_STORE_FIXTURE_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ddata.h"
#include "test.h"

static inline dd_keyring *fixture_ring(uint32_t key_id, uint8_t fill)
{
    uint8_t key[32];
    memset(key, fill, sizeof(key));
    dd_keyring *ring = NULL;
    ASSERT_EQ_INT(dd_keyring_new(&ring), DD_OK);
    ASSERT_EQ_INT(dd_keyring_add_key(ring, key_id, key, sizeof(key)), DD_OK);
    return ring;
}

static inline dd_store_options fixture_options(uint32_t backend, const char *path, dd_keyring *ring)
{
    dd_store_options o;
    ASSERT_EQ_INT(dd_store_options_init(&o, DD_STORE_OPTIONS_VERSION), DD_OK);
    o.backend = backend;
    o.path = path;
    o.keyring = ring;
    o.sync = DD_SYNC_OFF;
    return o;
}

/* Writes events (two pids, tags, a deleted head), snapshots and state
 * records; `events` per pid. */
static inline void fixture_fill(const dd_store_options *o, int events)
{
    dd_journal *j = NULL;
    dd_state_store *st = NULL;
    ASSERT_EQ_INT(dd_journal_open(&j, o), DD_OK);
    ASSERT_EQ_INT(dd_state_store_open(&st, o), DD_OK);
    const char *tags_odd[] = {"odd", "all"}, *tags_even[] = {"all"};
    for (int p = 0; p < 2; p++) {
        const char *pid = p ? "order-b" : "order-a";
        for (int i = 0; i < events; i++) {
            char payload[300];
            int n = snprintf(payload, sizeof(payload), "%s event %d %0200d", pid, i + 1, i);
            dd_append_event ev = {(const uint8_t *)payload, (size_t)n, 1000 + 7 * (uint64_t)i,
                                  i % 2 ? tags_even : tags_odd, i % 2 ? 1u : 2u};
            ASSERT_EQ_INT(
                dd_journal_append(j, (const uint8_t *)pid, strlen(pid), (uint64_t)i, &ev, 1),
                DD_OK);
        }
        for (int s = 1; s <= 3; s++) {
            char snap[64];
            int n = snprintf(snap, sizeof(snap), "snapshot %d of %s", s, pid);
            ASSERT_EQ_INT(dd_snapshot_save(j, (const uint8_t *)pid, strlen(pid), (uint64_t)s,
                                           5000 + (uint64_t)s, (const uint8_t *)snap, (size_t)n),
                          DD_OK);
        }
    }
    ASSERT_EQ_INT(dd_journal_delete_to(j, (const uint8_t *)"order-a", 7, 2), DD_OK);
    for (int k = 0; k < 20; k++) {
        char key[32], val[64];
        snprintf(key, sizeof(key), "key-%02d", k);
        for (int r = 0; r <= k % 3; r++) {
            int n = snprintf(val, sizeof(val), "value %d of %s", r, key);
            ASSERT_EQ_INT(dd_state_store_upsert(NULL, st, (const uint8_t *)key, strlen(key),
                                                (uint64_t)r, (const uint8_t *)val, (size_t)n),
                          DD_OK);
        }
    }
    dd_state_store_close(st);
    dd_journal_close(j);
}

static inline void fixture_put_bytes(FILE *f, const uint8_t *p, size_t n)
{
    fputc('[', f);
    fwrite(p, 1, n, f);
    fputc(']', f);
}

static inline int fixture_dump_events(FILE *f, dd_journal_cursor *cur)
{
    dd_journal_event ev;
    int rc;
    while ((rc = dd_journal_cursor_next(&ev, cur)) == DD_OK) {
        fprintf(f, "event %llu ts %llu ord %llu ", (unsigned long long)ev.seq,
                (unsigned long long)ev.timestamp_ms, (unsigned long long)ev.ordering);
        fixture_put_bytes(f, ev.pid, ev.pid_len);
        fixture_put_bytes(f, ev.payload, ev.len);
        for (size_t i = 0; i < ev.tag_count; i++)
            fprintf(f, " tag %s", ev.tags[i]);
        fputc('\n', f);
    }
    dd_journal_cursor_close(cur);
    return rc == DD_EDONE ? DD_OK : rc;
}

/* Everything the store holds, read through the public API, as text
 * (caller frees), or NULL with *rc set when a read fails. */
static inline char *fixture_dump(const dd_store_options *o, int *rc)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    dd_journal *j = NULL;
    dd_state_store *st = NULL;
    dd_journal_cursor *cur = NULL;
    if ((*rc = dd_journal_open(&j, o)) != DD_OK || (*rc = dd_state_store_open(&st, o)) != DD_OK)
        goto done;
    static const char *pids[] = {"order-a", "order-b"};
    for (int p = 0; p < 2 && *rc == DD_OK; p++) {
        uint64_t highest = 0;
        if ((*rc = dd_journal_highest_seq(&highest, j, (const uint8_t *)pids[p], 7)) != DD_OK ||
            (*rc = dd_journal_replay(&cur, j, (const uint8_t *)pids[p], 7, 1, UINT64_MAX,
                                     UINT64_MAX)) != DD_OK ||
            (*rc = fixture_dump_events(f, cur)) != DD_OK)
            goto done;
        fprintf(f, "highest %llu\n", (unsigned long long)highest);
        dd_snapshot_criteria c;
        memset(&c, 0, sizeof(c));
        c.version = DD_SNAPSHOT_CRITERIA_VERSION;
        c.max_seq = UINT64_MAX;
        c.max_timestamp_ms = UINT64_MAX;
        for (;;) {
            dd_buf snap = DD_BUF_INIT;
            uint64_t seq = 0, ts = 0;
            *rc = dd_snapshot_load(&snap, &seq, &ts, j, (const uint8_t *)pids[p], 7, &c);
            if (*rc == DD_ENOTFOUND) {
                *rc = DD_OK;
                break;
            }
            if (*rc != DD_OK)
                goto done;
            fprintf(f, "snapshot %llu ts %llu ", (unsigned long long)seq, (unsigned long long)ts);
            fixture_put_bytes(f, snap.data, snap.len);
            fputc('\n', f);
            dd_buf_free(&snap);
            if (seq <= 1)
                break;
            c.max_seq = seq - 1;
        }
    }
    if ((*rc = dd_journal_by_tag(&cur, j, "odd", 0, UINT64_MAX)) != DD_OK ||
        (*rc = fixture_dump_events(f, cur)) != DD_OK)
        goto done;
    if ((*rc = dd_state_store_range(&cur, st, NULL, 0, INT64_MAX)) != DD_OK)
        goto done;
    dd_journal_event ev;
    while ((*rc = dd_journal_cursor_next(&ev, cur)) == DD_OK) {
        fprintf(f, "state rev %llu ", (unsigned long long)ev.seq);
        fixture_put_bytes(f, ev.pid, ev.pid_len);
        fixture_put_bytes(f, ev.payload, ev.len);
        fputc('\n', f);
    }
    dd_journal_cursor_close(cur);
    if (*rc == DD_EDONE)
        *rc = DD_OK;
done:
    dd_state_store_close(st);
    dd_journal_close(j);
    fclose(f);
    if (*rc != DD_OK) {
        free(text);
        return NULL;
    }
    return text;
}

/* Key ids of every sealed envelope ("DDSE", version 1; key id at offset 8)
 * in the file or tree at `path`: bit k set when key id k appears. */
static inline unsigned fixture_envelope_key_ids(const char *path)
{
    struct stat sb;
    if (lstat(path, &sb) != 0)
        return 0;
    unsigned ids = 0;
    if (S_ISDIR(sb.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *e;
        while (d && (e = readdir(d)) != NULL) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            char sub[2048];
            int len = snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
            ASSERT(len > 0 && (size_t)len < sizeof(sub));
            ids |= fixture_envelope_key_ids(sub);
        }
        if (d)
            closedir(d);
        return ids;
    }
    FILE *f = fopen(path, "rb");
    ASSERT(f);
    uint8_t *data = malloc((size_t)sb.st_size + 1);
    size_t n = fread(data, 1, (size_t)sb.st_size, f);
    fclose(f);
    for (size_t i = 0; i + 12 <= n; i++)
        if (memcmp(data + i, "DDSE\1", 5) == 0) {
            uint32_t id = (uint32_t)data[i + 8] | (uint32_t)data[i + 9] << 8 |
                          (uint32_t)data[i + 10] << 16 | (uint32_t)data[i + 11] << 24;
            ids |= id < 31 ? 1u << id : 1u << 31;
        }
    free(data);
    return ids;
}

#endif
