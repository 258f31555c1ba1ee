/*
 * The file-system engine: one file per record, as object storage keeps
 * objects, so a directory can be shared by several nodes (a network file
 * system) or synced by tools that only understand whole files.
 *
 *   <root>/lock                  writers hold an OFD lock on it (fcntl),
 *                                which excludes other processes, other
 *                                nodes over NFS, and other handles in
 *                                this process
 *   <root>/ordering              the next global event ordering
 *   <root>/journal/<id>/meta     pid, highest sequence number, deleted-to
 *   <root>/journal/<id>/b<first> one batch of events (an append is one file,
 *                                so it is all-or-nothing)
 *   <root>/snapshots/<id>/<seq>  timestamp + data
 *   <root>/state/<id>            key, revision, data
 *
 * <id> is "x" + the hex of a pid or key up to 100 bytes, else "h" + a
 * BLAKE2b hash of it; the id itself is stored inside every file, so names
 * are never decoded. Every file is written to a temporary name, fsynced,
 * renamed over its final name, and the directory fsynced: a reader sees
 * the old file or the new one, never a torn one. Files end with a CRC-32,
 * so bit rot is ST_ECORRUPT rather than wrong data.
 *
 * A batch file is the commit point of an append. The ordering counter is
 * advanced (and synced) before the batch is written, so a crash between
 * the two leaves a gap in orderings, never a reuse. The highest sequence
 * number is max(meta, last batch), and meta is rewritten before any
 * deletion, so it never decreases.
 *
 * Reads take no lock; they list the directory and open files, retrying
 * when a concurrent writer renamed a file away under them. By-tag queries
 * read every batch: this engine is for durability and sharing, not for
 * projections over large journals (use SQLite there).
 */
#include "store/fs_backend.h"

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

#include "store/journal.h"
#include "store/store.h"
#include "store/tags.h"
#include "util/alloc.h"
#include "util/error.h"
#include "util/status.h"

#define FS_MAX_FILE_BYTES (256ull << 20)
#define FS_ID_MAX 240

typedef struct fs_backend {
    store_backend base;
    char *root;
    int sync;
    int lock_fd;
    uint64_t tmp_prefix; /* random: nodes sharing the directory may share pids */
    unsigned long tmp_counter;
} fs_backend;

static int io_error(const char *what, const char *path)
{
    return error_set(ST_EIO, "fs store: %s '%s': %s", what, path, strerror(errno));
}

static void id_name(const uint8_t *id, size_t len, char out[FS_ID_MAX])
{
    static const char hex[] = "0123456789abcdef";
    if (len <= 100) {
        out[0] = 'x';
        for (size_t i = 0; i < len; i++) {
            out[1 + 2 * i] = hex[id[i] >> 4];
            out[2 + 2 * i] = hex[id[i] & 15];
        }
        out[1 + 2 * len] = 0;
        return;
    }
    uint8_t h[16];
    crypto_generichash(h, sizeof(h), id, len, NULL, 0);
    out[0] = 'h';
    for (size_t i = 0; i < sizeof(h); i++) {
        out[1 + 2 * i] = hex[h[i] >> 4];
        out[2 + 2 * i] = hex[h[i] & 15];
    }
    out[1 + 2 * sizeof(h)] = 0;
}

static int mkdir_p(const char *path)
{
    if (mkdir(path, 0777) == 0 || errno == EEXIST)
        return ST_OK;
    return io_error("creating directory", path);
}

static int fsync_dir(fs_backend *f, const char *dir)
{
    if (!f->sync)
        return ST_OK;
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return io_error("opening directory", dir);
    int rc = fsync(fd) == 0 ? ST_OK : io_error("syncing directory", dir);
    close(fd);
    return rc;
}

/* Appends a CRC-32 of everything so far; files are checked on read. */
static void put_crc(bytes *b)
{
    uint32_t crc = (uint32_t)crc32(0, b->data, (uInt)b->len);
    bytes_put_u32(b, crc);
}

