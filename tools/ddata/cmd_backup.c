/*
 * `ddata backup SRC DEST`: a consistent copy of a live store while its
 * writer keeps running.
 *
 * SQLite: SQLite's online backup API copies the database as of one read
 * transaction (in WAL mode that never blocks the writer); pages the
 * writer changes meanwhile restart the copy, which converges because it
 * runs in large steps. fs: the copy is made under the store's own lock
 * (the OFD write lock on SRC/lock every fs writer takes for each write),
 * so no write lands half-way through; readers are never blocked.
 *
 * DEST must not exist (a backup never overwrites). The copy opens like
 * any store: restore it by pointing a node or a journal at it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli_options.h"
#include "commands.h"

static const cli_spec backup_spec = {
    "backup",
    "usage: ddata backup SRC DEST\n"
    "\n"
    "Copies the store SRC (a SQLite file, or an fs directory) to DEST, which must not\n"
    "exist, consistently while a writer keeps using SRC: SQLite through its online\n"
    "backup API, fs under the store's lock. Sealed stores are copied as they are\n"
    "(still sealed, same keys).\n",
    0,
    NULL,
    0,
    NULL,
};

void cmd_backup_help(void)
{
    cli_help(&backup_spec);
}

static int backup_sqlite(const char *src, const char *dest)
{
    sqlite3 *from = NULL, *to = NULL;
    int status = 1;
    int rc = sqlite3_open_v2(src, &from, SQLITE_OPEN_READONLY, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_open_v2(dest, &to, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc != SQLITE_OK) {
        fprintf(stderr, "ddata backup: cannot open '%s': %s\n", to ? dest : src,
                sqlite3_errmsg(to ? to : from));
        goto done;
    }
    sqlite3_busy_timeout(from, 5000);
    sqlite3_backup *b = sqlite3_backup_init(to, "main", from, "main");
    if (!b) {
        fprintf(stderr, "ddata backup: %s\n", sqlite3_errmsg(to));
        goto done;
    }
    do {
        rc = sqlite3_backup_step(b, 1024);
        if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
            sqlite3_sleep(10);
    } while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
    int frc = sqlite3_backup_finish(b);
    if (rc != SQLITE_DONE || frc != SQLITE_OK) {
        fprintf(stderr, "ddata backup: copying '%s': %s\n", src, sqlite3_errmsg(to));
        goto done;
    }
    status = 0;
done:
    sqlite3_close(from);
    sqlite3_close(to);
    if (status)
        unlink(dest);
    return status;
}

static int copy_file(const char *from, const char *to)
{
    int in = open(from, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return errno == ENOENT ? 0 : -1; /* removed meanwhile by a reader's cleanup */
    int out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    int ok = out >= 0;
    char buf[65536];
    ssize_t n;
    while (ok && (n = read(in, buf, sizeof(buf))) != 0)
        ok = n > 0 && write(out, buf, (size_t)n) == n;
    if (ok)
        ok = fsync(out) == 0;
    close(in);
    if (out >= 0)
        close(out);
    return ok ? 0 : -1;
}

/* Copies the tree at `from` to `to` (created 0700). */
static int copy_tree(const char *from, const char *to)
{
    if (mkdir(to, 0700) != 0)
        return -1;
    DIR *d = opendir(from);
    if (!d)
        return -1;
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char a[4096], b[4096];
        if ((size_t)snprintf(a, sizeof(a), "%s/%s", from, e->d_name) >= sizeof(a) ||
            (size_t)snprintf(b, sizeof(b), "%s/%s", to, e->d_name) >= sizeof(b)) {
            errno = ENAMETOOLONG;
            rc = -1;
            break;
        }
        struct stat sb;
        if (lstat(a, &sb) != 0)
            continue; /* gone meanwhile */
        if (S_ISDIR(sb.st_mode))
            rc = copy_tree(a, b);
        else if (S_ISREG(sb.st_mode))
            rc = copy_file(a, b);
    }
    closedir(d);
    return rc;
}

static int backup_fs(const char *src, const char *dest)
{
    char lock_path[4096];
    snprintf(lock_path, sizeof(lock_path), "%s/lock", src);
    int fd = open(lock_path, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "ddata backup: '%s' is not a ddata store (%s: %s)\n", src, lock_path,
                strerror(errno));
        return 2;
    }
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    while (fcntl(fd, F_OFD_SETLKW, &fl) != 0 && errno == EINTR)
        ;
    int rc = copy_tree(src, dest);
    int err = errno;
    close(fd); /* releases the lock */
    if (rc != 0) {
        fprintf(stderr, "ddata backup: copying '%s' to '%s': %s\n", src, dest, strerror(err));
        return 1;
    }
    return 0;
}

int cmd_backup(int argc, char **argv)
{
    const char *paths[2] = {NULL, NULL};
    size_t n = 0;
    int parsed = cli_operands(&backup_spec, argc, argv, paths, 2, &n);
    if (parsed)
        return parsed;
    if (n != 2) {
        fprintf(stderr, "ddata backup: usage: ddata backup SRC DEST (see --help)\n");
        return 2;
    }
    const char *src = paths[0], *dest = paths[1];
    struct stat sb;
    if (stat(src, &sb) != 0) {
        fprintf(stderr, "ddata backup: '%s': %s\n", src, strerror(errno));
        return 1;
    }
    if (access(dest, F_OK) == 0) {
        fprintf(stderr, "ddata backup: '%s' exists; a backup never overwrites\n", dest);
        return 2;
    }
    int status = S_ISDIR(sb.st_mode) ? backup_fs(src, dest) : backup_sqlite(src, dest);
    if (status == 0)
        printf("backed up '%s' to '%s'\n", src, dest);
    return status;
}
