/*
 * Rekeying an fs store (rekey.h). Files are rewritten one by one, so a
 * rewrite in place would leave a crash half-way with some records under
 * the old key and some under the new. Instead the whole store is copied,
 * rekeyed, beside itself (<root>.rekey-<random>), synced, and swapped
 * with the original by one renameat2(RENAME_EXCHANGE): before the swap
 * the original is untouched, after it the copy is complete. The old tree
 * is removed afterwards; a crash before that leaves it under the
 * .rekey- name, holding the old records (delete it).
 *
 * The copy is made under the store's writer lock, and `lock` is hard
 * linked rather than copied, so writers that wait on the lock during the
 * rekey still exclude each other after the swap. meta, format and
 * ordering files are copied as they are; batch, snapshot and state files
 * are rewritten in the current file format (a version 1 payload gets its
 * plain envelope first, as a read would give it). Temporary files of
 * writes that never finished are left behind. A file system that cannot
 * exchange two directories atomically is refused (ST_EUNSUPPORTED) and
 * the store left as it was.
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

#include "store/binding.h"
#include "store/fs_io.h"
#include "store/journal.h"
#include "store/rekey.h"
#include "store/store.h"
#include "util/error.h"
#include "util/status.h"

#define PATH_BYTES 4400

typedef enum fs_area { AREA_ROOT, AREA_JOURNAL, AREA_SNAPSHOTS, AREA_STATE } fs_area;

typedef struct fs_rekey_ctx {
    fs_backend *f;
    rekey *r;
    bytes file, out, blob, binding, legacy;
} fs_rekey_ctx;

/* Writes a new file (never there before) and syncs it. */
static int write_new(fs_rekey_ctx *c, const char *path, const bytes *b)
{
    if (b->failed)
        return error_oom();
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, FS_FILE_MODE);
    if (fd < 0)
        return fs_io_error("creating", path);
    int rc = fs_write_all(fd, b) == 0 ? ST_OK : fs_io_error("writing", path);
    if (rc == ST_OK && c->f->sync && fsync(fd) != 0)
        rc = fs_io_error("syncing", path);
    close(fd);
    return rc;
}

static int malformed(const char *path)
{
    return error_set(ST_ECORRUPT, "fs store: '%s' is malformed", path);
}

static int rekey_batch(fs_rekey_ctx *c, const char *path)
{
    reader r;
    int version;
    int rc = fs_open_versioned(&c->file, "DDFB", path, &r, &version);
    if (rc != ST_OK)
        return rc;
    size_t pid_len;
    const uint8_t *pid = reader_blob(&r, STORE_MAX_KEY_BYTES, &pid_len);
    uint64_t n = reader_varint(&r);
    if (!reader_ok(&r) || n > JOURNAL_MAX_BATCH)
        return malformed(path);
    bytes_reset(&c->out);
    bytes_put(&c->out, "DDFB\2", 5);
    bytes_put_blob(&c->out, pid, pid_len);
    bytes_put_varint(&c->out, n);
    for (uint64_t i = 0; rc == ST_OK && i < n; i++) {
        store_event ev;
        memset(&ev, 0, sizeof(ev));
        ev.pid = pid ? pid : (const uint8_t *)"";
        ev.pid_len = pid_len;
        ev.seq = reader_varint(&r);
        ev.timestamp_ms = reader_varint(&r);
        ev.ordering = reader_varint(&r);
        ev.payload = reader_blob(&r, FS_MAX_FILE_BYTES, &ev.payload_len);
        ev.tags = reader_blob(&r, FS_MAX_FILE_BYTES, &ev.tags_len);
        if (!reader_ok(&r))
            return malformed(path);
        if (!ev.tags_len)
            ev.tags = NULL;
        if (!ev.payload)
            ev.payload = (const uint8_t *)"";
        store_bind_event(&c->binding, ev.pid, ev.pid_len, ev.seq, ev.timestamp_ms, ev.tags,
                         ev.tags_len);
        rc = fs_legacy_payload(version, &c->binding, &ev.payload, &ev.payload_len, &c->legacy);
        if (rc == ST_OK)
            rc = rekey_event(c->r, &ev, &c->blob);
        bytes_put_varint(&c->out, ev.seq);
        bytes_put_varint(&c->out, ev.timestamp_ms);
        bytes_put_varint(&c->out, ev.ordering);
        bytes_put_blob(&c->out, c->blob.data, c->blob.len);
        bytes_put_blob(&c->out, ev.tags, ev.tags_len);
    }
    if (rc == ST_OK && !reader_done(&r))
        rc = malformed(path);
    return rc;
}

