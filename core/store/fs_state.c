/*
 * The file-system engine's state records: one file per key,
 * <root>/state/<id> holding key, revision and data (fs_backend.c has the
 * layout). A single upsert or delete is one atomic rename or unlink.
 *
 * A batch spans many files, so it is made atomic with an intent file:
 * <root>/state-batch holds every op with the revision it writes, written
 * atomically (temporary, fsync, rename) after every expected revision has
 * been checked under the writer lock. That rename is the commit point;
 * the ops are then applied file by file and the intent removed. A crash in
 * between leaves the intent, which the next writable open applies again
 * (applying is idempotent: each op names the revision and data it leaves),
 * as does the next state write through any handle, before its own.
 * A reader in another process may see a batch half-applied while it is
 * being applied, never a batch that then does not happen. Prefix purges
 * are batches of deletes, so they are atomic the same way.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/binding.h"
#include "store/fs_io.h"
#include "store/state_generic.h"
#include "store/store.h"
#include "util/alloc.h"
#include "util/error.h"
#include "util/status.h"

#define FS_BATCH_NAME "state-batch"

static int recover_locked(fs_backend *f);

/* Takes the writer lock and first completes a batch another handle left
 * half-applied, so no state write (a purge above all) lands before it. */
static int lock_state(fs_backend *f)
{
    int rc = fs_lock_all(f);
    if (rc == ST_OK && (rc = recover_locked(f)) != ST_OK)
        fs_unlock_all(f);
    return rc;
}

/* ---- state ------------------------------------------------------------ */

static int read_state(const char *path, bytes *buf, uint64_t *revision, const uint8_t **data,
                      size_t *len, const uint8_t **key, size_t *key_len)
{
    /* Outputs are set on every path, so no caller reads an unset one. */
    *revision = 0;
    *data = NULL;
    *len = 0;
    if (key) {
        *key = NULL;
        *key_len = 0;
    }
    int rc = fs_read_file(path, buf);
    reader r;
    int version;
    size_t kn = 0;
    const uint8_t *k = NULL;
    if (rc == ST_OK && (rc = fs_open_versioned(buf, "DDFK", path, &r, &version)) == ST_OK) {
        k = reader_blob(&r, STORE_MAX_KEY_BYTES, &kn);
        *revision = reader_u64(&r);
        *data = reader_blob(&r, FS_MAX_FILE_BYTES, len);
        if (!reader_done(&r))
            return error_set(ST_ECORRUPT, "fs store: '%s' is malformed", path);
        if (!*data)
            *data = (const uint8_t *)"";
    }
    if (rc == ST_OK && version < FS_RECORD_VERSION) {
        /* The key and the wrapped record move to one new buffer. */
        bytes binding = BYTES_INIT, wrapped = BYTES_INIT, both = BYTES_INIT;
        store_bind_state(&binding, k, kn, false, 0);
        rc = fs_legacy_payload(version, &binding, data, len, &wrapped);
        if (rc == ST_OK && wrapped.data) {
            bytes_put(&both, k, kn);
            bytes_put(&both, *data, *len);
            if (both.failed) {
                rc = error_oom();
            } else {
                bytes_free(buf);
                *buf = both;
                both = (bytes)BYTES_INIT;
                k = buf->data;
                *data = buf->data + kn;
            }
        }
        bytes_free(&binding);
        bytes_free(&wrapped);
        bytes_free(&both);
    }
    if (rc == ST_OK && key) {
        *key = k ? k : (const uint8_t *)"";
        *key_len = kn;
    }
    return rc;
}

