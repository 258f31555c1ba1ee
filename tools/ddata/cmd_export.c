/*
 * `ddata export PATH`: every record of a store as plain JSON lines, for
 * moving data out of a sealed store, auditing or diffing two stores.
 *
 * One object per line, in a fixed order: for each persistence id (byte
 * order) its events ({"event":{...}}, by sequence number) then its
 * snapshots, newest first ({"snapshot":{...}}); then every state record
 * ({"state":{"key","revision","value"}}, key order), built with cJSON;
 * byte strings follow json_out.h. The store is opened read-only; a sealed store needs
 * --key-file (and --key-id), and without it the command stops at the
 * first sealed record with "sealed; pass --key-file" rather than print
 * ciphertext. Exit codes follow open_store.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_options.h"
#include "commands.h"
#include "ddata.h"
#include "json_out.h"
#include "open_store.h"

enum { OPT_KEY_FILE, OPT_KEY_ID };

static const cli_option export_options[] = {
    [OPT_KEY_FILE] = {"key-file", "FILE", "key of a sealed store: 32 bytes, raw or 64 hex digits"},
    [OPT_KEY_ID] = {"key-id", "N", "the id that key was added with (default 1)"},
};

static const cli_spec export_spec = {
    "export",
    "usage: ddata export PATH [--key-file FILE] [--key-id N]\n"
    "\n"
    "Writes every record of a store (a SQLite file or an fs directory) to standard\n"
    "output as JSON lines: events and snapshots per persistence id, then state\n"
    "records. A sealed store is decrypted with --key-file (32 bytes, raw or 64 hex\n"
    "digits) and --key-id (default 1). The store is opened read-only.\n"
    "\n"
    "options:\n",
    16,
    export_options,
    CLI_COUNT(export_options),
    NULL,
};

void cmd_export_help(void)
{
    cli_help(&export_spec);
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

static int print_json(cJSON *line)
{
    if (json_print_line(stdout, line) == 0)
        return 0;
    fprintf(stderr, "ddata export: out of memory while printing JSON\n");
    return 1;
}

/* What every record of the export needs: the journal (for a pid's events
 * and snapshots) and the key file (NULL: sealed records stop it). */
typedef struct export_ctx {
    dd_journal *j;
    const char *key_file;
} export_ctx;

typedef int (*export_item_fn)(const export_ctx *x, const dd_journal_event *ev);

/* Runs `item` on every record of `cur` (`opened`: the status that opened
 * it) until one fails; a failed open or read is reported naming
 * `open_what` or `read_what`. Closes cur. */
static int export_each(int opened, dd_journal_cursor *cur, const char *open_what,
                       const char *read_what, export_item_fn item, const export_ctx *x)
{
    if (opened != DD_OK)
        return read_failed(open_what);
    dd_journal_event ev;
    int rc, status = 0;
    while (!status && (rc = dd_journal_cursor_next(&ev, cur)) == DD_OK)
        status = item(x, &ev);
    if (!status && rc != DD_EDONE)
        status = read_failed(read_what);
    dd_journal_cursor_close(cur);
    return status;
}

static int export_event(const export_ctx *x, const dd_journal_event *ev)
{
    int status = sealed_stop(x->key_file, ev->payload, ev->len, "an event");
    return status ? status : print_json(json_wrap("event", json_event_item(ev)));
}

static int export_snapshots(dd_journal *j, const dd_journal_event *p, const char *key_file)
{
    dd_snapshot_criteria c = DD_SNAPSHOT_CRITERIA_INIT;
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
            cJSON *body = cJSON_CreateObject();
            int failed = json_add(body, "pid", json_bytes_item(p->pid, p->pid_len));
            failed |= json_add(body, "seq", json_u64_item(seq));
            failed |= json_add(body, "state", json_bytes_item(snap.data, snap.len));
            failed |= json_add(body, "timestamp_ms", json_u64_item(ts));
            status = print_json(json_wrap("snapshot", json_checked(body, failed)));
        }
        dd_buf_free(&snap);
        if (status || seq == 0)
            return status;
        c.max_seq = seq - 1;
    }
}

/* A persistence id: its events, then its snapshots. */
static int export_pid(const export_ctx *x, const dd_journal_event *p)
{
    dd_journal_cursor *cur = NULL;
    int opened = dd_journal_replay(&cur, x->j, p->pid, p->pid_len, 1, UINT64_MAX, UINT64_MAX);
    int status = export_each(opened, cur, "replay", "reading events", export_event, x);
    return status ? status : export_snapshots(x->j, p, x->key_file);
}

static int export_journal(const export_ctx *x)
{
    dd_journal_cursor *cur = NULL;
    int opened = dd_journal_pids(&cur, x->j, NULL, 0, UINT64_MAX);
    return export_each(opened, cur, "listing persistence ids", "listing persistence ids",
                       export_pid, x);
}

static int export_record(const export_ctx *x, const dd_journal_event *ev)
{
    int status = sealed_stop(x->key_file, ev->payload, ev->len, "a state record");
    if (status)
        return status;
    cJSON *body = cJSON_CreateObject();
    int failed = json_add(body, "key", json_bytes_item(ev->pid, ev->pid_len));
    failed |= json_add(body, "revision", json_u64_item(ev->seq));
    failed |= json_add(body, "value", json_bytes_item(ev->payload, ev->len));
    return print_json(json_wrap("state", json_checked(body, failed)));
}

static int export_state(dd_state_store *st, const export_ctx *x)
{
    dd_journal_cursor *cur = NULL;
    int opened = dd_state_store_range(&cur, st, NULL, 0, INT64_MAX);
    return export_each(opened, cur, "listing state records", "reading state records", export_record,
                       x);
}

typedef struct export_args {
    const char *path, *key_file;
    uint32_t key_id;
} export_args;

static int on_option(void *ctx, int index, const char *v)
{
    export_args *a = ctx;
    switch (index) {
    case -1: return cli_path_operand(&export_spec, &a->path, v);
    case OPT_KEY_FILE: a->key_file = v; break;
    case OPT_KEY_ID: a->key_id = (uint32_t)strtoul(v, NULL, 10); break;
    default: return 2;
    }
    return 0;
}

int cmd_export(int argc, char **argv)
{
    export_args a = {NULL, NULL, 1};
    int parsed = cli_parse(&export_spec, argc, argv, on_option, &a);
    if (parsed)
        return parsed;
    const char *path = a.path, *key_file = a.key_file;
    uint32_t key_id = a.key_id;
    int status = cli_path_required(&export_spec, path);
    if (status)
        return status;
    dd_journal *j = NULL;
    dd_state_store *st = NULL;
    status = tool_open_store("export", path, key_file, key_id, 1, &j, &st);
    export_ctx x = {j, key_file};
    if (!status)
        status = export_journal(&x);
    if (!status)
        status = export_state(st, &x);
    if (fflush(stdout) != 0 && !status) {
        fprintf(stderr, "ddata export: writing the output failed\n");
        status = 1;
    }
    dd_state_store_close(st);
    dd_journal_close(j);
    return status;
}
