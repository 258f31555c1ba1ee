/*
 * `ddata inspect PATH`: what a store holds, for people debugging a node.
 *
 * Without --pid/--key it lists the journal's persistence ids (highest
 * sequence number, event count, newest snapshot) and the state store's
 * keys with their revisions. --pid dumps that pid's events and newest
 * snapshot; --key dumps one state record, decoded as a CRDT when it is a
 * durable replica key (record.h). Everything is read through the public
 * store API (dd_journal_pids, dd_state_store_keys, ...), so every
 * backend lists the same way and sealed stores open with --key-file
 * exactly as a node would.
 *
 * Output is one canonical JSON object per line with --json (built with
 * cJSON, json_out.h), else text. Options: one table (cli_options.h).
 * A missing file, a file that is not a store, a wrong key and a damaged
 * record each get their own message saying what to try.
 *
 * The store is opened read-only (dd_store_options.read_only): inspecting
 * never creates, migrates, locks or writes anything, and a path that holds
 * no store is refused with exit code 2 ("not a ddata store"). Exit codes
 * are one rule: 0 found, 1 a --pid or --key that is not there, sealed data
 * without --key-file, or a read error; 2 a usage error or not a store.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli_options.h"
#include "commands.h"
#include "ddata.h"
#include "json_out.h"
#include "open_store.h"
#include "record.h"

typedef struct inspect_opts {
    const char *path;
    const char *key_file;
    uint32_t key_id;
    const char *pid;
    const char *key;
    int json;
    uint64_t max_events;
} inspect_opts;

enum { OPT_PID, OPT_KEY, OPT_KEY_FILE, OPT_KEY_ID, OPT_MAX, OPT_JSON };

static const cli_option inspect_options[] = {
    [OPT_PID] = {"pid", "P", "dump the events and the newest snapshot of pid P"},
    [OPT_KEY] = {"key", "K", "dump state key K (a replica's durable key as its CRDT)"},
    [OPT_KEY_FILE] = {"key-file", "FILE", "key of a sealed store: 32 bytes, raw or 64 hex digits"},
    [OPT_KEY_ID] = {"key-id", "N", "the id that key was added with (default 1)"},
    [OPT_MAX] = {"max", "N", "dump at most N events (default 1000)"},
    [OPT_JSON] = {"json", NULL, "one canonical JSON object per line"},
};

static const cli_spec inspect_spec = {
    "inspect",
    "usage: ddata inspect PATH [options]\n"
    "\n"
    "Lists what a store (a SQLite file, an fs-backend directory or a\n"
    "postgresql:// URI) holds:\n"
    "persistence ids with their sequence numbers and snapshots, and state keys\n"
    "with their revisions.\n"
    "\n"
    "options:\n",
    16,
    inspect_options,
    CLI_COUNT(inspect_options),
    NULL,
};

void cmd_inspect_help(void)
{
    cli_help(&inspect_spec);
}

static int open_stores(const inspect_opts *o, dd_journal **j, dd_state_store **st)
{
    return tool_open_store("inspect", o->path, o->key_file, o->key_id, 1, j, st);
}

static void explain_read_error(const char *what, int rc, const inspect_opts *o)
{
    const char *hint = "";
    if (rc == DD_ECRYPTO)
        hint = o->key_file ? " (wrong key file or --key-id?)"
                           : " (the store is sealed: give --key-file)";
    else if (rc == DD_ECORRUPT)
        hint = o->key_file ? " (damaged, or the store is not sealed: try without --key-file)"
                           : " (the record is damaged)";
    fprintf(stderr, "ddata inspect: %s: %s%s\n", what, dd_error_last()->message, hint);
}

static int print_json(cJSON *line)
{
    if (json_print_line(stdout, line) == 0)
        return 0;
    fprintf(stderr, "ddata inspect: out of memory while printing JSON\n");
    return 1;
}

static int dump_pid(const inspect_opts *o, dd_journal *j)
{
    const uint8_t *pid = (const uint8_t *)o->pid;
    size_t pid_len = strlen(o->pid);
    uint64_t highest = 0;
    int rc = dd_journal_highest_seq(&highest, j, pid, pid_len);
    if (rc != DD_OK) {
        explain_read_error("highest sequence number", rc, o);
        return 1;
    }
    dd_journal_cursor *cur = NULL;
    rc = dd_journal_replay(&cur, j, pid, pid_len, 1, UINT64_MAX, o->max_events);
    if (rc != DD_OK) {
        explain_read_error("replay", rc, o);
        return 1;
    }
    dd_journal_event ev;
    uint64_t events = 0;
    while ((rc = dd_journal_cursor_next(&ev, cur)) == DD_OK) {
        if (!o->key_file && json_is_sealed(ev.payload, ev.len)) {
            fprintf(stderr,
                    "ddata inspect: pid '%s' is sealed; pass --key-file (and --key-id "
                    "if it is not 1)\n",
                    o->pid);
            dd_journal_cursor_close(cur);
            return 1;
        }
        events++;
        if (o->json) {
            if (print_json(json_wrap("event", json_event_item(&ev))) != 0) {
                dd_journal_cursor_close(cur);
                return 1;
            }
        } else {
            printf("event %llu at %llu ms: ", (unsigned long long)ev.seq,
                   (unsigned long long)ev.timestamp_ms);
            json_put_bytes(stdout, ev.payload, ev.len);
            printf("\n");
        }
    }
    dd_journal_cursor_close(cur);
    if (rc != DD_EDONE) {
        explain_read_error("reading events", rc, o);
        return 1;
    }
    dd_buf snap = DD_BUF_INIT;
    uint64_t seq = 0, ts = 0;
    rc = dd_snapshot_load(&snap, &seq, &ts, j, pid, pid_len, NULL);
    if (rc == DD_OK && !o->key_file && json_is_sealed(snap.data, snap.len)) {
        fprintf(stderr, "ddata inspect: the snapshot of pid '%s' is sealed; pass --key-file\n",
                o->pid);
        dd_buf_free(&snap);
        return 1;
    }
    if (rc == DD_ENOTFOUND && !events && !highest) {
        fprintf(stderr, "ddata inspect: no persistence id '%s' (run without --pid to list them)\n",
                o->pid);
        return 1;
    }
    int status = 0;
    if (rc == DD_OK) {
        if (o->json) {
            cJSON *body = cJSON_CreateObject();
            int failed = json_add(body, "seq", json_u64_item(seq));
            failed |= json_add(body, "state", json_bytes_item(snap.data, snap.len));
            failed |= json_add(body, "timestamp_ms", json_u64_item(ts));
            status = print_json(json_wrap("snapshot", json_checked(body, failed)));
        } else {
            printf("snapshot at %llu (%llu ms): ", (unsigned long long)seq, (unsigned long long)ts);
            json_put_bytes(stdout, snap.data, snap.len);
            printf("\n");
        }
    } else if (rc != DD_ENOTFOUND) {
        explain_read_error("snapshot", rc, o);
        return 1;
    }
    dd_buf_free(&snap);
    if (!o->json && !status)
        printf("highest sequence number: %llu\n", (unsigned long long)highest);
    return status;
}

/* The --json line of a state record: {"key", "replica" or "state",
 * "revision"}; `js` is the CRDT's JSON when `r` decoded as a durable
 * record (NULL otherwise). */
