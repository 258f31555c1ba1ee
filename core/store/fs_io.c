/*
 * The file-system engine's file handling: atomic writes (temporary file,
 * fsync, rename, directory fsync), checksummed reads, the writer lock and
 * the naming of ids. See fs_io.h.
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

#include "obs/store_latency.h"
#include "seal/envelope.h"
#include "seal/plain.h"
#include "store/fs_io.h"
#include "store/journal.h"
#include "store/store.h"
#include "store/tags.h"
#include "util/alloc.h"
#include "util/error.h"
#include "util/status.h"

int fs_io_error(const char *what, const char *path)
{
    return error_set(ST_EIO, "fs store: %s '%s': %s", what, path, strerror(errno));
}

static fs_io_faults io_faults;

void fs_io_set_faults(const fs_io_faults *faults)
{
    io_faults = faults ? *faults : (fs_io_faults){NULL, NULL};
}

static ssize_t io_write(int fd, const void *buf, size_t n)
{
    return io_faults.write ? io_faults.write(fd, buf, n) : write(fd, buf, n);
}

static int io_fsync(int fd)
{
    uint64_t started_ns = store_latency_start();
    int rc = io_faults.fsync ? io_faults.fsync(fd) : fsync(fd);
    store_latency_record(STORE_LATENCY_FSYNC, started_ns);
    return rc;
}

/* Records the first failure (errno) and reports this one. */
static int fs_write_failed(fs_backend *f, const char *what, const char *path)
{
    int e = errno;
    if (!f->failed_errno)
        f->failed_errno = e ? e : EIO;
    errno = e;
    return fs_io_error(what, path);
}

int fs_check_writable(fs_backend *f)
{
    if (!f->failed_errno)
        return ST_OK;
    return error_set(ST_EIO,
                     "fs store '%s': an earlier write or fsync failed (%s); nothing more is "
                     "written until the store is reopened",
                     f->root, strerror(f->failed_errno));
}

void fs_id_name(const uint8_t *id, size_t len, char out[FS_ID_MAX])
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

int fs_mkdir_p(const char *path)
{
    if (mkdir(path, FS_DIR_MODE) == 0 || errno == EEXIST)
        return ST_OK;
    return fs_io_error("creating directory", path);
}

int fs_fsync_dir(fs_backend *f, const char *dir)
{
    if (!f->sync)
        return ST_OK;
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return fs_io_error("opening directory", dir);
    int rc = io_fsync(fd) == 0 ? ST_OK : fs_write_failed(f, "syncing directory", dir);
    close(fd);
    return rc;
}

/* Appends a CRC-32 of everything so far; files are checked on read. */
void fs_put_crc(bytes *b)
{
    uint32_t crc = (uint32_t)crc32(0, b->data, (uInt)b->len);
    bytes_put_u32(b, crc);
}

int fs_write_all(int fd, const bytes *b)
{
    size_t off = 0;
    while (off < b->len) {
        ssize_t n = io_write(fd, b->data + off, b->len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0)
                errno = ENOSPC;
            return -1;
        }
        off += (size_t)n;
    }
    return 0;
}

int fs_write_atomic(fs_backend *f, const char *dir, const char *name, const bytes *b)
{
    char tmp[4096], final[4096];
    snprintf(tmp, sizeof(tmp), "%s/.tmp.%016llx.%d.%lu", dir, (unsigned long long)f->tmp_prefix,
             (int)getpid(), ++f->tmp_counter);
    snprintf(final, sizeof(final), "%s/%s", dir, name);
    if (b->failed)
        return error_oom();
    int rc0 = fs_check_writable(f);
    if (rc0 != ST_OK)
        return rc0;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, FS_FILE_MODE);
    if (fd < 0)
        return fs_io_error("creating", tmp);
    if (fs_write_all(fd, b) != 0) {
        int rc = fs_write_failed(f, "writing", tmp);
        close(fd);
        unlink(tmp);
        return rc;
    }
    if (f->sync && io_fsync(fd) != 0) {
        int rc = fs_write_failed(f, "syncing", tmp);
        close(fd);
        unlink(tmp);
        return rc;
    }
    close(fd);
    if (rename(tmp, final) != 0) {
        int rc = fs_io_error("renaming", final);
        unlink(tmp);
        return rc;
    }
    return fs_fsync_dir(f, dir);
}

