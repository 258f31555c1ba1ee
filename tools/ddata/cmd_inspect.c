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
 * Output is one canonical JSON object per line with --json, else text.
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

void cmd_inspect_help(void)
{
    printf("usage: ddata inspect PATH [options]\n"
           "\n"
           "Lists what a store (a SQLite file, an fs-backend directory or a\n"
           "postgresql:// URI) holds:\n"
           "persistence ids with their sequence numbers and snapshots, and state keys\n"
           "with their revisions.\n"
           "\n"
           "options:\n"
           "  --pid P          dump the events and the newest snapshot of pid P\n"
           "  --key K          dump state key K (a replica's durable key as its CRDT)\n"
           "  --key-file FILE  key of a sealed store: 32 bytes, raw or 64 hex digits\n"
           "  --key-id N       the id that key was added with (default 1)\n"
           "  --max N          dump at most N events (default 1000)\n"
           "  --json           one canonical JSON object per line\n");
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
    if (rc == DD_OK) {
        if (o->json) {
            printf("{\"snapshot\":{\"seq\":%llu,\"state\":", (unsigned long long)seq);
            json_put_bytes(stdout, snap.data, snap.len);
            printf(",\"timestamp_ms\":%llu}}\n", (unsigned long long)ts);
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
    if (!o->json)
        printf("highest sequence number: %llu\n", (unsigned long long)highest);
    return 0;
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
    printf(o->json ? "{\"key\":" : "key ");
    json_put_bytes(stdout, (const uint8_t *)o->key, strlen(o->key));
    if (record_decode(&r, rec.data, rec.len) == DD_OK &&
        (r.tombstone || dd_crdt_to_json(&js, r.value) == DD_OK)) {
        if (o->json)
            printf(",\"replica\":{\"changed_ms\":%llu,\"crdt\":%.*s,\"tombstone\":%s}",
                   (unsigned long long)r.changed_ms, r.tombstone ? 4 : (int)js.len,
                   r.tombstone ? "null" : (const char *)js.data, r.tombstone ? "true" : "false");
        else
            printf(" revision %llu: %s %.*s\n", (unsigned long long)revision,
                   r.tombstone ? "deleted" : "replica value", r.tombstone ? 0 : (int)js.len,
                   r.tombstone ? "" : (const char *)js.data);
    } else if (o->json) {
        printf(",\"state\":");
        json_put_bytes(stdout, rec.data, rec.len);
    } else {
        printf(" revision %llu: ", (unsigned long long)revision);
        json_put_bytes(stdout, rec.data, rec.len);
        printf("\n");
    }
    if (o->json)
        printf(",\"revision\":%llu}\n", (unsigned long long)revision);
    dd_crdt_free(r.value);
    dd_buf_free(&js);
    dd_buf_free(&rec);
    return 0;
}

static int list_pids(const inspect_opts *o, dd_journal *j)
{
    dd_journal_cursor *cur = NULL;
    int rc = dd_journal_pids(&cur, j, NULL, 0, UINT64_MAX);
    if (rc != DD_OK) {
        explain_read_error("listing persistence ids", rc, o);
        return 1;
    }
    dd_journal_event ev;
    int n = 0;
    while ((rc = dd_journal_cursor_next(&ev, cur)) == DD_OK) {
        uint64_t highest = 0, snap_seq = 0;
        dd_journal_highest_seq(&highest, j, ev.pid, ev.pid_len);
        dd_buf snap = DD_BUF_INIT;
        int has_snap =
            dd_snapshot_load(&snap, &snap_seq, NULL, j, ev.pid, ev.pid_len, NULL) == DD_OK;
        dd_buf_free(&snap);
        if (o->json) {
            printf("{\"pid\":");
            json_put_bytes(stdout, ev.pid, ev.pid_len);
            printf(",\"highest_seq\":%llu,\"snapshot_seq\":", (unsigned long long)highest);
            if (has_snap)
                printf("%llu}\n", (unsigned long long)snap_seq);
            else
                printf("null}\n");
        } else {
            if (!n)
                printf("%-32s %12s %12s\n", "persistence id", "highest seq", "snapshot at");
            printf("%-32.*s %12llu ", (int)ev.pid_len, (const char *)ev.pid,
                   (unsigned long long)highest);
            if (has_snap)
                printf("%12llu\n", (unsigned long long)snap_seq);
            else
                printf("%12s\n", "-");
        }
        n++;
    }
    dd_journal_cursor_close(cur);
    if (rc != DD_EDONE) {
        explain_read_error("listing persistence ids", rc, o);
        return 1;
    }
    if (!o->json && !n)
        printf("no persistence ids\n");
    return 0;
}

static int list_state_keys(const inspect_opts *o, dd_state_store *st)
{
    dd_journal_cursor *cur = NULL;
    int rc = dd_state_store_keys(&cur, st, NULL, 0);
    if (rc != DD_OK) {
        explain_read_error("listing state keys", rc, o);
        return 1;
    }
    dd_journal_event ev;
    int n = 0;
    while ((rc = dd_journal_cursor_next(&ev, cur)) == DD_OK) {
        if (o->json) {
            printf("{\"key\":");
            json_put_bytes(stdout, ev.pid, ev.pid_len);
            printf(",\"revision\":%llu}\n", (unsigned long long)ev.seq);
        } else {
            if (!n)
                printf("%-32s %12s\n", "state key", "revision");
            printf("%-32.*s %12llu\n", (int)ev.pid_len, (const char *)ev.pid,
                   (unsigned long long)ev.seq);
        }
        n++;
    }
    dd_journal_cursor_close(cur);
    if (rc != DD_EDONE) {
        explain_read_error("listing state keys", rc, o);
        return 1;
    }
    if (!o->json && !n)
        printf("no state keys\n");
    return 0;
}

int cmd_inspect(int argc, char **argv)
{
    inspect_opts o;
    memset(&o, 0, sizeof(o));
    o.key_id = 1;
    o.max_events = 1000;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--json") == 0) {
            o.json = 1;
            continue;
        }
        if (a[0] != '-') {
            if (o.path) {
                fprintf(stderr, "ddata inspect: one PATH only; see `ddata inspect --help`\n");
                return 2;
            }
            o.path = a;
            continue;
        }
        if (!v) {
            fprintf(stderr,
                    "ddata inspect: '%s' needs a value or is unknown; see `ddata inspect "
                    "--help`\n",
                    a);
            return 2;
        }
        if (strcmp(a, "--pid") == 0)
            o.pid = v;
        else if (strcmp(a, "--key") == 0)
            o.key = v;
        else if (strcmp(a, "--key-file") == 0)
            o.key_file = v;
        else if (strcmp(a, "--key-id") == 0)
            o.key_id = (uint32_t)strtoul(v, NULL, 10);
        else if (strcmp(a, "--max") == 0)
            o.max_events = strtoull(v, NULL, 10);
        else {
            fprintf(stderr, "ddata inspect: unknown option '%s'; see `ddata inspect --help`\n", a);
            return 2;
        }
        i++;
    }
    if (!o.path) {
        fprintf(stderr, "ddata inspect: which store? `ddata inspect PATH` (see --help)\n");
        return 2;
    }
    dd_journal *j = NULL;
    dd_state_store *st = NULL;
    int status = open_stores(&o, &j, &st);
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
