/*
 * The version of the file-system engine's directory layout (fs_backend.c
 * describes layout 1). Every record file already carries its own format
 * byte; this marker versions what no single file can: which directories
 * exist and how files are named. A later layout (say, pids sharded into
 * subdirectories) bumps FS_LAYOUT_VERSION, and a library that finds a
 * newer marker refuses the store instead of seeing it as empty.
 */
#ifndef DD_STORE_FS_LAYOUT_H
#define DD_STORE_FS_LAYOUT_H

#include "store/fs_io.h"

#define FS_LAYOUT_VERSION 1u

/* Reads <root>/format, writing it when missing (stores made before the
 * marker have layout 1). ST_EUNSUPPORTED for a newer layout, ST_ECORRUPT
 * for an unreadable marker. */
int fs_layout_check(fs_backend *f);
/* Checks the marker without writing one (read-only opens): none means
 * layout 1. */
int fs_layout_read(fs_backend *f);

#endif
