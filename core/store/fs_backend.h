/*
 * The file-system engine: "object storage" on a directory. See
 * fs_backend.c for the layout and how several nodes share a directory.
 */
#ifndef DD_STORE_FS_BACKEND_H
#define DD_STORE_FS_BACKEND_H

#include "store/backend.h"

typedef struct fs_options {
    store_sync sync; /* OFF: no fsync (tests); NORMAL and FULL: fsync file and directory */
    bool must_exist; /* refuse a root that is not already a store instead of creating one */
    bool read_only;  /* an existing store: nothing created, no lock taken, writes fail */
} fs_options;

/* Opens (creating, folders 0700 and files 0600) the store rooted at
 * directory `root`; opts may be NULL. */
int store_backend_open_fs(store_backend **out, const char *root, const fs_options *opts);

#endif