static cJSON *key_line(const inspect_opts *o, uint64_t revision, const dd_buf *rec,
                       const durable_record *r, const dd_buf *js)
{
    cJSON *line = cJSON_CreateObject();
    int failed = json_add(line, "key", json_bytes_item((const uint8_t *)o->key, strlen(o->key)));
    if (r) {
        cJSON *replica = cJSON_CreateObject();
        int bad = json_add(replica, "changed_ms", json_u64_item(r->changed_ms));
        if (r->tombstone) {
            bad |= json_add(replica, "crdt", cJSON_CreateNull());
        } else {
            char *text = malloc(js->len + 1);
            if (text) {
                memcpy(text, js->data, js->len);
                text[js->len] = 0;
            }
            bad |= json_add(replica, "crdt", text ? cJSON_CreateRaw(text) : NULL);
            free(text);
        }
        bad |= json_add(replica, "tombstone", cJSON_CreateBool(r->tombstone));
        failed |= json_add(line, "replica", json_checked(replica, bad));
    } else {
        failed |= json_add(line, "state", json_bytes_item(rec->data, rec->len));
    }
    failed |= json_add(line, "revision", json_u64_item(revision));
    return json_checked(line, failed);
}

static int dump_key(const inspect_opts *o, dd_state_store *st)
{
    dd_buf rec = DD_BUF_INIT;
    uint64_t revision = 0;
    int rc = dd_state_store_get(&rec, &revision, st, (const uint8_t *)o->key, strlen(o->key));
    if (rc == DD_ENOTFOUND) {
        /* A replica's durable key K is the record dd/replica/K. */
        char record_key[4096];
        int n = snprintf(record_key, sizeof(record_key), "%s%s", RECORD_REPLICA_PREFIX, o->key);
        if (n > 0 && (size_t)n < sizeof(record_key))
            rc = dd_state_store_get(&rec, &revision, st, (const uint8_t *)record_key, (size_t)n);
    }
    if (rc == DD_ENOTFOUND) {
        fprintf(stderr, "ddata inspect: no state key '%s' (run without --key to list them)\n",
                o->key);
        return 1;
    }
    if (rc != DD_OK) {
        explain_read_error("reading the key", rc, o);
        return 1;
    }
    if (!o->key_file && json_is_sealed(rec.data, rec.len)) {
        fprintf(stderr,
                "ddata inspect: key '%s' is sealed; pass --key-file (and --key-id if it is "
                "not 1)\n",
                o->key);
        dd_buf_free(&rec);
        return 1;
    }
    durable_record r;
    dd_buf js = DD_BUF_INIT;
    int decoded = record_decode(&r, rec.data, rec.len) == DD_OK &&
                  (r.tombstone || dd_crdt_to_json(&js, r.value) == DD_OK);
    int status = 0;
    if (o->json) {
        status = print_json(key_line(o, revision, &rec, decoded ? &r : NULL, &js));
    } else {
        printf("key ");
        json_put_bytes(stdout, (const uint8_t *)o->key, strlen(o->key));
        if (decoded) {
            printf(" revision %llu: %s %.*s\n", (unsigned long long)revision,
                   r.tombstone ? "deleted" : "replica value", r.tombstone ? 0 : (int)js.len,
                   r.tombstone ? "" : (const char *)js.data);
        } else {
            printf(" revision %llu: ", (unsigned long long)revision);
            json_put_bytes(stdout, rec.data, rec.len);
            printf("\n");
        }
    }
    dd_crdt_free(r.value);
    dd_buf_free(&js);
    dd_buf_free(&rec);
    return status;
}