static int write_atomic(fs_backend *f, const char *dir, const char *name, const bytes *b)
{
    char tmp[4096], final[4096];
    snprintf(tmp, sizeof(tmp), "%s/.tmp.%016llx.%d.%lu", dir, (unsigned long long)f->tmp_prefix,
             (int)getpid(), ++f->tmp_counter);
    snprintf(final, sizeof(final), "%s/%s", dir, name);
    if (b->failed)
        return error_oom();
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0)
        return io_error("creating", tmp);
    size_t off = 0;
    while (off < b->len) {
        ssize_t n = write(fd, b->data + off, b->len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int rc = io_error("writing", tmp);
            close(fd);
            unlink(tmp);
            return rc;
        }
        off += (size_t)n;
    }
    if (f->sync && fsync(fd) != 0) {
        int rc = io_error("syncing", tmp);
        close(fd);
        unlink(tmp);
        return rc;
    }
    close(fd);
    if (rename(tmp, final) != 0) {
        int rc = io_error("renaming", final);
        unlink(tmp);
        return rc;
    }
    return fsync_dir(f, dir);
}

/* ST_ENOTFOUND (no message) when the file does not exist. */
static int read_file(const char *path, bytes *out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? ST_ENOTFOUND : io_error("opening", path);
    bytes_reset(out);
    int rc = ST_OK;
    for (;;) {
        if (!bytes_reserve(out, 65536)) {
            rc = error_oom();
            break;
        }
        ssize_t n = read(fd, out->data + out->len, 65536);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = io_error("reading", path);
            break;
        }
        if (n == 0)
            break;
        out->len += (size_t)n;
        if (out->len > FS_MAX_FILE_BYTES) {
            rc = error_set(ST_ELIMIT, "fs store: '%s' is larger than %llu bytes", path,
                           (unsigned long long)FS_MAX_FILE_BYTES);
            break;
        }
    }
    close(fd);
    return rc;
}

/* Checks magic and CRC; on success *r reads the body. */
static int open_record(const bytes *b, const char *magic, const char *path, reader *r)
{
    if (b->len < 9 || memcmp(b->data, magic, 4) != 0 || b->data[4] != 1)
        return error_set(ST_ECORRUPT, "fs store: '%s' is not a %s file", path, magic);
    uint32_t want = load_u32le(b->data + b->len - 4);
    if ((uint32_t)crc32(0, b->data, (uInt)(b->len - 4)) != want)
        return error_set(ST_ECORRUPT, "fs store: '%s' fails its checksum", path);
    *r = reader_make(b->data + 5, b->len - 9);
    return ST_OK;
}

static int lock_all(fs_backend *f)
{
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    while (fcntl(f->lock_fd, F_OFD_SETLKW, &fl) != 0) {
        if (errno != EINTR)
            return io_error("locking", f->root);
    }
    return ST_OK;
}

static void unlock_all(fs_backend *f)
{
    struct flock fl = {.l_type = F_UNLCK, .l_whence = SEEK_SET};
    fcntl(f->lock_fd, F_OFD_SETLK, &fl);
}

static void path_of(fs_backend *f, char *out, size_t n, const char *area, const uint8_t *id,
                    size_t id_len)
{
    char name[FS_ID_MAX];
    id_name(id, id_len, name);
    snprintf(out, n, "%s/%s/%s", f->root, area, name);
}

/* ---- journal ---------------------------------------------------------- */

typedef struct pid_meta {
    uint64_t highest, deleted_to;
} pid_meta;

static int read_meta(const char *dir, pid_meta *m)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/meta", dir);
    bytes b = BYTES_INIT;
    memset(m, 0, sizeof(*m));
    int rc = read_file(path, &b);
    if (rc == ST_ENOTFOUND) {
        bytes_free(&b);
        return ST_OK;
    }
    reader r;
    if (rc == ST_OK && (rc = open_record(&b, "DDFM", path, &r)) == ST_OK) {
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
    put_crc(&b);
    int rc = write_atomic(f, dir, "meta", &b);
    bytes_free(&b);
    return rc;
}

