/*
 * The file-system engine's journal: one file per append (the commit
 * point), a meta file per pid that keeps the highest sequence number
 * through deletions, and a global ordering counter advanced before each
 * batch is written (a crash leaves a gap in orderings, never a reuse).
 * Layout and locking are described in fs_backend.c.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "store/binding.h"
#include "store/fs_io.h"
#include "store/journal.h"
#include "store/store.h"
#include "store/tags.h"
#include "util/alloc.h"
#include "util/error.h"
#include "util/status.h"

/* ---- journal ---------------------------------------------------------- */

typedef struct pid_meta {
    uint64_t highest, deleted_to;
} pid_meta;

/* Batch files of a pid directory, as first sequence numbers, ascending. */
static int list_batches(const char *dir, uint64_t **out, size_t *count)
{
    return fs_list_numbered(dir, 'b', false, out, count);
}

/* A pid directory without meta is new (meta is its first file) unless it
 * holds batches: then meta was lost, and with it the highest sequence
 * number and the delete-to mark. */
static int meta_missing(const char *dir, const char *path)
{
    uint64_t *firsts = NULL;
    size_t n = 0;
    int rc = list_batches(dir, &firsts, &n);
    free(firsts);
    if (rc == ST_OK && n)
        rc = error_set(ST_ECORRUPT,
                       "fs store: '%s' is missing but the journal has %zu batch files; the "
                       "highest sequence number is lost",
                       path, n);
    return rc;
}

static int read_meta(const char *dir, pid_meta *m)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/meta", dir);
    bytes b = BYTES_INIT;
    memset(m, 0, sizeof(*m));
    int rc = fs_read_file(path, &b);
    if (rc == ST_ENOTFOUND) {
        bytes_free(&b);
        return meta_missing(dir, path);
    }
    reader r;
    if (rc == ST_OK && (rc = fs_open_record(&b, "DDFM", path, &r)) == ST_OK) {
        size_t n;
        reader_blob(&r, STORE_MAX_KEY_BYTES, &n);
        m->highest = reader_u64(&r);
        m->deleted_to = reader_u64(&r);
        if (!reader_done(&r))
            rc = error_set(ST_ECORRUPT, "fs store: '%s' is malformed", path);
    }
    bytes_free(&b);
    return rc;
}

static int write_meta(fs_backend *f, const char *dir, const uint8_t *pid, size_t pid_len,
                      const pid_meta *m)
{
    bytes b = BYTES_INIT;
    bytes_put(&b, "DDFM\1", 5);
    bytes_put_blob(&b, pid, pid_len);
    bytes_put_u64(&b, m->highest);
    bytes_put_u64(&b, m->deleted_to);
    return fs_write_record(f, dir, "meta", &b);
}

typedef int (*batch_event_fn)(void *ctx, const store_event *ev);

/* Reads batch `first` of dir and calls fn for each event. ST_ENOTFOUND
 * (silent) when the file vanished (a concurrent deletion). */