typedef int (*list_item_fn)(const inspect_opts *o, void *ctx, const dd_journal_event *ev,
                            int first);

/* Runs `item` on every record of `cur` (`opened`: the status that opened
 * it) and, in text, says `none` when there was none; a failed open or read
 * is explained naming `what`. Closes cur. */
static int list_each(const inspect_opts *o, int opened, dd_journal_cursor *cur, const char *what,
                     const char *none, list_item_fn item, void *ctx)
{
    if (opened != DD_OK) {
        explain_read_error(what, opened, o);
        return 1;
    }
    dd_journal_event ev;
    int rc, n = 0, status = 0;
    while (!status && (rc = dd_journal_cursor_next(&ev, cur)) == DD_OK)
        status = item(o, ctx, &ev, n++ == 0);
    dd_journal_cursor_close(cur);
    if (status)
        return status;
    if (rc != DD_EDONE) {
        explain_read_error(what, rc, o);
        return 1;
    }
    if (!o->json && !n)
        printf("%s\n", none);
    return 0;
}

static int pid_row(const inspect_opts *o, void *ctx, const dd_journal_event *ev, int first)
{
    dd_journal *j = ctx;
    uint64_t highest = 0, snap_seq = 0;
    dd_journal_highest_seq(&highest, j, ev->pid, ev->pid_len);
    dd_buf snap = DD_BUF_INIT;
    int has_snap = dd_snapshot_load(&snap, &snap_seq, NULL, j, ev->pid, ev->pid_len, NULL) == DD_OK;
    dd_buf_free(&snap);
    if (o->json) {
        cJSON *line = cJSON_CreateObject();
        int failed = json_add(line, "pid", json_bytes_item(ev->pid, ev->pid_len));
        failed |= json_add(line, "highest_seq", json_u64_item(highest));
        failed |=
            json_add(line, "snapshot_seq", has_snap ? json_u64_item(snap_seq) : cJSON_CreateNull());
        return print_json(json_checked(line, failed));
    }
    if (first)
        printf("%-32s %12s %12s\n", "persistence id", "highest seq", "snapshot at");
    printf("%-32.*s %12llu ", (int)ev->pid_len, (const char *)ev->pid, (unsigned long long)highest);
    if (has_snap)
        printf("%12llu\n", (unsigned long long)snap_seq);
    else
        printf("%12s\n", "-");
    return 0;
}