/* Batch files of a pid directory, as first sequence numbers, ascending. */
static int list_batches(const char *dir, uint64_t **out, size_t *count)
{
    *out = NULL;
    *count = 0;
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? ST_OK : io_error("listing", dir);
    size_t cap = 0;
    int rc = ST_OK;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] != 'b')
            continue;
        char *end;
        uint64_t first = strtoull(e->d_name + 1, &end, 10);
        if (*end)
            continue;
        if (*count == cap) {
            cap = grow_capacity(cap, *count + 1);
            uint64_t *p = realloc_array(*out, cap, sizeof(*p));
            if (!p) {
                rc = error_oom();
                break;
            }
            *out = p;
        }
        (*out)[(*count)++] = first;
    }
    closedir(d);
    for (size_t i = 1; i < *count; i++) /* insertion sort: a pid has few batches */
        for (size_t k = i; k > 0 && (*out)[k - 1] > (*out)[k]; k--) {
            uint64_t t = (*out)[k];
            (*out)[k] = (*out)[k - 1];
            (*out)[k - 1] = t;
        }
    return rc;
}

typedef int (*batch_event_fn)(void *ctx, const store_event *ev);

/* Reads batch `first` of dir and calls fn for each event. ST_ENOTFOUND
 * (silent) when the file vanished (a concurrent deletion). */
static int read_batch(const char *dir, uint64_t first, const uint8_t *pid, size_t pid_len,
                      batch_event_fn fn, void *ctx, uint64_t *last)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/b%020llu", dir, (unsigned long long)first);
    bytes b = BYTES_INIT;
    int rc = read_file(path, &b);
    reader r;
    if (rc == ST_OK)
        rc = open_record(&b, "DDFB", path, &r);
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
        if (last)
            *last = ev.seq;
        if (fn && (rc = fn(ctx, &ev)) != 0)
            goto done;
    }
done:
    bytes_free(&b);
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

static int fs_journal_highest(store_backend *b, const uint8_t *pid, size_t pid_len, uint64_t *out)
{
    fs_backend *f = (fs_backend *)b;
    char dir[4096];
    path_of(f, dir, sizeof(dir), "journal", pid, pid_len);
    pid_meta m;
    int rc = read_meta(dir, &m);
    return rc == ST_OK ? pid_highest(dir, &m, out) : rc;
}

static int read_counter(fs_backend *f, uint64_t *out)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/ordering", f->root);
    bytes b = BYTES_INIT;
    *out = 0;
    int rc = read_file(path, &b);
    reader r;
    if (rc == ST_ENOTFOUND) {
        rc = ST_OK;
    } else if (rc == ST_OK && (rc = open_record(&b, "DDFO", path, &r)) == ST_OK) {
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
    put_crc(&b);
    int rc = write_atomic(f, f->root, "ordering", &b);
    bytes_free(&b);
    return rc;
}

