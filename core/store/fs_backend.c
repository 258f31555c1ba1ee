/*
 * The file-system engine: one file per record, as object storage keeps
 * objects, so a directory can be shared by several nodes (a network file
 * system) or synced by tools that only understand whole files.
 *
 *   <root>/format                the layout version (fs_layout.h)
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
 * the two leaves a gap in orderings, never a reuse. meta is rewritten
 * after every batch and before any deletion, and the highest sequence
 * number is max(meta, last batch) (the max covers a crash between batch
 * and meta), so it never decreases, and a lost last batch is a gap the
 * journal layer reports (ST_ECORRUPT), not a number to hand out again.
 * A missing `ordering` in a store with events, or a missing `meta` beside
 * batch files, is ST_ECORRUPT.
 *
 * Reads take no lock; they list the directory and open files, skipping
 * a file a concurrent deletion removed under them (renames replace
 * atomically, so a file that is there is whole). By-tag queries
 * read every batch: this engine is for durability and sharing, not for
 * projections over large journals (use SQLite there).
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
#include "store/fs_backend.h"
#include "store/fs_io.h"
#include "store/fs_layout.h"
#include "store/journal.h"
#include "store/store.h"
#include "store/state_generic.h"
#include "store/tags.h"
#include "util/alloc.h"
#include "util/error.h"
#include "util/status.h"

/* ---- snapshots -------------------------------------------------------- */

static int snap_path(fs_backend *f, char *out, size_t n, const uint8_t *pid, size_t pid_len,
                     uint64_t seq)
{
    char dir[4096];
    fs_path_of(f, dir, sizeof(dir), "snapshots", pid, pid_len);
    return snprintf(out, n, "%s/%020llu", dir, (unsigned long long)seq) < (int)n
               ? ST_OK
               : error_set(ST_ELIMIT, "fs store: path too long");
}

static int fs_snapshot_save(store_backend *b, const uint8_t *pid, size_t pid_len, uint64_t seq,
                            uint64_t ts, const uint8_t *data, size_t len)
{
    fs_backend *f = (fs_backend *)b;
    char dir[4096], name[32];
    fs_path_of(f, dir, sizeof(dir), "snapshots", pid, pid_len);
    snprintf(name, sizeof(name), "%020llu", (unsigned long long)seq);
    bytes buf = BYTES_INIT;
    bytes_put(&buf, "DDFS\2", 5);
    bytes_put_blob(&buf, pid, pid_len);
    bytes_put_u64(&buf, seq);
    bytes_put_u64(&buf, ts);
    bytes_put_blob(&buf, data, len);
    fs_put_crc(&buf);
    int rc = fs_mkdir_p(dir);
    if (rc == ST_OK)
        rc = fs_write_atomic(f, dir, name, &buf);
    bytes_free(&buf);
    return rc;
}

/* Snapshot sequence numbers of a pid, newest first. */
static int list_snaps(fs_backend *f, const uint8_t *pid, size_t pid_len, uint64_t **out,
                      size_t *count)
{
    char dir[4096];
    fs_path_of(f, dir, sizeof(dir), "snapshots", pid, pid_len);
    return fs_list_numbered(dir, 0, true, out, count);
}

static int read_snap(fs_backend *f, const uint8_t *pid, size_t pid_len, uint64_t seq, bytes *buf,
                     store_snapshot *out)
{
    char path[4200];
    int rc = snap_path(f, path, sizeof(path), pid, pid_len, seq);
    if (rc == ST_OK)
        rc = fs_read_file(path, buf);
    reader r;
    int version;
    if (rc == ST_OK && (rc = fs_open_versioned(buf, "DDFS", path, &r, &version)) == ST_OK) {
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
    if (rc == ST_OK && version < FS_RECORD_VERSION) {
        bytes binding = BYTES_INIT, wrapped = BYTES_INIT;
        store_bind_snapshot(&binding, pid, pid_len, out->seq, out->timestamp_ms);
        rc = fs_legacy_payload(version, &binding, &out->data, &out->len, &wrapped);
        if (rc == ST_OK && wrapped.data) {
            bytes_free(buf); /* the snapshot now lives in `wrapped` alone */
            *buf = wrapped;
            wrapped = (bytes)BYTES_INIT;
        }
        bytes_free(&binding);
        bytes_free(&wrapped);
    }
    return rc;
}

static int snap_matches(const store_snapshot *s, const snapshot_criteria *c)
{
    return s->seq >= c->min_seq && s->seq <= c->max_seq && s->timestamp_ms >= c->min_ts &&
           s->timestamp_ms <= c->max_ts;
}

/* Calls fn for each readable snapshot of pid matching c, newest first;
 * *any says whether there was one. */
static int each_matching_snap(fs_backend *f, const uint8_t *pid, size_t pid_len,
                              const snapshot_criteria *c, store_snapshot_fn fn, void *ctx,
                              bool *any)
{
    uint64_t *seqs;
    size_t n;
    int rc = list_snaps(f, pid, pid_len, &seqs, &n);
    bytes buf = BYTES_INIT;
    *any = false;
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
        *any = true;
        rc = fn(ctx, &s);
    }
    bytes_free(&buf);
    free(seqs);
    return rc;
}

