/*
 * The store variants every contract test runs against: each engine,
 * unsealed and sealed. Shared by the store tests in this directory (a
 * header, not a test: only test_*.c become executables).
 *
 * DDATA_STORE_ENGINES (a comma-separated list of engine names) picks the
 * engines a run covers; by default memory, sqlite and fs. The postgres.*
 * ctest entries run these same executables with it set to "postgres"
 * against a real server (tests/postgres/suite.cmake). Each run ends with a
 * line counting the cases every variant ran, so the counts of two engines
 * can be compared.
 */
#ifndef DD_TEST_STORE_VARIANTS_H
#define DD_TEST_STORE_VARIANTS_H

#include <stdio.h>

#include <stdlib.h>
#include <string.h>

#include "seal/seal.h"
#include "pg_test.h"
#include "store/fs_backend.h"
#include "store/journal.h"
#include "store/pg_backend.h"
#include "store/sqlite_backend.h"
#include "store/state_store.h"
#include "store/store.h"
#include "test.h"
#include "util/status.h"

enum { V_MEMORY, V_SQLITE, V_FS, V_POSTGRES, V_COUNT_ENGINES };
#define V_COUNT (V_COUNT_ENGINES * 2)

static inline const char *variant_name(int v)
{
    static const char *names[] = {"memory",        "sqlite",        "fs",        "postgres",
                                  "memory+sealed", "sqlite+sealed", "fs+sealed", "postgres+sealed"};
    return names[v];
}

static int variant_cases[V_COUNT];

static void variant_report(void)
{
    printf("variant cases:");
    for (int v = 0; v < V_COUNT; v++)
        if (variant_cases[v])
            printf(" %s=%d", variant_name(v), variant_cases[v]);
    printf("\n");
}

/* 1 when this run covers the engine of variant v (and counts the case). */
static inline int variant_on(int v)
{
    static int registered;
    const char *want = getenv("DDATA_STORE_ENGINES");
    if (!want || !want[0])
        want = "memory,sqlite,fs";
    const char *name = variant_name(v % V_COUNT_ENGINES);
    size_t n = strlen(name);
    for (const char *at = want; (at = strstr(at, name)) != NULL; at += n) {
        if ((at == want || at[-1] == ',') && (at[n] == ',' || at[n] == 0)) {
            if (!registered++)
                atexit(variant_report);
            variant_cases[v]++;
            return 1;
        }
    }
    return 0;
}

/* Loops v over the variants this run covers. */
#define FOR_EACH_VARIANT(v)                                                                        \
    for (int v = 0; v < V_COUNT; v++)                                                              \
        if (!variant_on(v)) {                                                                      \
        } else

static inline keyring *test_keyring(void)
{
    keyring *k;
    uint8_t key[32];
    for (int i = 0; i < 32; i++)
        key[i] = (uint8_t)(i * 7 + 1);
    ASSERT_OK(keyring_new(&k));
    ASSERT_OK(keyring_add(k, 1, key, sizeof(key)));
    return k;
}

static inline sealer *test_sealer(keyring *k)
{
    sealer *s;
    seal_options o = seal_options_default();
    o.compress_threshold = 16;
    ASSERT_OK(sealer_new(&s, k, &o));
    return s;
}

/* Opens engine v % V_COUNT_ENGINES in `dir` (a fresh one per call site;
 * on postgres, the schema fresh_dir made for it). Safe off the test's
 * thread: it reports, never asserts. */
static inline int open_engine_status(int v, const char *dir, store_backend **be)
{
    char path[1100]; /* room for dir (< 1024) and a file name */
    switch (v % V_COUNT_ENGINES) {
    case V_MEMORY: return store_backend_open_memory(be);
    case V_SQLITE:
        snprintf(path, sizeof(path), "%s/store.db", dir);
        return store_backend_open_sqlite(be, path, NULL);
    case V_FS:
        snprintf(path, sizeof(path), "%s/fs", dir);
        return store_backend_open_fs(be, path, NULL);
    default: {
        char schema[40], conninfo[1400];
        pg_test_schema_name(schema, sizeof(schema), dir);
        pg_test_conninfo(conninfo, sizeof(conninfo), schema);
        return store_backend_open_postgres(be, conninfo, NULL);
    }
    }
}