int fs_state_get(store_backend *b, const uint8_t *key, size_t key_len, uint64_t *revision,
                 bytes *state)
{
    fs_backend *f = (fs_backend *)b;
    char path[4096];
    fs_path_of(f, path, sizeof(path), "state", key, key_len);
    bytes buf = BYTES_INIT;
    uint64_t rev = 0;
    const uint8_t *data = NULL;
    size_t len = 0;
    int rc = read_state(path, &buf, &rev, &data, &len, NULL, NULL);
    if (rc == ST_ENOTFOUND)
        rc = state_error_not_found(key, key_len);
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

static int current_rev(fs_backend *f, const uint8_t *key, size_t key_len, uint64_t *rev)
{
    int rc = fs_state_get(&f->base, key, key_len, rev, NULL);
    if (rc == ST_ENOTFOUND) {
        *rev = 0;
        return ST_OK;
    }
    return rc;
}

/* Writes the record of key at `revision` (no check: the caller holds the
 * lock and has checked). */
static int write_record(fs_backend *f, const uint8_t *key, size_t key_len, uint64_t revision,
                        const uint8_t *data, size_t len)
{
    char dir[4096], name[FS_ID_MAX];
    snprintf(dir, sizeof(dir), "%s/state", f->root);
    fs_id_name(key, key_len, name);
    bytes buf = BYTES_INIT;
    bytes_put(&buf, "DDFK\2", 5);
    bytes_put_blob(&buf, key, key_len);
    bytes_put_u64(&buf, revision);
    bytes_put_blob(&buf, data, len);
    return fs_write_record(f, dir, name, &buf);
}

/* Reads key's revision into *current (0: absent) and checks it against
 * `expected`; with must_exist, an absent key is not found. The lock is
 * held. */
static int check_current(fs_backend *f, const uint8_t *key, size_t key_len, uint64_t expected,
                         int must_exist, uint64_t *current)
{
    int rc = current_rev(f, key, key_len, current);
    if (rc != ST_OK)
        return rc;
    if (must_exist && *current == 0)
        return state_error_not_found(key, key_len);
    if (expected != STATE_ANY_REVISION && expected != *current)
        return state_error_conflict(key, key_len, expected, *current);
    return ST_OK;
}

static int remove_record(fs_backend *f, const uint8_t *key, size_t key_len)
{
    char path[4096], dir[4096];
    fs_path_of(f, path, sizeof(path), "state", key, key_len);
    snprintf(dir, sizeof(dir), "%s/state", f->root);
    if (unlink(path) != 0)
        return fs_io_error("deleting", path);
    return fs_fsync_dir(f, dir);
}

/* One record's upsert or delete, alone: under the state lock, checks the
 * revision (a delete needs the key to exist), then writes the next
 * revision's file atomically or removes the file. */
static int change_record(fs_backend *f, const state_op *op, uint64_t *new_revision)
{
    int is_delete = op->kind == STATE_OP_DELETE;
    int rc = lock_state(f);
    if (rc != ST_OK)
        return rc;
    uint64_t current;
    rc = check_current(f, op->key, op->key_len, op->expected_revision, is_delete, &current);
    if (rc == ST_OK && is_delete)
        rc = remove_record(f, op->key, op->key_len);
    else if (rc == ST_OK)
        rc = write_record(f, op->key, op->key_len, current + 1, op->state, op->state_len);
    if (rc == ST_OK && new_revision)
        *new_revision = current + 1;
    fs_unlock_all(f);
    return rc;
}

int fs_state_upsert(store_backend *b, const uint8_t *key, size_t key_len, uint64_t expected,
                    const uint8_t *state, size_t state_len, uint64_t *new_revision)
{
    state_op op = {STATE_OP_UPSERT, key, key_len, expected, state, state_len};
    return change_record((fs_backend *)b, &op, new_revision);
}

int fs_state_delete(store_backend *b, const uint8_t *key, size_t key_len, uint64_t expected)
{
    state_op op = {STATE_OP_DELETE, key, key_len, expected, NULL, 0};
    return change_record((fs_backend *)b, &op, NULL);
}

/* Every record whose key starts with prefix, sorted by key. */
static int collect_state(fs_backend *f, const uint8_t *prefix, size_t prefix_len, id_item **out,
                         size_t *count)
{
    char area[4096];
    snprintf(area, sizeof(area), "%s/state", f->root);
    char **names;
    size_t n;
    int rc = fs_list_names(area, &names, &n);
    id_item *items = n ? calloc(n, sizeof(*items)) : NULL;
    size_t got = 0;
    if (rc == ST_OK && n && !items)
        rc = error_oom();
    bytes buf = BYTES_INIT;
    for (size_t i = 0; rc == ST_OK && i < n; i++) {
        char path[4200];
        snprintf(path, sizeof(path), "%s/%s", area, names[i]);
        uint64_t rev = 0;
        const uint8_t *data = NULL, *key = NULL;
        size_t len = 0, key_len = 0;
        int frc = read_state(path, &buf, &rev, &data, &len, &key, &key_len);
        if (frc == ST_ENOTFOUND)
            continue;
        if (frc != ST_OK) {
            rc = frc;
            break;
        }
        if (key_len < prefix_len || (prefix_len && memcmp(key, prefix, prefix_len) != 0))
            continue;
        items[got].id = fs_dup_bytes(key, key_len);
        items[got].data = fs_dup_bytes(data, len);
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
    fs_free_names(names, n);
    if (rc == ST_OK && got)
        qsort(items, got, sizeof(*items), fs_id_item_cmp);
    if (rc != ST_OK) {
        fs_free_items(items, got);
        items = NULL;
        got = 0;
    }
    *out = items;
    *count = got;
    return rc;
}

static int emit(const id_item *it, state_scan_fn fn, void *ctx)
{
    return fn(ctx, it->id, it->len, it->revision, it->data, it->data_len);
}

int fs_state_scan(store_backend *b, const uint8_t *prefix, size_t prefix_len, state_scan_fn fn,
                  void *ctx)
{
    id_item *items;
    size_t n;
    int rc = collect_state((fs_backend *)b, prefix, prefix_len, &items, &n);
    for (size_t i = 0; rc == ST_OK && i < n; i++)
        rc = emit(&items[i], fn, ctx);
    fs_free_items(items, n);
    return rc;
}

int fs_state_range(store_backend *b, const uint8_t *from, size_t from_len, int64_t count,
                   state_scan_fn fn, void *ctx)
{
    id_item *items;
    size_t n;
    int rc = collect_state((fs_backend *)b, NULL, 0, &items, &n);
    if (count > 0) {
        int64_t sent = 0;
        for (size_t i = 0; rc == ST_OK && i < n && sent < count; i++) {
            if (from_len && store_key_cmp(items[i].id, items[i].len, from, from_len) < 0)
                continue;
            sent++;
            rc = emit(&items[i], fn, ctx);
        }
    } else if (count < 0) {
        uint64_t sent = 0, want = (uint64_t)(-(count + 1)) + 1; /* -count, without overflow */
        for (size_t i = n; rc == ST_OK && i > 0 && sent < want; i--) {
            if (from_len && store_key_cmp(items[i - 1].id, items[i - 1].len, from, from_len) > 0)
                continue;
            sent++;
            rc = emit(&items[i - 1], fn, ctx);
        }
    }
    fs_free_items(items, n);
    return rc;
}

int fs_state_purge(store_backend *b)
{
    fs_backend *f = (fs_backend *)b;
    char area[4096];
    snprintf(area, sizeof(area), "%s/state", f->root);
    int rc = lock_state(f);
    if (rc != ST_OK)
        return rc;
    char **names;
    size_t n;
    rc = fs_list_names(area, &names, &n);
    for (size_t i = 0; rc == ST_OK && i < n; i++) {
        char path[4200];
        snprintf(path, sizeof(path), "%s/%s", area, names[i]);
        if (unlink(path) != 0 && errno != ENOENT)
            rc = fs_io_error("deleting", path);
    }
    fs_free_names(names, n);
    if (rc == ST_OK)
        rc = fs_fsync_dir(f, area);
    fs_unlock_all(f);
    return rc;
}

int fs_state_scan_range(store_backend *b, const state_bounds *r, state_scan_fn fn, void *ctx)
{
    id_item *items;
    size_t n;
    int rc = collect_state((fs_backend *)b, NULL, 0, &items, &n);
    uint64_t sent = 0;
    for (size_t k = 0; rc == ST_OK && k < n && (!r->limit || sent < r->limit); k++) {
        const id_item *it = &items[r->reverse ? n - 1 - k : k];
        if (state_bounds_past(r, it->id, it->len))
            break;
        if (!state_bounds_contain(r, it->id, it->len))
            continue;
        sent++;
        rc = emit(it, fn, ctx);
    }
    fs_free_items(items, n);
    return rc;
}

/* Applies an intent file's ops (reader positioned after the count). */
static int apply_intent(fs_backend *f, reader *r, uint64_t count, const char *path)
{
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/state", f->root);
    int rc = ST_OK, deleted = 0;
    for (uint64_t i = 0; rc == ST_OK && i < count; i++) {
        uint8_t kind = reader_u8(r);
        size_t key_len, len;
        const uint8_t *key = reader_blob(r, STORE_MAX_KEY_BYTES, &key_len);
        uint64_t revision = reader_u64(r);
        const uint8_t *data = reader_blob(r, FS_MAX_FILE_BYTES, &len);
        if (!reader_ok(r) || !key || !key_len ||
            (kind != STATE_OP_UPSERT && kind != STATE_OP_DELETE))
            return error_set(ST_ECORRUPT, "fs store: '%s' is malformed at op %llu", path,
                             (unsigned long long)i);
        if (kind == STATE_OP_UPSERT) {
            rc = write_record(f, key, key_len, revision, data ? data : (const uint8_t *)"", len);
            continue;
        }
        char file[4096];
        fs_path_of(f, file, sizeof(file), "state", key, key_len);
        if (unlink(file) != 0 && errno != ENOENT)
            rc = fs_io_error("deleting", file);
        deleted = 1;
    }
    if (rc == ST_OK && deleted)
        rc = fs_fsync_dir(f, dir);
    if (rc == ST_OK && unlink(path) != 0 && errno != ENOENT)
        rc = fs_io_error("deleting", path);
    if (rc == ST_OK)
        rc = fs_fsync_dir(f, f->root);
    return rc;
}

static int recover_locked(fs_backend *f)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/" FS_BATCH_NAME, f->root);
    bytes buf = BYTES_INIT;
    int rc = fs_read_file(path, &buf);
    if (rc == ST_ENOTFOUND) {
        bytes_free(&buf);
        return ST_OK;
    }
    reader r;
    int version;
    if (rc == ST_OK)
        rc = fs_open_versioned(&buf, "DDFB", path, &r, &version);
    if (rc == ST_OK) {
        uint64_t count = reader_u64(&r);
        rc = reader_ok(&r) ? apply_intent(f, &r, count, path)
                           : error_set(ST_ECORRUPT, "fs store: '%s' is malformed", path);
    }
    bytes_free(&buf);
    return rc;
}

int fs_state_batch_recover(fs_backend *f)
{
    int rc = fs_lock_all(f);
    if (rc != ST_OK)
        return rc;
    rc = recover_locked(f);
    fs_unlock_all(f);
    return rc;
}

/* Checks every op, writes the intent (the commit point) and applies it;
 * the lock is held. */
static int batch_locked(fs_backend *f, const state_op *ops, size_t n, uint64_t *revisions)
{
    bytes buf = BYTES_INIT;
    bytes_put(&buf, "DDFB\2", 5);
    bytes_put_u64(&buf, n);
    int rc = ST_OK;
    for (size_t i = 0; rc == ST_OK && i < n; i++) {
        uint64_t current;
        if ((rc = current_rev(f, ops[i].key, ops[i].key_len, &current)) != ST_OK)
            break;
        uint64_t want = ops[i].expected_revision;
        if (want != STATE_ANY_REVISION &&
            (want != current || (ops[i].kind == STATE_OP_DELETE && current == 0))) {
            rc = state_error_batch_conflict(i, &ops[i], current);
            break;
        }
        int upsert = ops[i].kind == STATE_OP_UPSERT;
        bytes_put_u8(&buf, (uint8_t)ops[i].kind);
        bytes_put_blob(&buf, ops[i].key, ops[i].key_len);
        bytes_put_u64(&buf, upsert ? current + 1 : 0);
        bytes_put_blob(&buf, upsert ? ops[i].state : NULL, upsert ? ops[i].state_len : 0);
        if (revisions)
            revisions[i] = upsert ? current + 1 : 0;
    }
    fs_put_crc(&buf);
    if (rc == ST_OK && buf.failed)
        rc = error_oom();
    if (rc == ST_OK)
        rc = fs_write_atomic(f, f->root, FS_BATCH_NAME, &buf);
    if (rc == ST_OK)
        rc = recover_locked(f);
    bytes_free(&buf);
    return rc;
}

int fs_state_batch(store_backend *b, const state_op *ops, size_t n, uint64_t *revisions)
{
    fs_backend *f = (fs_backend *)b;
    int rc = lock_state(f);
    if (rc != ST_OK)
        return rc;
    rc = batch_locked(f, ops, n, revisions);
    fs_unlock_all(f);
    return rc;
}

int fs_state_purge_prefix(store_backend *b, const uint8_t *prefix, size_t prefix_len)
{
    fs_backend *f = (fs_backend *)b;
    int rc = lock_state(f);
    if (rc != ST_OK)
        return rc;
    id_item *items = NULL;
    size_t n = 0;
    state_op *ops = NULL;
    if ((rc = collect_state(f, prefix, prefix_len, &items, &n)) != ST_OK || n == 0)
        goto done;
    if (!(ops = alloc_array(n, sizeof(*ops)))) {
        rc = error_oom();
        goto done;
    }
    for (size_t i = 0; i < n; i++)
        ops[i] =
            (state_op){STATE_OP_DELETE, items[i].id, items[i].len, STATE_ANY_REVISION, NULL, 0};
    rc = batch_locked(f, ops, n, NULL);
done:
    fs_unlock_all(f);
    free(ops);
    fs_free_items(items, n);
    return rc;
}

/* With sync off nothing was fsynced, so flush syncs the whole file system
 * the store lives on (one call, rather than every file written). */
int fs_state_flush(store_backend *b)
{
    fs_backend *f = (fs_backend *)b;
    int fd = f->lock_fd;
    if (fd < 0)
        return ST_OK; /* read-only: nothing written */
    if (syncfs(fd) != 0)
        return fs_io_error("syncing the file system of", f->root);
    return ST_OK;
}