static int read_batch(const char *dir, uint64_t first, const uint8_t *pid, size_t pid_len,
                      batch_event_fn fn, void *ctx, uint64_t *last)
{
    char path[4400];
    bytes b = BYTES_INIT;
    reader r;
    int version = FS_RECORD_VERSION;
    bytes binding = BYTES_INIT, legacy = BYTES_INIT;
    int path_len = snprintf(path, sizeof(path), "%s/b%020llu", dir, (unsigned long long)first);
    if (path_len < 0 || (size_t)path_len >= sizeof(path))
        return error_set(ST_ELIMIT, "fs store: batch path under '%.64s' is too long", dir);
    int rc = fs_read_file(path, &b);
    if (rc == ST_OK)
        rc = fs_open_versioned(&b, "DDFB", path, &r, &version);
    if (rc != ST_OK)
        goto done;
    size_t stored_pid_len;
    const uint8_t *stored_pid = reader_blob(&r, STORE_MAX_KEY_BYTES, &stored_pid_len);
    uint64_t n = reader_varint(&r);
    if (!reader_ok(&r) || n > JOURNAL_MAX_BATCH) {
        rc = error_set(ST_ECORRUPT, "fs store: '%s' is malformed", path);
        goto done;
    }
    for (uint64_t i = 0; i < n; i++) {
        store_event ev;
        ev.seq = reader_varint(&r);
        ev.timestamp_ms = reader_varint(&r);
        ev.ordering = reader_varint(&r);
        ev.payload = reader_blob(&r, FS_MAX_FILE_BYTES, &ev.payload_len);
        ev.tags = reader_blob(&r, FS_MAX_FILE_BYTES, &ev.tags_len);
        if (!reader_ok(&r)) {
            rc = error_set(ST_ECORRUPT, "fs store: '%s' is malformed", path);
            goto done;
        }
        if (!ev.tags_len)
            ev.tags = NULL;
        ev.pid = pid ? pid : stored_pid;
        ev.pid_len = pid ? pid_len : stored_pid_len;
        if (version < FS_RECORD_VERSION && fn) {
            store_bind_event(&binding, ev.pid, ev.pid_len, ev.seq, ev.timestamp_ms, ev.tags,
                             ev.tags_len);
            if ((rc = fs_legacy_payload(version, &binding, &ev.payload, &ev.payload_len,
                                        &legacy)) != ST_OK)
                goto done;
        }
        if (last)
            *last = ev.seq;
        if (fn && (rc = fn(ctx, &ev)) != 0)
            goto done;
    }
done:
    bytes_free(&b);
    bytes_free(&binding);
    bytes_free(&legacy);
    return rc;
}

static int pid_highest(const char *dir, const pid_meta *m, uint64_t *out)
{
    uint64_t *firsts;
    size_t n;
    int rc = list_batches(dir, &firsts, &n);
    *out = m->highest;
    if (rc == ST_OK && n) {
        uint64_t last = 0;
        rc = read_batch(dir, firsts[n - 1], NULL, 0, NULL, NULL, &last);
        if (rc == ST_ENOTFOUND)
            rc = ST_OK;
        if (last > *out)
            *out = last;
    }
    free(firsts);
    return rc;
}

/* The directory of pid's journal and its meta file. */
static int pid_dir_meta(store_backend *b, const uint8_t *pid, size_t pid_len, char *dir,
                        size_t dir_size, pid_meta *m)
{
    fs_path_of((fs_backend *)b, dir, dir_size, "journal", pid, pid_len);
    return read_meta(dir, m);
}

int fs_journal_highest(store_backend *b, const uint8_t *pid, size_t pid_len, uint64_t *out)
{
    char dir[4096];
    pid_meta m;
    int rc = pid_dir_meta(b, pid, pid_len, dir, sizeof(dir), &m);
    return rc == ST_OK ? pid_highest(dir, &m, out) : rc;
}

int fs_journal_deleted_to(store_backend *b, const uint8_t *pid, size_t pid_len, uint64_t *out)
{
    char dir[4096];
    pid_meta m;
    int rc = pid_dir_meta(b, pid, pid_len, dir, sizeof(dir), &m);
    *out = rc == ST_OK ? m.deleted_to : 0;
    return rc;
}

static int list_pid_dirs(fs_backend *f, char *area, size_t area_size, char ***names, size_t *n);

/* The counter is missing in a new store; in one with events it was lost,
 * and starting again from 0 would hand out orderings a projection has
 * already passed. */
static int counter_missing(fs_backend *f, const char *path)
{
    char area[4096];
    char **names;
    size_t n;
    int rc = list_pid_dirs(f, area, sizeof(area), &names, &n);
    for (size_t i = 0; rc == ST_OK && i < n; i++) {
        char dir[4200];
        snprintf(dir, sizeof(dir), "%s/%s", area, names[i]);
        uint64_t *firsts = NULL;
        size_t nb = 0;
        rc = list_batches(dir, &firsts, &nb);
        free(firsts);
        pid_meta m;
        if (rc == ST_OK && !nb)
            rc = read_meta(dir, &m);
        if (rc == ST_OK && (nb || m.highest))
            rc = error_set(ST_ECORRUPT,
                           "fs store: '%s' is missing but the journal has events; global "
                           "orderings cannot restart",
                           path);
    }
    fs_free_names(names, n);
    return rc;
}