static inline store_backend *open_engine(int v, const char *dir)
{
    store_backend *be = NULL;
    ASSERT_OK(open_engine_status(v, dir, &be));
    return be;
}

static inline int variant_sealed(int v)
{
    return v >= V_COUNT_ENGINES;
}

/* A fresh directory under the test's temporary one. */
static inline void fresh_dir(char *buf, size_t n, int v, const char *name)
{
    snprintf(buf, n, "%s/%s-%d", test_tmpdir(), name, v);
    char cmd[1200];
    snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", buf);
    ASSERT(system(cmd) == 0);
    if (v % V_COUNT_ENGINES == V_POSTGRES) {
        char schema[40];
        pg_test_schema_name(schema, sizeof(schema), buf);
        pg_test_fresh_schema(schema);
    }
}

/* The sealer of variant v (with its own test keyring), or NULL. */
static inline sealer *variant_sealer(int v)
{
    if (!variant_sealed(v))
        return NULL;
    keyring *k = test_keyring();
    sealer *seal = test_sealer(k);
    keyring_release(k);
    return seal;
}

/* Asserts that `key` reads back as `value`, at revision `rev` unless rev
 * is 0. */
static inline void expect_state(state_store *s, const char *key, uint64_t rev, const char *value)
{
    bytes out = BYTES_INIT;
    uint64_t got = 0;
    ASSERT_OK(state_store_get(s, (const uint8_t *)key, strlen(key), &got, &out));
    if (rev)
        ASSERT_EQ_U64(got, rev);
    ASSERT_MEM_EQ(out.data, out.len, value, strlen(value));
    bytes_free(&out);
}

/* What a replay or a by-tag read handed out, in order (up to 256 events;
 * the read stops there): sequence number, timestamp, ordering, payload and
 * pid (as text, cut at 31 and 15 bytes), and whether it had tags. */
typedef struct events_seen {
    uint64_t seqs[256];
    uint64_t ts[256];
    uint64_t ordering[256];
    char payload[256][32];
    char pid[256][16];
    int tags[256];
    int n;
} events_seen;

static inline int record_event(void *ctx, const store_event *ev)
{
    events_seen *s = ctx;
    if (s->n >= 256)
        return 1;
    s->seqs[s->n] = ev->seq;
    s->ts[s->n] = ev->timestamp_ms;
    s->ordering[s->n] = ev->ordering;
    size_t n = ev->payload_len < 31 ? ev->payload_len : 31;
    memcpy(s->payload[s->n], ev->payload, n);
    s->payload[s->n][n] = 0;
    n = ev->pid_len < 15 ? ev->pid_len : 15;
    memcpy(s->pid[s->n], ev->pid, n);
    s->pid[s->n][n] = 0;
    s->tags[s->n] = ev->tags_len > 0;
    s->n++;
    return 0;
}

/* Asserts that the newest snapshot of `pid` is at sequence number `seq`. */
static inline void expect_latest_snapshot(journal *j, const char *pid, uint64_t seq)
{
    bytes b = BYTES_INIT;
    uint64_t got = 0;
    ASSERT_OK(journal_snapshot_load(j, (const uint8_t *)pid, strlen(pid), NULL, &got, NULL, &b));
    ASSERT_EQ_U64(got, seq);
    bytes_free(&b);
}

static inline journal *open_journal_variant(int v, const char *dir, uint64_t snapshot_keep)
{
    store_backend *be = open_engine(v, dir);
    journal_options o = journal_options_default();
    o.snapshot_keep = snapshot_keep;
    journal *j;
    ASSERT_OK(journal_open_backend(&j, be, variant_sealer(v), &o));
    return j;
}

#endif
