/*
 * Disks that fail: a write that runs out of space, a write that fails, an
 * fsync that fails. Each is a clean ST_EIO, nothing acknowledged is lost,
 * and the store refuses every later write until it is reopened: after a
 * failed fsync the kernel may have dropped the dirty pages, so a retry that
 * "succeeds" would acknowledge data that is not on disk (PostgreSQL's
 * fsync lesson). The faults come from below the engines: a wrapper of
 * SQLite's default VFS that fails xWrite or xSync on demand, and the fs
 * engine's write/fsync hook.
 */
#include <errno.h>
#include <sqlite3.h>
#include <string.h>
#include <unistd.h>

#include "store/fs_io.h"
#include "by_path.h"
#include "util/error.h"

#define K(str) (const uint8_t *)(str), strlen(str)

enum fault { NONE, WRITE_ENOSPC, WRITE_EIO, SYNC_EIO };
static const char *const fault_names[] = {"none", "ENOSPC on write", "EIO on write",
                                          "EIO on fsync"};
static enum fault armed;

/* ---- a VFS over SQLite's default that fails on demand ---------------- */

typedef struct fault_file {
    sqlite3_file base;
    sqlite3_file *real; /* follows this struct in the same allocation */
} fault_file;

static sqlite3_vfs *real_vfs;
static sqlite3_vfs fault_vfs;
static sqlite3_io_methods fault_methods;

#define REAL(f) (((fault_file *)(f))->real)

static int f_close(sqlite3_file *f)
{
    return REAL(f)->pMethods->xClose(REAL(f));
}
static int f_read(sqlite3_file *f, void *p, int n, sqlite3_int64 off)
{
    return REAL(f)->pMethods->xRead(REAL(f), p, n, off);
}
static int f_write(sqlite3_file *f, const void *p, int n, sqlite3_int64 off)
{
    if (armed == WRITE_ENOSPC)
        return SQLITE_FULL;
    if (armed == WRITE_EIO)
        return SQLITE_IOERR_WRITE;
    return REAL(f)->pMethods->xWrite(REAL(f), p, n, off);
}
static int f_truncate(sqlite3_file *f, sqlite3_int64 size)
{
    return REAL(f)->pMethods->xTruncate(REAL(f), size);
}
static int f_sync(sqlite3_file *f, int flags)
{
    if (armed == SYNC_EIO)
        return SQLITE_IOERR_FSYNC;
    return REAL(f)->pMethods->xSync(REAL(f), flags);
}
static int f_size(sqlite3_file *f, sqlite3_int64 *out)
{
    return REAL(f)->pMethods->xFileSize(REAL(f), out);
}
static int f_lock(sqlite3_file *f, int l)
{
    return REAL(f)->pMethods->xLock(REAL(f), l);
}
static int f_unlock(sqlite3_file *f, int l)
{
    return REAL(f)->pMethods->xUnlock(REAL(f), l);
}
static int f_reserved(sqlite3_file *f, int *out)
{
    return REAL(f)->pMethods->xCheckReservedLock(REAL(f), out);
}
static int f_control(sqlite3_file *f, int op, void *arg)
{
    return REAL(f)->pMethods->xFileControl(REAL(f), op, arg);
}
static int f_sector(sqlite3_file *f)
{
    return REAL(f)->pMethods->xSectorSize(REAL(f));
}
static int f_device(sqlite3_file *f)
{
    return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f));
}
static int f_shm_map(sqlite3_file *f, int pg, int sz, int ext, void volatile **pp)
{
    return REAL(f)->pMethods->xShmMap(REAL(f), pg, sz, ext, pp);
}
static int f_shm_lock(sqlite3_file *f, int off, int n, int flags)
{
    return REAL(f)->pMethods->xShmLock(REAL(f), off, n, flags);
}
static void f_shm_barrier(sqlite3_file *f)
{
    REAL(f)->pMethods->xShmBarrier(REAL(f));
}
static int f_shm_unmap(sqlite3_file *f, int del)
{
    return REAL(f)->pMethods->xShmUnmap(REAL(f), del);
}
static int f_fetch(sqlite3_file *f, sqlite3_int64 off, int n, void **pp)
{
    return REAL(f)->pMethods->xFetch(REAL(f), off, n, pp);
}
static int f_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p)
{
    return REAL(f)->pMethods->xUnfetch(REAL(f), off, p);
}

static int v_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *file, int flags, int *out)
{
    (void)vfs;
    fault_file *ff = (fault_file *)file;
    ff->real = (sqlite3_file *)(ff + 1);
    int rc = real_vfs->xOpen(real_vfs, name, ff->real, flags, out);
    ff->base.pMethods = rc == SQLITE_OK && ff->real->pMethods ? &fault_methods : NULL;
    return rc;
}

static void fault_vfs_install(void)
{
    real_vfs = sqlite3_vfs_find(NULL);
    ASSERT(real_vfs && real_vfs->iVersion >= 1);
    fault_methods = (sqlite3_io_methods){
        3,          f_close,       f_read,      f_write,   f_truncate, f_sync,   f_size,
        f_lock,     f_unlock,      f_reserved,  f_control, f_sector,   f_device, f_shm_map,
        f_shm_lock, f_shm_barrier, f_shm_unmap, f_fetch,   f_unfetch};
    fault_vfs = *real_vfs;
    fault_vfs.zName = "ddata-fault";
    fault_vfs.szOsFile = (int)sizeof(fault_file) + real_vfs->szOsFile;
    fault_vfs.xOpen = v_open;
    ASSERT(sqlite3_vfs_register(&fault_vfs, 1) == SQLITE_OK);
}