int fs_write_record(fs_backend *f, const char *dir, const char *name, bytes *b)
{
    fs_put_crc(b);
    int rc = fs_write_atomic(f, dir, name, b);
    bytes_free(b);
    return rc;
}

int fs_open_regular(const char *path, int flags, int *out)
{
    *out = -1;
    int fd = open(path, flags | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, FS_FILE_MODE);
    if (fd < 0) {
        if (errno == ENOENT)
            return ST_ENOTFOUND;
        if (errno == ELOOP)
            return error_set(ST_ECORRUPT, "fs store: '%s' is a symbolic link, not a file", path);
        return fs_io_error("opening", path);
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int rc = fs_io_error("inspecting", path);
        close(fd);
        return rc;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return error_set(ST_ECORRUPT, "fs store: '%s' is not a regular file", path);
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0) {
        int rc = fs_io_error("opening", path);
        close(fd);
        return rc;
    }
    *out = fd;
    return ST_OK;
}

/* ST_ENOTFOUND (no message) when the file does not exist. */
int fs_read_file(const char *path, bytes *out)
{
    int fd;
    int rc = fs_open_regular(path, O_RDONLY, &fd);
    if (rc != ST_OK)
        return rc;
    bytes_reset(out);
    for (;;) {
        if (!bytes_reserve(out, 65536)) {
            rc = error_oom();
            break;
        }
        ssize_t n = read(fd, out->data + out->len, 65536);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = fs_io_error("reading", path);
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

/* Checks magic, CRC and format byte, in that order, so a whole file of a
 * later format is ST_EUNSUPPORTED and bit rot ST_ECORRUPT; on success *r
 * reads the body. */
int fs_open_record(const bytes *b, const char *magic, const char *path, reader *r)
{
    int version = 0;
    int rc = fs_open_versioned(b, magic, path, r, &version);
    if (rc == ST_OK && version != 1)
        rc = error_set(ST_ECORRUPT, "fs store: '%s' has unknown version %d", path, version);
    return rc;
}

/* Like fs_open_record for files whose format went through versions: any
 * version 1..FS_RECORD_VERSION opens, and *version says which. */
int fs_open_versioned(const bytes *b, const char *magic, const char *path, reader *r, int *version)
{
    if (b->len < 9 || memcmp(b->data, magic, 4) != 0)
        return error_set(ST_ECORRUPT, "fs store: '%s' is not a %s file", path, magic);
    uint32_t want = load_u32le(b->data + b->len - 4);
    if ((uint32_t)crc32(0, b->data, (uInt)(b->len - 4)) != want)
        return error_set(ST_ECORRUPT, "fs store: '%s' fails its checksum", path);
    if (b->data[4] < 1 || b->data[4] > FS_RECORD_VERSION)
        return error_set(ST_EUNSUPPORTED,
                         "fs store: '%s' is %s format %u; this library reads 1..%d", path, magic,
                         b->data[4], FS_RECORD_VERSION);
    *version = b->data[4];
    *r = reader_make(b->data + 5, b->len - 9);
    return ST_OK;
}

int fs_lock_all(fs_backend *f)
{
    int rc = fs_check_writable(f);
    if (rc != ST_OK)
        return rc;
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    while (fcntl(f->lock_fd, F_OFD_SETLKW, &fl) != 0) {
        if (errno != EINTR)
            return fs_io_error("locking", f->root);
    }
    return ST_OK;
}

void fs_unlock_all(fs_backend *f)
{
    struct flock fl = {.l_type = F_UNLCK, .l_whence = SEEK_SET};
    fcntl(f->lock_fd, F_OFD_SETLK, &fl);
}

void fs_path_of(fs_backend *f, char *out, size_t n, const char *area, const uint8_t *id,
                size_t id_len)
{
    char name[FS_ID_MAX];
    fs_id_name(id, id_len, name);
    snprintf(out, n, "%s/%s/%s", f->root, area, name);
}

/* Calls fn with the name of each entry of dir until it returns non-zero; a
 * missing directory has no entries. */
static int each_entry(const char *dir, int (*fn)(void *ctx, const char *name), void *ctx)
{
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? ST_OK : fs_io_error("listing", dir);
    int rc = ST_OK;
    struct dirent *e;
    while (rc == ST_OK && (e = readdir(d)))
        rc = fn(ctx, e->d_name);
    closedir(d);
    return rc;
}

typedef struct numbered {
    char prefix;
    uint64_t *v;
    size_t n, cap;
} numbered;

static int add_numbered(void *ctx, const char *name)
{
    numbered *l = ctx;
    const char *num = name + (l->prefix ? 1 : 0);
    if (l->prefix ? name[0] != l->prefix : (num[0] < '0' || num[0] > '9'))
        return ST_OK;
    char *end;
    uint64_t v = strtoull(num, &end, 10);
    if (*end)
        return ST_OK;
    if (!array_reserve(&l->v, &l->cap, l->n + 1, sizeof(*l->v)))
        return error_oom();
    l->v[l->n++] = v;
    return ST_OK;
}

int fs_list_numbered(const char *dir, char prefix, bool descending, uint64_t **out, size_t *count)
{
    numbered l = {prefix, NULL, 0, 0};
    int rc = each_entry(dir, add_numbered, &l);
    /* insertion sort: a directory of one pid holds few files */
    for (size_t i = 1; i < l.n; i++)
        for (size_t k = i; k > 0 && (descending ? l.v[k - 1] < l.v[k] : l.v[k - 1] > l.v[k]); k--) {
            uint64_t t = l.v[k];
            l.v[k] = l.v[k - 1];
            l.v[k - 1] = t;
        }
    *out = l.v;
    *count = l.n;
    return rc;
}

typedef struct names {
    char **v;
    size_t n, cap;
} names;

static int add_name(void *ctx, const char *name)
{
    names *l = ctx;
    if (name[0] != 'x' && name[0] != 'h')
        return ST_OK;
    if (!array_reserve(&l->v, &l->cap, l->n + 1, sizeof(*l->v)))
        return error_oom();
    if (!(l->v[l->n] = strdup(name)))
        return error_oom();
    l->n++;
    return ST_OK;
}

/* Names of the entries of an area directory (journal/, snapshots/,
 * state/), excluding temporaries. */
int fs_list_names(const char *dir, char ***out, size_t *count)
{
    names l = {NULL, 0, 0};
    int rc = each_entry(dir, add_name, &l);
    *out = l.v;
    *count = l.n;
    return rc;
}

void fs_free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

int fs_id_item_cmp(const void *a, const void *b)
{
    const id_item *x = a, *y = b;
    return store_key_cmp(x->id, x->len, y->id, y->len);
}

void fs_free_items(id_item *items, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(items[i].id);
        free(items[i].data);
    }
    free(items);
}

uint8_t *fs_dup_bytes(const uint8_t *p, size_t n)
{
    uint8_t *d = malloc(n ? n : 1);
    if (d && n)
        memcpy(d, p, n);
    return d;
}

int fs_legacy_payload(int version, const bytes *binding, const uint8_t **data, size_t *len,
                      bytes *scratch)
{
    if (version >= 2 || envelope_looks_sealed(*data, *len))
        return ST_OK;
    bytes_reset(scratch);
    if (binding->failed)
        return error_oom();
    int rc = plain_wrap(0, 0, binding->data, binding->len, *data, *len, scratch);
    if (rc == ST_OK) {
        *data = scratch->data;
        *len = scratch->len;
    }
    return rc;
}