static int fs_journal_append(store_backend *b, const uint8_t *pid, size_t pid_len,
                             uint64_t expected_seq, const store_event *events, size_t count)
{
    fs_backend *f = (fs_backend *)b;
    char dir[4096], name[64];
    path_of(f, dir, sizeof(dir), "journal", pid, pid_len);
    bytes batch = BYTES_INIT;
    int rc = lock_all(f);
    if (rc != ST_OK)
        return rc;
    pid_meta m;
    uint64_t highest, ordering;
    if ((rc = read_meta(dir, &m)) != ST_OK || (rc = pid_highest(dir, &m, &highest)) != ST_OK)
        goto done;
    if (highest != expected_seq) {
        rc = error_set(ST_ECONFLICT, "journal '%.*s': expected sequence %llu, found %llu",
                       (int)(pid_len > 64 ? 64 : pid_len), (const char *)pid,
                       (unsigned long long)expected_seq, (unsigned long long)highest);
        goto done;
    }
    if (highest == 0 && m.highest == 0) {
        /* First write of this pid: meta first, so the pid is listed. */
        if ((rc = mkdir_p(dir)) != ST_OK || (rc = write_meta(f, dir, pid, pid_len, &m)) != ST_OK)
            goto done;
    }
    if ((rc = read_counter(f, &ordering)) != ST_OK ||
        (rc = write_counter(f, ordering + count)) != ST_OK)
        goto done;
    bytes_put(&batch, "DDFB\1", 5);
    bytes_put_blob(&batch, pid, pid_len);
    bytes_put_varint(&batch, count);
    for (size_t i = 0; i < count; i++) {
        bytes_put_varint(&batch, expected_seq + i + 1);
        bytes_put_varint(&batch, events[i].timestamp_ms);
        bytes_put_varint(&batch, ordering + i + 1);
        bytes_put_blob(&batch, events[i].payload, events[i].payload_len);
        bytes_put_blob(&batch, events[i].tags, events[i].tags ? events[i].tags_len : 0);
    }
    put_crc(&batch);
    snprintf(name, sizeof(name), "b%020llu", (unsigned long long)(expected_seq + 1));
    rc = write_atomic(f, dir, name, &batch);
done:
    unlock_all(f);
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

static int fs_journal_replay(store_backend *b, const uint8_t *pid, size_t pid_len, uint64_t from,
                             uint64_t to, uint64_t max, store_event_fn fn, void *ctx)
{
    fs_backend *f = (fs_backend *)b;
    char dir[4096];
    path_of(f, dir, sizeof(dir), "journal", pid, pid_len);
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

static int fs_journal_delete_to(store_backend *b, const uint8_t *pid, size_t pid_len, uint64_t to)
{
    fs_backend *f = (fs_backend *)b;
    char dir[4096];
    path_of(f, dir, sizeof(dir), "journal", pid, pid_len);
    int rc = lock_all(f);
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
    rc = fsync_dir(f, dir);
done:
    unlock_all(f);
    free(firsts);
    return rc;
}

/* Names of the entries of an area directory (journal/, snapshots/,
 * state/), excluding temporaries. */
static int list_names(const char *dir, char ***out, size_t *count)
{
    *out = NULL;
    *count = 0;
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? ST_OK : io_error("listing", dir);
    size_t cap = 0;
    int rc = ST_OK;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] != 'x' && e->d_name[0] != 'h')
            continue;
        if (*count == cap) {
            cap = grow_capacity(cap, *count + 1);
            char **p = realloc_array(*out, cap, sizeof(*p));
            if (!p) {
                rc = error_oom();
                break;
            }
            *out = p;
        }
        if (!((*out)[*count] = strdup(e->d_name))) {
            rc = error_oom();
            break;
        }
        (*count)++;
    }
    closedir(d);
    return rc;
}

static void free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

typedef struct id_item {
    uint8_t *id;
    size_t len;
    uint64_t revision;
    uint8_t *data;
    size_t data_len;
} id_item;

static int id_item_cmp(const void *a, const void *b)
{
    const id_item *x = a, *y = b;
    return store_key_cmp(x->id, x->len, y->id, y->len);
}

static void free_items(id_item *items, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(items[i].id);
        free(items[i].data);
    }
    free(items);
}

static uint8_t *dup_bytes(const uint8_t *p, size_t n)
{
    uint8_t *d = malloc(n ? n : 1);
    if (d && n)
        memcpy(d, p, n);
    return d;
}