static void fault_vfs_remove(void)
{
    sqlite3_vfs_unregister(&fault_vfs);
    sqlite3_vfs_register(real_vfs, 1);
}

/* ---- the fs engine's hook --------------------------------------------- */

static ssize_t hook_write(int fd, const void *p, size_t n)
{
    if (armed == WRITE_ENOSPC || armed == WRITE_EIO) {
        errno = armed == WRITE_ENOSPC ? ENOSPC : EIO;
        return -1;
    }
    return write(fd, p, n);
}

static int hook_fsync(int fd)
{
    if (armed == SYNC_EIO) {
        errno = EIO;
        return -1;
    }
    return fsync(fd);
}

/* ---- the story, on either engine ---------------------------------------- */

static journal *open_journal(int fs, const char *path)
{
    store_backend *be;
    if (fs) {
        fs_options o = {STORE_SYNC_FULL, false};
        ASSERT_OK(store_backend_open_fs(&be, path, &o));
    } else {
        sqlite_options o = sqlite_options_default();
        o.sync = STORE_SYNC_FULL;
        ASSERT_OK(store_backend_open_sqlite(&be, path, &o));
    }
    journal *j;
    ASSERT_OK(journal_open_backend(&j, be, NULL, NULL));
    return j;
}

static int collect(void *ctx, const store_event *ev)
{
    char *seen = ctx;
    ASSERT(ev->seq < 64);
    seen[ev->seq] = (char)(ev->payload_len == 5 && memcmp(ev->payload, "event", 5) == 0);
    return 0;
}

/* Appends until the fault, then: the failing append is ST_EIO, a later
 * one (fault gone) is refused, a reopened store has every acknowledged
 * event and takes writes again. */
static void fault_story(int fs, enum fault fault)
{
    char path[1100];
    snprintf(path, sizeof(path), "%s/%s-%d", test_tmpdir(), fs ? "fs" : "sqlite.db", fault);
    journal *j = open_journal(fs, path);
    journal_event_in ev = {K("event"), 1, NULL, 0};
    uint64_t acked = 0;
    for (; acked < 5; acked++)
        ASSERT_OK(journal_append(j, K("p"), acked, &ev, 1));
    armed = fault;
    int rc = journal_append(j, K("p"), acked, &ev, 1);
    armed = NONE;
    ASSERT_MSG(rc == ST_EIO, "%s (%s): append returned %d: %s", fs ? "fs" : "sqlite",
               fault_names[fault], rc, error_message());
    ASSERT_STATUS(journal_append(j, K("p"), acked, &ev, 1), ST_EIO);
    ASSERT_MSG(strstr(error_message(), "reopened"), "%s", error_message());
    bytes snap = BYTES_INIT;
    ASSERT_STATUS(journal_snapshot_save(j, K("p"), 1, 1, K("s")), ST_EIO);
    journal_close(j);

    j = open_journal(fs, path);
    uint64_t highest;
    ASSERT_OK(journal_highest(j, K("p"), &highest));
    ASSERT(highest >= acked); /* the failed append may or may not have landed */
    char seen[64] = {0};
    ASSERT_OK(journal_replay(j, K("p"), 1, UINT64_MAX, UINT64_MAX, collect, seen));
    for (uint64_t s = 1; s <= acked; s++)
        ASSERT_MSG(seen[s], "%s (%s): acknowledged event %llu is lost", fs ? "fs" : "sqlite",
                   fault_names[fault], (unsigned long long)s);
    ASSERT_OK(journal_append(j, K("p"), highest, &ev, 1));
    journal_close(j);
    bytes_free(&snap);
}

TEST(test_sqlite_failed_write_or_sync_is_eio_and_refuses_writes_until_reopened)
{
    fault_vfs_install();
    for (enum fault f = WRITE_ENOSPC; f <= SYNC_EIO; f++)
        fault_story(0, f);
    fault_vfs_remove();
}

TEST(test_fs_failed_write_or_fsync_is_eio_and_refuses_writes_until_reopened)
{
    fs_io_faults hooks = {hook_write, hook_fsync};
    fs_io_set_faults(&hooks);
    for (enum fault f = WRITE_ENOSPC; f <= SYNC_EIO; f++)
        fault_story(1, f);
    fs_io_set_faults(NULL);
}

TEST(test_sqlite_failed_sync_on_a_state_upsert_refuses_later_upserts)
{
    fault_vfs_install();
    char path[1100];
    tmp_path(path, sizeof(path), "state.db");
    sqlite_options o = sqlite_options_default();
    o.sync = STORE_SYNC_FULL;
    state_store *s = open_sqlite_state(path, &o);
    ASSERT_OK(state_store_upsert(s, K("k"), 0, K("one"), NULL));
    armed = SYNC_EIO;
    ASSERT_STATUS(state_store_upsert(s, K("k"), 1, K("two"), NULL), ST_EIO);
    armed = NONE;
    ASSERT_STATUS(state_store_upsert(s, K("k"), STATE_ANY_REVISION, K("three"), NULL), ST_EIO);
    state_store_close(s);
    fault_vfs_remove();
    s = open_sqlite_state(path, &o);
    bytes out = BYTES_INIT;
    uint64_t rev;
    ASSERT_OK(state_store_get(s, K("k"), &rev, &out));
    ASSERT(rev == 1 || rev == 2);
    state_store_close(s);
    bytes_free(&out);
}