static int read_counter(fs_backend *f, uint64_t *out)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/ordering", f->root);
    bytes b = BYTES_INIT;
    *out = 0;
    int rc = fs_read_file(path, &b);
    reader r;
    if (rc == ST_ENOTFOUND) {
        rc = counter_missing(f, path);
    } else if (rc == ST_OK && (rc = fs_open_record(&b, "DDFO", path, &r)) == ST_OK) {
        *out = reader_u64(&r);
        if (!reader_done(&r))
            rc = error_set(ST_ECORRUPT, "fs store: '%s' is malformed", path);
    }
    bytes_free(&b);
    return rc;
}

static int write_counter(fs_backend *f, uint64_t v)
{
    bytes b = BYTES_INIT;
    bytes_put(&b, "DDFO\1", 5);
    bytes_put_u64(&b, v);
    return fs_write_record(f, f->root, "ordering", &b);
}

int fs_journal_append(store_backend *b, const uint8_t *pid, size_t pid_len, uint64_t expected_seq,
                      const store_event *events, size_t count)
{
    fs_backend *f = (fs_backend *)b;
    char dir[4096], name[64];
    fs_path_of(f, dir, sizeof(dir), "journal", pid, pid_len);
    bytes batch = BYTES_INIT;
    int rc = fs_lock_all(f);
    if (rc != ST_OK)
        return rc;
    pid_meta m;
    uint64_t highest, ordering;
    if ((rc = read_meta(dir, &m)) != ST_OK || (rc = pid_highest(dir, &m, &highest)) != ST_OK)
        goto done;
    if (highest != expected_seq) {
        rc = error_set(ST_ECONFLICT, "journal '%.*s': expected sequence %llu, found %llu",
                       error_key_len(pid_len), (const char *)pid, (unsigned long long)expected_seq,
                       (unsigned long long)highest);
        goto done;
    }
    if ((rc = read_counter(f, &ordering)) != ST_OK)
        goto done;
    if (highest == 0 && m.highest == 0) {
        /* First write of this pid: meta first, so the pid is listed. */
        if ((rc = fs_mkdir_p(dir)) != ST_OK || (rc = write_meta(f, dir, pid, pid_len, &m)) != ST_OK)
            goto done;
    }
    if ((rc = write_counter(f, ordering + count)) != ST_OK)
        goto done;
    bytes_put(&batch, "DDFB\2", 5);
    bytes_put_blob(&batch, pid, pid_len);
    bytes_put_varint(&batch, count);
    for (size_t i = 0; i < count; i++) {
        bytes_put_varint(&batch, expected_seq + i + 1);
        bytes_put_varint(&batch, events[i].timestamp_ms);
        bytes_put_varint(&batch, ordering + i + 1);
        bytes_put_blob(&batch, events[i].payload, events[i].payload_len);
        bytes_put_blob(&batch, events[i].tags, events[i].tags ? events[i].tags_len : 0);
    }
    fs_put_crc(&batch);
    snprintf(name, sizeof(name), "b%020llu", (unsigned long long)(expected_seq + 1));
    if ((rc = fs_write_atomic(f, dir, name, &batch)) != ST_OK)
        goto done;
    /* The batch is the commit point; meta then records the new highest
     * apart from it, so losing the last batch file cannot lower the
     * highest sequence number and let the next append reuse it. */
    m.highest = expected_seq + count;
    rc = write_meta(f, dir, pid, pid_len, &m);
done:
    fs_unlock_all(f);
    bytes_free(&batch);
    return rc;
}

typedef struct range_ctx {
    uint64_t from, to, max, sent, deleted_to;
    store_event_fn fn;
    void *ctx;
    int past_range; /* the range ended the walk, not the callback */
} range_ctx;

static int range_event(void *c, const store_event *ev)
{
    range_ctx *r = c;
    if (ev->seq < r->from || ev->seq <= r->deleted_to)
        return 0;
    if (ev->seq > r->to || r->sent >= r->max) {
        r->past_range = 1;
        return 1;
    }
    r->sent++;
    return r->fn(r->ctx, ev);
}