static int fs_journal_pids(store_backend *b, const uint8_t *after, size_t after_len, uint64_t limit,
                           store_pid_fn fn, void *ctx)
{
    fs_backend *f = (fs_backend *)b;
    char area[4096];
    snprintf(area, sizeof(area), "%s/journal", f->root);
    char **names;
    size_t n;
    int rc = list_names(area, &names, &n);
    id_item *items = n ? calloc(n, sizeof(*items)) : NULL;
    size_t got = 0;
    if (rc == ST_OK && n && !items)
        rc = error_oom();
    for (size_t i = 0; rc == ST_OK && i < n; i++) {
        char path[4200];
        snprintf(path, sizeof(path), "%s/%s/meta", area, names[i]);
        bytes buf = BYTES_INIT;
        reader r;
        int frc = read_file(path, &buf);
        if (frc == ST_OK && (frc = open_record(&buf, "DDFM", path, &r)) == ST_OK) {
            size_t len;
            const uint8_t *pid = reader_blob(&r, STORE_MAX_KEY_BYTES, &len);
            if (!reader_ok(&r))
                frc = error_set(ST_ECORRUPT, "fs store: '%s' is malformed", path);
            else if (!(items[got].id = dup_bytes(pid, len)))
                frc = error_oom();
            else
                items[got++].len = len;
        }
        bytes_free(&buf);
        if (frc != ST_OK && frc != ST_ENOTFOUND)
            rc = frc;
    }
    if (rc == ST_OK && got)
        qsort(items, got, sizeof(*items), id_item_cmp);
    uint64_t sent = 0;
    for (size_t i = 0; rc == ST_OK && i < got && sent < limit; i++) {
        if (after_len && store_key_cmp(items[i].id, items[i].len, after, after_len) <= 0)
            continue;
        sent++;
        rc = fn(ctx, items[i].id, items[i].len);
    }
    free_items(items, got);
    free_names(names, n);
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
    if (t->n == t->cap) {
        size_t cap = grow_capacity(t->cap, t->n + 1);
        tag_item *p = realloc_array(t->items, cap, sizeof(*p));
        if (!p)
            return error_oom();
        t->items = p;
        t->cap = cap;
    }
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

static int fs_journal_by_tag(store_backend *b, const uint8_t *tag, size_t tag_len, uint64_t after,
                             uint64_t max, store_event_fn fn, void *ctx)
{
    fs_backend *f = (fs_backend *)b;
    char area[4096];
    snprintf(area, sizeof(area), "%s/journal", f->root);
    char **names;
    size_t n;
    int rc = list_names(area, &names, &n);
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
    free_names(names, n);
    return rc;
}

/* ---- snapshots -------------------------------------------------------- */

static int snap_path(fs_backend *f, char *out, size_t n, const uint8_t *pid, size_t pid_len,
                     uint64_t seq)
{
    char dir[4096];
    path_of(f, dir, sizeof(dir), "snapshots", pid, pid_len);
    return snprintf(out, n, "%s/%020llu", dir, (unsigned long long)seq) < (int)n
               ? ST_OK
               : error_set(ST_ELIMIT, "fs store: path too long");
}

static int fs_snapshot_save(store_backend *b, const uint8_t *pid, size_t pid_len, uint64_t seq,
                            uint64_t ts, const uint8_t *data, size_t len)
{
    fs_backend *f = (fs_backend *)b;
    char dir[4096], name[32];
    path_of(f, dir, sizeof(dir), "snapshots", pid, pid_len);
    snprintf(name, sizeof(name), "%020llu", (unsigned long long)seq);
    bytes buf = BYTES_INIT;
    bytes_put(&buf, "DDFS\1", 5);
    bytes_put_blob(&buf, pid, pid_len);
    bytes_put_u64(&buf, seq);
    bytes_put_u64(&buf, ts);
    bytes_put_blob(&buf, data, len);
    put_crc(&buf);
    int rc = mkdir_p(dir);
    if (rc == ST_OK)
        rc = write_atomic(f, dir, name, &buf);
    bytes_free(&buf);
    return rc;
}

/* Snapshot seqs of a pid, descending. */
static int list_snaps(fs_backend *f, const uint8_t *pid, size_t pid_len, uint64_t **out,
                      size_t *count)
{
    char dir[4096];
    path_of(f, dir, sizeof(dir), "snapshots", pid, pid_len);
    *out = NULL;
    *count = 0;
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? ST_OK : io_error("listing", dir);
    size_t cap = 0;
    int rc = ST_OK;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        char *end;
        uint64_t seq = strtoull(e->d_name, &end, 10);
        if (*end)
            continue;
        if (*count == cap) {
            cap = grow_capacity(cap, *count + 1);
            uint64_t *p = realloc_array(*out, cap, sizeof(*p));
            if (!p) {
                rc = error_oom();
                break;
            }
            *out = p;
        }
        (*out)[(*count)++] = seq;
    }
    closedir(d);
    for (size_t i = 1; i < *count; i++)
        for (size_t k = i; k > 0 && (*out)[k - 1] < (*out)[k]; k--) {
            uint64_t t = (*out)[k];
            (*out)[k] = (*out)[k - 1];
            (*out)[k - 1] = t;
        }
    return rc;
}

static int read_snap(fs_backend *f, const uint8_t *pid, size_t pid_len, uint64_t seq, bytes *buf,
                     store_snapshot *out)
{
    char path[4200];
    int rc = snap_path(f, path, sizeof(path), pid, pid_len, seq);
    if (rc == ST_OK)
        rc = read_file(path, buf);
    reader r;
    if (rc == ST_OK && (rc = open_record(buf, "DDFS", path, &r)) == ST_OK) {
        size_t n;
        reader_blob(&r, STORE_MAX_KEY_BYTES, &n);
        out->seq = reader_u64(&r);
        out->timestamp_ms = reader_u64(&r);
        out->data = reader_blob(&r, FS_MAX_FILE_BYTES, &out->len);
        if (!reader_done(&r) || out->seq != seq)
            rc = error_set(ST_ECORRUPT, "fs store: '%s' is malformed", path);
        if (!out->data)
            out->data = (const uint8_t *)"";
    }
    return rc;
}

