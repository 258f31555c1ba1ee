/*
 * Creating a store's directories (store_path.h).
 */
#include "store/store_path.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "util/error.h"
#include "util/status.h"

static int make_dir(const char *dir)
{
    struct stat sb;
    if (mkdir(dir, 0700) == 0)
        return ST_OK;
    if (errno == EEXIST && stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode))
        return ST_OK;
    if (errno == EEXIST)
        return error_set(ST_EIO, "store path: '%s' exists and is not a directory", dir);
    return error_set(ST_EIO, "store path: cannot create directory '%s': %s", dir, strerror(errno));
}

int store_path_prepare(const char *path, bool is_dir)
{
    char buf[4096];
    size_t n = strlen(path);
    if (n >= sizeof(buf))
        return error_set(ST_ELIMIT, "store path: longer than %zu bytes", sizeof(buf) - 1);
    memcpy(buf, path, n + 1);
    while (n > 1 && buf[n - 1] == '/')
        buf[--n] = '\0';
    /* Each '/' after the first character ends a parent directory. */
    for (size_t i = 1; i < n; i++) {
        if (buf[i] != '/' || buf[i - 1] == '/')
            continue;
        buf[i] = '\0';
        int rc = make_dir(buf);
        buf[i] = '/';
        if (rc != ST_OK)
            return rc;
    }
    return is_dir ? make_dir(buf) : ST_OK;
}