static int list_pids(const inspect_opts *o, dd_journal *j)
{
    dd_journal_cursor *cur = NULL;
    int opened = dd_journal_pids(&cur, j, NULL, 0, UINT64_MAX);
    return list_each(o, opened, cur, "listing persistence ids", "no persistence ids", pid_row, j);
}

static int key_row(const inspect_opts *o, void *ctx, const dd_journal_event *ev, int first)
{
    (void)ctx;
    if (o->json) {
        cJSON *line = cJSON_CreateObject();
        int failed = json_add(line, "key", json_bytes_item(ev->pid, ev->pid_len));
        failed |= json_add(line, "revision", json_u64_item(ev->seq));
        return print_json(json_checked(line, failed));
    }
    if (first)
        printf("%-32s %12s\n", "state key", "revision");
    printf("%-32.*s %12llu\n", (int)ev->pid_len, (const char *)ev->pid,
           (unsigned long long)ev->seq);
    return 0;
}

static int list_state_keys(const inspect_opts *o, dd_state_store *st)
{
    dd_journal_cursor *cur = NULL;
    int opened = dd_state_store_keys(&cur, st, NULL, 0);
    return list_each(o, opened, cur, "listing state keys", "no state keys", key_row, NULL);
}

static int on_option(void *ctx, int index, const char *v)
{
    inspect_opts *o = ctx;
    switch (index) {
    case -1: return cli_path_operand(&inspect_spec, &o->path, v);
    case OPT_PID: o->pid = v; break;
    case OPT_KEY: o->key = v; break;
    case OPT_KEY_FILE: o->key_file = v; break;
    case OPT_KEY_ID: o->key_id = (uint32_t)strtoul(v, NULL, 10); break;
    case OPT_MAX: o->max_events = strtoull(v, NULL, 10); break;
    case OPT_JSON: o->json = 1; break;
    default: return 2;
    }
    return 0;
}

int cmd_inspect(int argc, char **argv)
{
    inspect_opts o;
    memset(&o, 0, sizeof(o));
    o.key_id = 1;
    o.max_events = 1000;
    int status = cli_parse(&inspect_spec, argc, argv, on_option, &o);
    if (status || (status = cli_path_required(&inspect_spec, o.path)) != 0)
        return status;
    dd_journal *j = NULL;
    dd_state_store *st = NULL;
    status = open_stores(&o, &j, &st);
    if (status == 0) {
        if (o.pid)
            status = dump_pid(&o, j);
        if (o.key && status == 0)
            status = dump_key(&o, st);
        if (!o.pid && !o.key) {
            status = list_pids(&o, j);
            if (status == 0)
                status = list_state_keys(&o, st);
        }
    }
    dd_state_store_close(st);
    dd_journal_close(j);
    return status;
}