int fs_journal_replay(store_backend *b, const uint8_t *pid, size_t pid_len, uint64_t from,
                      uint64_t to, uint64_t max, store_event_fn fn, void *ctx)
{
    fs_backend *f = (fs_backend *)b;
    char dir[4096];
    fs_path_of(f, dir, sizeof(dir), "journal", pid, pid_len);
    pid_meta m;
    uint64_t *firsts = NULL;
    size_t n;
    int rc = read_meta(dir, &m);
    if (rc == ST_OK)
        rc = list_batches(dir, &firsts, &n);
    if (rc != ST_OK)
        return rc;
    range_ctx r = {from, to, max, 0, m.deleted_to, fn, ctx, 0};
    for (size_t i = 0; i < n; i++) {
        if (i + 1 < n && firsts[i + 1] <= from)
            continue; /* the whole batch is before `from` */
        if (firsts[i] > to || r.sent >= max)
            break;
        rc = read_batch(dir, firsts[i], pid, pid_len, range_event, &r, NULL);
        if (rc == ST_ENOTFOUND) {
            rc = ST_OK;
            continue;
        }
        if (rc != ST_OK)
            break;
    }
    free(firsts);
    if (r.past_range)
        rc = ST_OK;
    return rc;
}

int fs_journal_delete_to(store_backend *b, const uint8_t *pid, size_t pid_len, uint64_t to)
{
    fs_backend *f = (fs_backend *)b;
    char dir[4096];
    fs_path_of(f, dir, sizeof(dir), "journal", pid, pid_len);
    int rc = fs_lock_all(f);
    if (rc != ST_OK)
        return rc;
    pid_meta m;
    uint64_t *firsts = NULL;
    size_t n = 0;
    uint64_t highest;
    if ((rc = read_meta(dir, &m)) != ST_OK || (rc = pid_highest(dir, &m, &highest)) != ST_OK ||
        (rc = list_batches(dir, &firsts, &n)) != ST_OK)
        goto done;
    if (to > highest)
        to = highest;
    m.highest = highest;
    if (to > m.deleted_to)
        m.deleted_to = to;
    if ((rc = write_meta(f, dir, pid, pid_len, &m)) != ST_OK)
        goto done;
    /* A batch is removed once every event in it is deleted, i.e. when the
     * next batch starts at or before to + 1. */
    for (size_t i = 0; i < n; i++) {
        uint64_t next_first = i + 1 < n ? firsts[i + 1] : highest + 1;
        if (next_first - 1 > m.deleted_to)
            break;
        char path[4200];
        snprintf(path, sizeof(path), "%s/b%020llu", dir, (unsigned long long)firsts[i]);
        unlink(path);
    }
    rc = fs_fsync_dir(f, dir);
done:
    fs_unlock_all(f);
    free(firsts);
    return rc;
}

/* The pid directories of the journal area (`area` receives its path). */
static int list_pid_dirs(fs_backend *f, char *area, size_t area_size, char ***names, size_t *n)
{
    snprintf(area, area_size, "%s/journal", f->root);
    return fs_list_names(area, names, n);
}

int fs_journal_pids(store_backend *b, const uint8_t *after, size_t after_len, uint64_t limit,
                    store_pid_fn fn, void *ctx)
{
    fs_backend *f = (fs_backend *)b;
    char area[4096];
    char **names;
    size_t n;
    int rc = list_pid_dirs(f, area, sizeof(area), &names, &n);
    id_item *items = n ? calloc(n, sizeof(*items)) : NULL;
    size_t got = 0;
    if (rc == ST_OK && n && !items)
        rc = error_oom();
    for (size_t i = 0; rc == ST_OK && i < n; i++) {
        char path[4200];
        snprintf(path, sizeof(path), "%s/%s/meta", area, names[i]);
        bytes buf = BYTES_INIT;
        reader r;
        int frc = fs_read_file(path, &buf);
        if (frc == ST_ENOTFOUND) {
            char dir[4200];
            snprintf(dir, sizeof(dir), "%s/%s", area, names[i]);
            frc = meta_missing(dir, path);
            frc = frc == ST_OK ? ST_ENOTFOUND : frc;
        }
        if (frc == ST_OK && (frc = fs_open_record(&buf, "DDFM", path, &r)) == ST_OK) {
            size_t len;
            const uint8_t *pid = reader_blob(&r, STORE_MAX_KEY_BYTES, &len);
            if (!reader_ok(&r))
                frc = error_set(ST_ECORRUPT, "fs store: '%s' is malformed", path);
            else if (!(items[got].id = fs_dup_bytes(pid, len)))
                frc = error_oom();
            else
                items[got++].len = len;
        }
        bytes_free(&buf);
        if (frc != ST_OK && frc != ST_ENOTFOUND)
            rc = frc;
    }
    if (rc == ST_OK && got)
        qsort(items, got, sizeof(*items), fs_id_item_cmp);
    uint64_t sent = 0;
    for (size_t i = 0; rc == ST_OK && i < got && sent < limit; i++) {
        if (after_len && store_key_cmp(items[i].id, items[i].len, after, after_len) <= 0)
            continue;
        sent++;
        rc = fn(ctx, items[i].id, items[i].len);
    }
    fs_free_items(items, got);
    fs_free_names(names, n);
    return rc;
}

