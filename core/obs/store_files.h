/*
 * The SQLite files the process has open, for the WAL-size gauge of the
 * metrics (ddata_store_wal_bytes): an operator watches the write-ahead log
 * because a checkpoint that cannot run lets it grow without limit (issue
 * 13.12).
 *
 * Process-wide, like the latency histograms (store_latency.h): a scrape of
 * any system lists every open SQLite store, the host's own journals
 * included. The engine registers a file when it opens it and removes it
 * when it closes; the size is read with stat(2) at scrape time, so the
 * write path pays nothing.
 */
#ifndef DD_OBS_STORE_FILES_H
#define DD_OBS_STORE_FILES_H

#include "util/bytes.h"

/* At most this many files are listed; more are opened fine but not shown. */
#define STORE_FILES_MAX 256

void store_files_add(const char *db_path);
void store_files_remove(const char *db_path);
/* One gauge sample per open file: its "-wal" file's size in bytes (0 when
 * there is none). */
void store_files_write_prom(bytes *b);

#endif
