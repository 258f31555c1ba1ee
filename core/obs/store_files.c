/*
 * The open SQLite files of the process (store_files.h).
 */
#include "obs/store_files.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "obs/prom.h"

static pthread_mutex_t files_mu = PTHREAD_MUTEX_INITIALIZER;
static char *files[STORE_FILES_MAX];
static size_t file_count;

void store_files_add(const char *db_path)
{
    if (!db_path || strcmp(db_path, ":memory:") == 0)
        return;
    pthread_mutex_lock(&files_mu);
    char *copy = file_count < STORE_FILES_MAX ? strdup(db_path) : NULL;
    if (copy)
        files[file_count++] = copy;
    pthread_mutex_unlock(&files_mu);
}

void store_files_remove(const char *db_path)
{
    if (!db_path)
        return;
    pthread_mutex_lock(&files_mu);
    for (size_t i = 0; i < file_count; i++) {
        if (strcmp(files[i], db_path) == 0) {
            free(files[i]);
            files[i] = files[--file_count];
            break;
        }
    }
    pthread_mutex_unlock(&files_mu);
}

void store_files_write_prom(bytes *b)
{
    const char *name = "ddata_store_wal_bytes";
    prom_family(b, name, PROM_GAUGE,
                "Size of the write-ahead log of each open SQLite store of the process (0: none)");
    pthread_mutex_lock(&files_mu);
    for (size_t i = 0; i < file_count; i++) {
        char wal[4200];
        struct stat st;
        int n = snprintf(wal, sizeof(wal), "%s-wal", files[i]);
        uint64_t size = 0;
        if (n > 0 && (size_t)n < sizeof(wal) && stat(wal, &st) == 0)
            size = (uint64_t)st.st_size;
        prom_sample_u64(b, name, "path", files[i], size);
    }
    pthread_mutex_unlock(&files_mu);
}