static int snap_matches(const store_snapshot *s, const snapshot_criteria *c)
{
    return s->seq >= c->min_seq && s->seq <= c->max_seq && s->timestamp_ms >= c->min_ts &&
           s->timestamp_ms <= c->max_ts;
}

static int fs_snapshot_find(store_backend *b, const uint8_t *pid, size_t pid_len,
                            const snapshot_criteria *c, store_snapshot_fn fn, void *ctx)
{
    fs_backend *f = (fs_backend *)b;
    uint64_t *seqs;
    size_t n;
    int rc = list_snaps(f, pid, pid_len, &seqs, &n), any = 0;
    bytes buf = BYTES_INIT;
    for (size_t i = 0; rc == ST_OK && i < n; i++) {
        if (seqs[i] < c->min_seq || seqs[i] > c->max_seq)
            continue;
        store_snapshot s;
        rc = read_snap(f, pid, pid_len, seqs[i], &buf, &s);
        if (rc == ST_ENOTFOUND) {
            rc = ST_OK;
            continue;
        }
        if (rc != ST_OK || !snap_matches(&s, c))
            continue;
        any = 1;
        rc = fn(ctx, &s);
    }
    bytes_free(&buf);
    free(seqs);
    if (rc == ST_OK && !any)
        return error_set(ST_ENOTFOUND, "no snapshot of '%.*s' matches",
                         (int)(pid_len > 64 ? 64 : pid_len), (const char *)pid);
    return rc;
}

static int fs_snapshot_delete(store_backend *b, const uint8_t *pid, size_t pid_len,
                              const snapshot_criteria *c)
{
    fs_backend *f = (fs_backend *)b;
    uint64_t *seqs;
    size_t n;
    int rc = list_snaps(f, pid, pid_len, &seqs, &n);
    bytes buf = BYTES_INIT;
    for (size_t i = 0; rc == ST_OK && i < n; i++) {
        if (seqs[i] < c->min_seq || seqs[i] > c->max_seq)
            continue;
        store_snapshot s;
        rc = read_snap(f, pid, pid_len, seqs[i], &buf, &s);
        if (rc == ST_ENOTFOUND) {
            rc = ST_OK;
            continue;
        }
        if (rc == ST_OK && snap_matches(&s, c)) {
            char path[4200];
            snap_path(f, path, sizeof(path), pid, pid_len, seqs[i]);
            unlink(path);
        }
    }
    bytes_free(&buf);
    free(seqs);
    return rc;
}

static int fs_snapshot_prune(store_backend *b, const uint8_t *pid, size_t pid_len, uint64_t keep)
{
    fs_backend *f = (fs_backend *)b;
    uint64_t *seqs;
    size_t n;
    int rc = list_snaps(f, pid, pid_len, &seqs, &n);
    for (size_t i = (size_t)keep; rc == ST_OK && i < n; i++) {
        char path[4200];
        snap_path(f, path, sizeof(path), pid, pid_len, seqs[i]);
        unlink(path);
    }
    free(seqs);
    return rc;
}

/* ---- state ------------------------------------------------------------ */

static int read_state(const char *path, bytes *buf, uint64_t *revision, const uint8_t **data,
                      size_t *len, const uint8_t **key, size_t *key_len)
{
    int rc = read_file(path, buf);
    reader r;
    if (rc == ST_OK && (rc = open_record(buf, "DDFK", path, &r)) == ST_OK) {
        size_t kn;
        const uint8_t *k = reader_blob(&r, STORE_MAX_KEY_BYTES, &kn);
        *revision = reader_u64(&r);
        *data = reader_blob(&r, FS_MAX_FILE_BYTES, len);
        if (!reader_done(&r))
            return error_set(ST_ECORRUPT, "fs store: '%s' is malformed", path);
        if (key) {
            *key = k;
            *key_len = kn;
        }
    }
    return rc;
}

