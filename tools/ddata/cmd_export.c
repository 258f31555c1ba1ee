/*
 * `ddata export PATH`: every record of a store as plain JSON lines, for
 * moving data out of a sealed store, auditing or diffing two stores.
 *
 * One object per line, in a fixed order: for each persistence id (byte
 * order) its events ({"event":{...}}, by sequence number) then its
 * snapshots, newest first ({"snapshot":{...}}); then every state record
 * ({"state":{"key","revision","value"}}, key order). Byte strings follow
 * json_out.h. The store is opened read-only; a sealed store needs
 * --key-file (and --key-id), and without it the command stops at the
 * first sealed record with "sealed; pass --key-file" rather than print
 * ciphertext. Exit codes follow open_store.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "ddata.h"
#include "json_out.h"
#include "open_store.h"

void cmd_export_help(void)
{
    printf("usage: ddata export PATH [--key-file FILE] [--key-id N]\n"
           "\n"
           "Writes every record of a store (a SQLite file or an fs directory) to standard\n"
           "output as JSON lines: events and snapshots per persistence id, then state\n"
           "records. A sealed store is decrypted with --key-file (32 bytes, raw or 64 hex\n"
           "digits) and --key-id (default 1). The store is opened read-only.\n");
}

static int sealed_stop(const char *key_file, const uint8_t *data, size_t len, const char *what)
{
    if (key_file || !json_is_sealed(data, len))
        return 0;
    fprintf(stderr, "ddata export: %s is sealed; pass --key-file (and --key-id if it is not 1)\n",
            what);
    return 1;
}

static int read_failed(const char *what)
{
    fprintf(stderr, "ddata export: %s: %s\n", what, dd_error_last()->message);
    return 1;
}

static int export_events(dd_journal *j, const dd_journal_event *p, const char *key_file)
{
    dd_journal_cursor *cur = NULL;
    if (dd_journal_replay(&cur, j, p->pid, p->pid_len, 1, UINT64_MAX, UINT64_MAX) != DD_OK)
        return read_failed("replay");
    dd_journal_event ev;
    int rc, status = 0;
    while ((rc = dd_journal_cursor_next(&ev, cur)) == DD_OK) {
        if ((status = sealed_stop(key_file, ev.payload, ev.len, "an event")) != 0)
            break;
        printf("{\"event\":{\"ordering\":%llu,\"payload\":", (unsigned long long)ev.ordering);
        json_put_bytes(stdout, ev.payload, ev.len);
        printf(",\"pid\":");
        json_put_bytes(stdout, ev.pid, ev.pid_len);
        printf(",\"seq\":%llu,\"tags\":[", (unsigned long long)ev.seq);
        for (size_t i = 0; i < ev.tag_count; i++) {
            if (i)
                printf(",");
            json_put_bytes(stdout, (const uint8_t *)ev.tags[i], strlen(ev.tags[i]));
        }
        printf("],\"timestamp_ms\":%llu}}\n", (unsigned long long)ev.timestamp_ms);
    }
    if (!status && rc != DD_EDONE)
        status = read_failed("reading events");
    dd_journal_cursor_close(cur);
    return status;
}

static int export_snapshots(dd_journal *j, const dd_journal_event *p, const char *key_file)
{
    dd_snapshot_criteria c;
    memset(&c, 0, sizeof(c));
    c.version = DD_SNAPSHOT_CRITERIA_VERSION;
    c.max_seq = UINT64_MAX;
    c.max_timestamp_ms = UINT64_MAX;
    for (;;) {
        dd_buf snap = DD_BUF_INIT;
        uint64_t seq = 0, ts = 0;
        int rc = dd_snapshot_load(&snap, &seq, &ts, j, p->pid, p->pid_len, &c);
        if (rc == DD_ENOTFOUND)
            return 0;
        if (rc != DD_OK)
            return read_failed("snapshot");
        int status = sealed_stop(key_file, snap.data, snap.len, "a snapshot");
        if (!status) {
            printf("{\"snapshot\":{\"pid\":");
            json_put_bytes(stdout, p->pid, p->pid_len);
            printf(",\"seq\":%llu,\"state\":", (unsigned long long)seq);
            json_put_bytes(stdout, snap.data, snap.len);
            printf(",\"timestamp_ms\":%llu}}\n", (unsigned long long)ts);
        }
        dd_buf_free(&snap);
        if (status || seq == 0)
            return status;
        c.max_seq = seq - 1;
    }
}

static int export_journal(dd_journal *j, const char *key_file)
{
    dd_journal_cursor *cur = NULL;
    if (dd_journal_pids(&cur, j, NULL, 0, UINT64_MAX) != DD_OK)
        return read_failed("listing persistence ids");
    dd_journal_event ev;
    int rc, status = 0;
    while (!status && (rc = dd_journal_cursor_next(&ev, cur)) == DD_OK) {
        status = export_events(j, &ev, key_file);
        if (!status)
            status = export_snapshots(j, &ev, key_file);
    }
    if (!status && rc != DD_EDONE)
        status = read_failed("listing persistence ids");
    dd_journal_cursor_close(cur);
    return status;
}

static int export_state(dd_state_store *st, const char *key_file)
{
    dd_journal_cursor *cur = NULL;
    if (dd_state_store_range(&cur, st, NULL, 0, INT64_MAX) != DD_OK)
        return read_failed("listing state records");
    dd_journal_event ev;
    int rc, status = 0;
    while ((rc = dd_journal_cursor_next(&ev, cur)) == DD_OK) {
        if ((status = sealed_stop(key_file, ev.payload, ev.len, "a state record")) != 0)
            break;
        printf("{\"state\":{\"key\":");
        json_put_bytes(stdout, ev.pid, ev.pid_len);
        printf(",\"revision\":%llu,\"value\":", (unsigned long long)ev.seq);
        json_put_bytes(stdout, ev.payload, ev.len);
        printf("}}\n");
    }
    if (!status && rc != DD_EDONE)
        status = read_failed("reading state records");
    dd_journal_cursor_close(cur);
    return status;
}

int cmd_export(int argc, char **argv)
{
    const char *path = NULL, *key_file = NULL;
    uint32_t key_id = 1;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (a[0] != '-') {
            if (path) {
                fprintf(stderr, "ddata export: one PATH only; see `ddata export --help`\n");
                return 2;
            }
            path = a;
            continue;
        }
        if (v && strcmp(a, "--key-file") == 0)
            key_file = v;
        else if (v && strcmp(a, "--key-id") == 0)
            key_id = (uint32_t)strtoul(v, NULL, 10);
        else {
            fprintf(stderr, "ddata export: unknown option '%s'; see `ddata export --help`\n", a);
            return 2;
        }
        i++;
    }
    if (!path) {
        fprintf(stderr, "ddata export: which store? `ddata export PATH` (see --help)\n");
        return 2;
    }
    dd_journal *j = NULL;
    dd_state_store *st = NULL;
    int status = tool_open_store("export", path, key_file, key_id, 1, &j, &st);
    if (!status)
        status = export_journal(j, key_file);
    if (!status)
        status = export_state(st, key_file);
    if (fflush(stdout) != 0 && !status) {
        fprintf(stderr, "ddata export: writing the output failed\n");
        status = 1;
    }
    dd_state_store_close(st);
    dd_journal_close(j);
    return status;
}