typedef struct tag_item {
    store_event ev;
    uint8_t *copy; /* pid, payload and tags in one block */
} tag_item;

typedef struct tag_ctx {
    const uint8_t *tag;
    size_t tag_len;
    uint64_t after, deleted_to;
    tag_item *items;
    size_t n, cap;
} tag_ctx;

static int collect_tagged(void *c, const store_event *ev)
{
    tag_ctx *t = c;
    if (ev->ordering <= t->after || ev->seq <= t->deleted_to ||
        !store_tags_contain(ev->tags, ev->tags_len, t->tag, t->tag_len))
        return 0;
    if (!array_reserve(&t->items, &t->cap, t->n + 1, sizeof(*t->items)))
        return error_oom();
    size_t total = ev->pid_len + ev->payload_len + ev->tags_len;
    uint8_t *copy = malloc(total ? total : 1);
    if (!copy)
        return error_oom();
    tag_item *it = &t->items[t->n++];
    it->ev = *ev;
    it->copy = copy;
    memcpy(copy, ev->pid, ev->pid_len);
    it->ev.pid = copy;
    memcpy(copy + ev->pid_len, ev->payload, ev->payload_len);
    it->ev.payload = copy + ev->pid_len;
    if (ev->tags_len)
        memcpy(copy + ev->pid_len + ev->payload_len, ev->tags, ev->tags_len);
    it->ev.tags = ev->tags_len ? copy + ev->pid_len + ev->payload_len : NULL;
    return 0;
}

static int tag_item_cmp(const void *a, const void *b)
{
    uint64_t x = ((const tag_item *)a)->ev.ordering, y = ((const tag_item *)b)->ev.ordering;
    return x < y ? -1 : x > y;
}

int fs_journal_by_tag(store_backend *b, const uint8_t *tag, size_t tag_len, uint64_t after,
                      uint64_t max, store_event_fn fn, void *ctx)
{
    fs_backend *f = (fs_backend *)b;
    char area[4096];
    char **names;
    size_t n;
    int rc = list_pid_dirs(f, area, sizeof(area), &names, &n);
    tag_ctx t = {tag, tag_len, after, 0, NULL, 0, 0};
    for (size_t i = 0; rc == ST_OK && i < n; i++) {
        char dir[4200];
        snprintf(dir, sizeof(dir), "%s/%s", area, names[i]);
        pid_meta m;
        uint64_t *firsts = NULL;
        size_t nb = 0;
        if ((rc = read_meta(dir, &m)) == ST_OK)
            rc = list_batches(dir, &firsts, &nb);
        t.deleted_to = m.deleted_to;
        for (size_t k = 0; rc == ST_OK && k < nb; k++) {
            rc = read_batch(dir, firsts[k], NULL, 0, collect_tagged, &t, NULL);
            if (rc == ST_ENOTFOUND)
                rc = ST_OK;
        }
        free(firsts);
    }
    if (rc == ST_OK && t.n)
        qsort(t.items, t.n, sizeof(*t.items), tag_item_cmp);
    for (size_t i = 0; rc == ST_OK && i < t.n && i < max; i++)
        rc = fn(ctx, &t.items[i].ev);
    for (size_t i = 0; i < t.n; i++)
        free(t.items[i].copy);
    free(t.items);
    fs_free_names(names, n);
    return rc;
}