static int fs_snapshot_find(store_backend *b, const uint8_t *pid, size_t pid_len,
                            const snapshot_criteria *c, store_snapshot_fn fn, void *ctx)
{
    bool any;
    int rc = each_matching_snap((fs_backend *)b, pid, pid_len, c, fn, ctx, &any);
    if (rc == ST_OK && !any)
        return error_set(ST_ENOTFOUND, "no snapshot of '%.*s' matches", error_key_len(pid_len),
                         (const char *)pid);
    return rc;
}

typedef struct snap_owner {
    fs_backend *f;
    const uint8_t *pid;
    size_t pid_len;
} snap_owner;

static int unlink_snap(void *ctx, const store_snapshot *s)
{
    const snap_owner *o = ctx;
    char path[4200];
    snap_path(o->f, path, sizeof(path), o->pid, o->pid_len, s->seq);
    unlink(path);
    return ST_OK;
}

static int fs_snapshot_delete(store_backend *b, const uint8_t *pid, size_t pid_len,
                              const snapshot_criteria *c)
{
    snap_owner o = {(fs_backend *)b, pid, pid_len};
    bool any;
    int rc = fs_check_writable(o.f);
    if (rc != ST_OK)
        return rc;
    return each_matching_snap(o.f, pid, pid_len, c, unlink_snap, &o, &any);
}

static int fs_snapshot_prune(store_backend *b, const uint8_t *pid, size_t pid_len, uint64_t keep)
{
    fs_backend *f = (fs_backend *)b;
    uint64_t *seqs = NULL;
    size_t n = 0;
    int rc = fs_check_writable(f);
    if (rc == ST_OK)
        rc = list_snaps(f, pid, pid_len, &seqs, &n);
    for (size_t i = (size_t)keep; rc == ST_OK && i < n; i++) {
        char path[4200];
        snap_path(f, path, sizeof(path), pid, pid_len, seqs[i]);
        unlink(path);
    }
    free(seqs);
    return rc;
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
    STORE_BACKEND_OPS_NAMED(fs),
    STORE_BACKEND_NO_TRANSACTIONS,
    .journal_deleted_to = fs_journal_deleted_to,
    .state_flush = fs_state_flush,
};

/* Read-only (issue 17.4): the three areas must exist, the layout marker
 * (when there is one) must be readable, and nothing is created; with no
 * lock fd every write fails at fs_lock_all. */
static int fs_open_read_only(fs_backend *f)
{
    char path[4096];
    static const char *const areas[] = {"journal", "snapshots", "state"};
    for (int i = 0; i < 3; i++) {
        struct stat sb;
        snprintf(path, sizeof(path), "%s/%s", f->root, areas[i]);
        if (stat(path, &sb) != 0 || !S_ISDIR(sb.st_mode))
            return error_set(ST_ENOTFOUND, "fs store '%s': not a ddata store (no %s/)", f->root,
                             areas[i]);
    }
    return fs_layout_read(f);
}

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
    if (opts && opts->read_only) {
        int rc = fs_open_read_only(f);
        if (rc != ST_OK) {
            fs_close(&f->base);
            return rc;
        }
        *out = &f->base;
        return ST_OK;
    }
    const char *areas[] = {"journal", "snapshots", "state"};
    int rc = ST_OK;
    if (opts && opts->must_exist) {
        /* A store has all three areas; an empty or foreign folder is not one. */
        struct stat st;
        for (int i = 0; rc == ST_OK && i < 3; i++) {
            snprintf(path, sizeof(path), "%s/%s", root, areas[i]);
            if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
                rc = error_set(errno == ENOENT && i == 0 && stat(root, &st) != 0 ? ST_ENOTFOUND
                                                                                 : ST_ECORRUPT,
                               "fs store '%s' does not exist or is not a ddata store (no '%s')",
                               root, areas[i]);
        }
    } else {
        rc = fs_mkdir_p(root);
    }
    for (int i = 0; rc == ST_OK && i < 3; i++) {
        snprintf(path, sizeof(path), "%s/%s", root, areas[i]);
        rc = fs_mkdir_p(path);
    }
    if (rc == ST_OK) {
        snprintf(path, sizeof(path), "%s/lock", root);
        rc = fs_open_regular(path, O_RDWR | O_CREAT, &f->lock_fd);
    }
    if (rc == ST_OK)
        rc = fs_layout_check(f);
    if (rc == ST_OK)
        rc = fs_state_batch_recover(f);
    if (rc != ST_OK) {
        fs_close(&f->base);
        return rc;
    }
    *out = &f->base;
    return ST_OK;
}