static int fs_state_get(store_backend *b, const uint8_t *key, size_t key_len, uint64_t *revision,
                        bytes *state)
{
    fs_backend *f = (fs_backend *)b;
    char path[4096];
    path_of(f, path, sizeof(path), "state", key, key_len);
    bytes buf = BYTES_INIT;
    uint64_t rev;
    const uint8_t *data;
    size_t len;
    int rc = read_state(path, &buf, &rev, &data, &len, NULL, NULL);
    if (rc == ST_ENOTFOUND)
        rc = error_set(ST_ENOTFOUND, "state '%.*s' not found", (int)(key_len > 64 ? 64 : key_len),
                       (const char *)key);
    if (rc == ST_OK) {
        if (revision)
            *revision = rev;
        if (state) {
            bytes_reset(state);
            bytes_put(state, data, len);
            if (state->failed)
                rc = error_oom();
        }
    }
    bytes_free(&buf);
    return rc;
}

static int state_conflict(const uint8_t *key, size_t key_len, uint64_t expected, uint64_t found)
{
    return error_set(ST_ECONFLICT, "state '%.*s': expected revision %llu, found %llu",
                     (int)(key_len > 64 ? 64 : key_len), (const char *)key,
                     (unsigned long long)expected, (unsigned long long)found);
}

static int current_rev(fs_backend *f, const uint8_t *key, size_t key_len, uint64_t *rev)
{
    int rc = fs_state_get(&f->base, key, key_len, rev, NULL);
    if (rc == ST_ENOTFOUND) {
        *rev = 0;
        return ST_OK;
    }
    return rc;
}

static int fs_state_upsert(store_backend *b, const uint8_t *key, size_t key_len, uint64_t expected,
                           const uint8_t *state, size_t state_len, uint64_t *new_revision)
{
    fs_backend *f = (fs_backend *)b;
    char dir[4096], name[FS_ID_MAX];
    snprintf(dir, sizeof(dir), "%s/state", f->root);
    id_name(key, key_len, name);
    bytes buf = BYTES_INIT;
    int rc = lock_all(f);
    if (rc != ST_OK)
        return rc;
    uint64_t current;
    if ((rc = current_rev(f, key, key_len, &current)) != ST_OK)
        goto done;
    if (expected != STATE_ANY_REVISION && expected != current) {
        rc = state_conflict(key, key_len, expected, current);
        goto done;
    }
    bytes_put(&buf, "DDFK\1", 5);
    bytes_put_blob(&buf, key, key_len);
    bytes_put_u64(&buf, current + 1);
    bytes_put_blob(&buf, state, state_len);
    put_crc(&buf);
    if ((rc = write_atomic(f, dir, name, &buf)) == ST_OK && new_revision)
        *new_revision = current + 1;
done:
    unlock_all(f);
    bytes_free(&buf);
    return rc;
}

static int fs_state_delete(store_backend *b, const uint8_t *key, size_t key_len, uint64_t expected)
{
    fs_backend *f = (fs_backend *)b;
    char path[4096], dir[4096];
    path_of(f, path, sizeof(path), "state", key, key_len);
    snprintf(dir, sizeof(dir), "%s/state", f->root);
    int rc = lock_all(f);
    if (rc != ST_OK)
        return rc;
    uint64_t current;
    if ((rc = current_rev(f, key, key_len, &current)) != ST_OK)
        goto done;
    if (current == 0) {
        rc = error_set(ST_ENOTFOUND, "state '%.*s' not found", (int)(key_len > 64 ? 64 : key_len),
                       (const char *)key);
        goto done;
    }
    if (expected != STATE_ANY_REVISION && expected != current) {
        rc = state_conflict(key, key_len, expected, current);
        goto done;
    }
    if (unlink(path) != 0) {
        rc = io_error("deleting", path);
        goto done;
    }
    rc = fsync_dir(f, dir);
done:
    unlock_all(f);
    return rc;
}