static int rekey_snapshot_file(fs_rekey_ctx *c, const char *path)
{
    reader r;
    int version;
    int rc = fs_open_versioned(&c->file, "DDFS", path, &r, &version);
    if (rc != ST_OK)
        return rc;
    size_t pid_len, len;
    const uint8_t *pid = reader_blob(&r, STORE_MAX_KEY_BYTES, &pid_len);
    uint64_t seq = reader_u64(&r), ts = reader_u64(&r);
    const uint8_t *data = reader_blob(&r, FS_MAX_FILE_BYTES, &len);
    if (!reader_done(&r))
        return malformed(path);
    pid = pid ? pid : (const uint8_t *)"";
    data = data ? data : (const uint8_t *)"";
    store_bind_snapshot(&c->binding, pid, pid_len, seq, ts);
    rc = fs_legacy_payload(version, &c->binding, &data, &len, &c->legacy);
    if (rc == ST_OK)
        rc = rekey_snapshot(c->r, pid, pid_len, seq, ts, data, len, &c->blob);
    bytes_reset(&c->out);
    bytes_put(&c->out, "DDFS\2", 5);
    bytes_put_blob(&c->out, pid, pid_len);
    bytes_put_u64(&c->out, seq);
    bytes_put_u64(&c->out, ts);
    bytes_put_blob(&c->out, c->blob.data, c->blob.len);
    return rc;
}

static int rekey_state_file(fs_rekey_ctx *c, const char *path)
{
    reader r;
    int version;
    int rc = fs_open_versioned(&c->file, "DDFK", path, &r, &version);
    if (rc != ST_OK)
        return rc;
    size_t key_len, len;
    const uint8_t *key = reader_blob(&r, STORE_MAX_KEY_BYTES, &key_len);
    uint64_t revision = reader_u64(&r);
    const uint8_t *data = reader_blob(&r, FS_MAX_FILE_BYTES, &len);
    if (!reader_done(&r))
        return malformed(path);
    key = key ? key : (const uint8_t *)"";
    data = data ? data : (const uint8_t *)"";
    store_bind_state(&c->binding, key, key_len, false, 0);
    rc = fs_legacy_payload(version, &c->binding, &data, &len, &c->legacy);
    if (rc == ST_OK)
        rc = rekey_state(c->r, key, key_len, revision, data, len, &c->blob);
    bytes_reset(&c->out);
    bytes_put(&c->out, "DDFK\2", 5);
    bytes_put_blob(&c->out, key, key_len);
    bytes_put_u64(&c->out, revision);
    bytes_put_blob(&c->out, c->blob.data, c->blob.len);
    return rc;
}

/* Copies (or rekeys) the file `from` of `area` to `to`. */
static int copy_file(fs_rekey_ctx *c, fs_area area, const char *name, const char *from,
                     const char *to)
{
    if (area == AREA_ROOT && strcmp(name, "lock") == 0)
        return link(from, to) == 0 ? ST_OK : fs_io_error("linking", to);
    bytes_reset(&c->file);
    int rc = fs_read_file(from, &c->file);
    if (rc != ST_OK)
        return rc == ST_ENOTFOUND ? fs_io_error("reading", from) : rc;
    const bytes *content = &c->file;
    if ((area == AREA_JOURNAL && name[0] == 'b') || area == AREA_SNAPSHOTS || area == AREA_STATE) {
        rc = area == AREA_JOURNAL     ? rekey_batch(c, from)
             : area == AREA_SNAPSHOTS ? rekey_snapshot_file(c, from)
                                      : rekey_state_file(c, from);
        if (rc != ST_OK)
            return rc;
        fs_put_crc(&c->out);
        content = &c->out;
    }
    return write_new(c, to, content);
}

