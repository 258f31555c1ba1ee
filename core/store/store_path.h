/*
 * Where a store lives on disk, one rule for every engine (issue 17.10):
 * the directories leading to a store's path are created when missing,
 * mode 0700 (a store holds application data; nobody else needs to list
 * it), and a failure names the directory that could not be made.
 */
#ifndef DD_STORE_PATH_H
#define DD_STORE_PATH_H

#include <stdbool.h>

/* Creates every missing directory above `path` and, when is_dir, `path`
 * itself (an fs store's root). ST_EIO naming the directory on failure;
 * ST_ELIMIT for a path longer than 4095 bytes. */
int store_path_prepare(const char *path, bool is_dir);

#endif