static int fs_state_scan(store_backend *b, const uint8_t *prefix, size_t prefix_len,
                         state_scan_fn fn, void *ctx)
{
    fs_backend *f = (fs_backend *)b;
    char area[4096];
    snprintf(area, sizeof(area), "%s/state", f->root);
    char **names;
    size_t n;
    int rc = list_names(area, &names, &n);
    id_item *items = n ? calloc(n, sizeof(*items)) : NULL;
    size_t got = 0;
    if (rc == ST_OK && n && !items)
        rc = error_oom();
    bytes buf = BYTES_INIT;
    for (size_t i = 0; rc == ST_OK && i < n; i++) {
        char path[4200];
        snprintf(path, sizeof(path), "%s/%s", area, names[i]);
        uint64_t rev;
        const uint8_t *data, *key;
        size_t len, key_len;
        int frc = read_state(path, &buf, &rev, &data, &len, &key, &key_len);
        if (frc == ST_ENOTFOUND)
            continue;
        if (frc != ST_OK) {
            rc = frc;
            break;
        }
        if (key_len < prefix_len || (prefix_len && memcmp(key, prefix, prefix_len) != 0))
            continue;
        items[got].id = dup_bytes(key, key_len);
        items[got].data = dup_bytes(data, len);
        if (!items[got].id || !items[got].data) {
            free(items[got].id);
            free(items[got].data);
            rc = error_oom();
            break;
        }
        items[got].len = key_len;
        items[got].data_len = len;
        items[got].revision = rev;
        got++;
    }
    bytes_free(&buf);
    if (rc == ST_OK && got)
        qsort(items, got, sizeof(*items), id_item_cmp);
    for (size_t i = 0; rc == ST_OK && i < got; i++)
        rc =
            fn(ctx, items[i].id, items[i].len, items[i].revision, items[i].data, items[i].data_len);
    free_items(items, got);
    free_names(names, n);
    return rc;
}

static int fs_noop(store_backend *b)
{
    (void)b;
    return ST_OK;
}

static void fs_close(store_backend *b)
{
    fs_backend *f = (fs_backend *)b;
    if (!f)
        return;
    if (f->lock_fd >= 0)
        close(f->lock_fd);
    free(f->root);
    free(f);
}

static const store_backend_ops fs_ops = {
    .name = "fs",
    .journal_append = fs_journal_append,
    .journal_replay = fs_journal_replay,
    .journal_highest = fs_journal_highest,
    .journal_delete_to = fs_journal_delete_to,
    .journal_pids = fs_journal_pids,
    .journal_by_tag = fs_journal_by_tag,
    .snapshot_save = fs_snapshot_save,
    .snapshot_find = fs_snapshot_find,
    .snapshot_delete = fs_snapshot_delete,
    .snapshot_prune = fs_snapshot_prune,
    .state_upsert = fs_state_upsert,
    .state_get = fs_state_get,
    .state_delete = fs_state_delete,
    .state_scan = fs_state_scan,
    .state_begin = fs_noop,
    .state_commit = fs_noop,
    .close = fs_close,
};

int store_backend_open_fs(store_backend **out, const char *root, const fs_options *opts)
{
    if (!out || !root || !root[0])
        return error_set(ST_EINVAL, "fs store: root directory must not be empty");
    *out = NULL;
    if (strlen(root) > 3000)
        return error_set(ST_ELIMIT, "fs store: root path is too long");
    if (sodium_init() < 0)
        return error_set(ST_ECRYPTO, "libsodium failed to initialise");
    fs_backend *f = calloc(1, sizeof(*f));
    if (!f || !(f->root = strdup(root))) {
        free(f);
        return error_oom();
    }
    f->base.ops = &fs_ops;
    f->lock_fd = -1;
    randombytes_buf(&f->tmp_prefix, sizeof(f->tmp_prefix));
    f->sync = !opts || opts->sync != STORE_SYNC_OFF;
    char path[4096];
    int rc = mkdir_p(root);
    const char *areas[] = {"journal", "snapshots", "state"};
    for (int i = 0; rc == ST_OK && i < 3; i++) {
        snprintf(path, sizeof(path), "%s/%s", root, areas[i]);
        rc = mkdir_p(path);
    }
    if (rc == ST_OK) {
        snprintf(path, sizeof(path), "%s/lock", root);
        f->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
        if (f->lock_fd < 0)
            rc = io_error("opening", path);
    }
    if (rc != ST_OK) {
        fs_close(&f->base);
        return rc;
    }
    *out = &f->base;
    return ST_OK;
}