/* Copies directory `from` (of `area`) into the new directory `to`. */
static int copy_dir(fs_rekey_ctx *c, fs_area area, const char *from, const char *to)
{
    if (mkdir(to, FS_DIR_MODE) != 0)
        return fs_io_error("creating directory", to);
    DIR *d = opendir(from);
    if (!d)
        return fs_io_error("listing", from);
    int rc = ST_OK;
    struct dirent *e;
    while (rc == ST_OK && (e = readdir(d)) != NULL) {
        /* ".", "..", and the temporaries of unfinished writes. */
        if (e->d_name[0] == '.')
            continue;
        char a[PATH_BYTES], b[PATH_BYTES];
        if ((size_t)snprintf(a, sizeof(a), "%s/%s", from, e->d_name) >= sizeof(a) ||
            (size_t)snprintf(b, sizeof(b), "%s/%s", to, e->d_name) >= sizeof(b)) {
            rc = error_set(ST_ELIMIT, "fs store: path under '%.64s' is too long", from);
            break;
        }
        struct stat sb;
        if (lstat(a, &sb) != 0) {
            rc = fs_io_error("reading", a);
        } else if (S_ISDIR(sb.st_mode)) {
            fs_area sub = area;
            if (area == AREA_ROOT)
                sub = !strcmp(e->d_name, "journal")     ? AREA_JOURNAL
                      : !strcmp(e->d_name, "snapshots") ? AREA_SNAPSHOTS
                      : !strcmp(e->d_name, "state")     ? AREA_STATE
                                                        : AREA_ROOT;
            rc = copy_dir(c, sub, a, b);
        } else if (S_ISREG(sb.st_mode)) {
            rc = copy_file(c, area, e->d_name, a, b);
        } else {
            rc = error_set(ST_ECORRUPT, "fs store: '%s' is neither a file nor a directory", a);
        }
    }
    closedir(d);
    if (rc == ST_OK)
        rc = fs_fsync_dir(c->f, to);
    return rc;
}

/* Removes the tree at `path` (best effort: it holds nothing still used). */
static void remove_tree(const char *path)
{
    DIR *d = opendir(path);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            char p[PATH_BYTES];
            if ((size_t)snprintf(p, sizeof(p), "%s/%s", path, e->d_name) >= sizeof(p))
                continue;
            struct stat sb;
            if (lstat(p, &sb) == 0 && S_ISDIR(sb.st_mode))
                remove_tree(p);
            else
                unlink(p);
        }
        closedir(d);
    }
    rmdir(path);
}

int fs_rekey(store_backend *be, rekey *r)
{
    fs_backend *f = (fs_backend *)be;
    fs_rekey_ctx c = {f, r, BYTES_INIT, BYTES_INIT, BYTES_INIT, BYTES_INIT, BYTES_INIT};
    char root[PATH_BYTES], copy[PATH_BYTES], parent[PATH_BYTES];
    snprintf(root, sizeof(root), "%s", f->root);
    size_t n = strlen(root);
    while (n > 1 && root[n - 1] == '/')
        root[--n] = 0;
    uint64_t tag;
    randombytes_buf(&tag, sizeof(tag));
    snprintf(copy, sizeof(copy), "%s.rekey-%016llx", root, (unsigned long long)tag);
    snprintf(parent, sizeof(parent), "%s", root);
    char *slash = strrchr(parent, '/');
    if (!slash)
        snprintf(parent, sizeof(parent), ".");
    else
        slash[slash == parent ? 1 : 0] = 0;
    int rc = fs_lock_all(f);
    if (rc != ST_OK)
        return rc;
    rc = copy_dir(&c, AREA_ROOT, root, copy);
    if (rc == ST_OK && renameat2(AT_FDCWD, copy, AT_FDCWD, root, RENAME_EXCHANGE) != 0)
        rc = errno == EINVAL || errno == ENOSYS
                 ? error_set(ST_EUNSUPPORTED,
                             "fs store '%s': rekey needs a file system that exchanges two "
                             "directories atomically (renameat2 RENAME_EXCHANGE)",
                             root)
                 : fs_io_error("swapping in the rekeyed copy of", root);
    if (rc == ST_OK)
        rc = fs_fsync_dir(f, parent);
    /* Either the copy never went live, or (after the swap) it holds the
     * old records: both are removed. */
    remove_tree(copy);
    fs_unlock_all(f);
    bytes_free(&c.file);
    bytes_free(&c.out);
    bytes_free(&c.blob);
    bytes_free(&c.binding);
    bytes_free(&c.legacy);
    return rc;
}
