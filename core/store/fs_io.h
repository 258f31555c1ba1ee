/*
 * Internals shared by the file-system engine's sources: the engine struct,
 * atomic file writing, checksummed records, the writer lock, naming. See
 * fs_backend.c for the layout on disk.
 */
#ifndef DD_STORE_FS_IO_H
#define DD_STORE_FS_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "store/backend.h"
#include "util/bytes.h"

#define FS_MAX_FILE_BYTES (256ull << 20)
#define FS_ID_MAX 240

typedef struct fs_backend {
    store_backend base;
    char *root;
    int sync;
    int lock_fd;
    uint64_t tmp_prefix; /* random: nodes sharing the directory may share pids */
    unsigned long tmp_counter;
    /* errno of the first failed write or fsync, 0 while none failed. After
     * a failed fsync the kernel may have dropped the dirty pages and a
     * later fsync may succeed without them (PostgreSQL's lesson), so the
     * store never retries: every later write is ST_EIO until reopened. */
    int failed_errno;
} fs_backend;

/* Test hook: the fs engine's write(2) and fsync(2), so a test can make them
 * fail (ENOSPC, EIO). NULL members and a NULL table mean the system's.
 * Process-wide; set it before the writes it should affect. */
typedef struct fs_io_faults {
    ssize_t (*write)(int fd, const void *buf, size_t n);
    int (*fsync)(int fd);
} fs_io_faults;
void fs_io_set_faults(const fs_io_faults *faults);

/* ST_EIO (message set) once a write or fsync of this store has failed. */
int fs_check_writable(fs_backend *f);

/* Everything the store creates is private to its owner: application data,
 * sealed or not (docs/persistence.md). */
#define FS_DIR_MODE 0700
#define FS_FILE_MODE 0600

int fs_io_error(const char *what, const char *path);
/* Opens `path` (flags: O_RDONLY, O_RDWR, may add O_CREAT) without following
 * a symbolic link and without blocking on a FIFO, and refuses anything but a
 * regular file with ST_ECORRUPT; ST_ENOTFOUND (no message) when missing. */
int fs_open_regular(const char *path, int flags, int *out);
/* The file name of a pid or key: "x" + hex up to 100 bytes, else "h" +
 * BLAKE2b-128 hex. */
void fs_id_name(const uint8_t *id, size_t len, char out[FS_ID_MAX]);
void fs_path_of(fs_backend *f, char *out, size_t n, const char *area, const uint8_t *id,
                size_t id_len);
int fs_mkdir_p(const char *path);
int fs_fsync_dir(fs_backend *f, const char *dir);
/* Appends a CRC-32 of everything so far; files are checked on read. */
void fs_put_crc(bytes *b);
/* Writes all of `b` to fd (through the fault hooks), again after a short
 * write or EINTR; -1 with errno set on failure (ENOSPC when a write
 * wrote nothing). */
int fs_write_all(int fd, const bytes *b);
/* Temporary file, fsync, rename over `name`, fsync the directory. */
int fs_write_atomic(fs_backend *f, const char *dir, const char *name, const bytes *b);
/* Ends the record built in `b` with its CRC and writes it as dir/name
 * (fs_write_atomic); frees `b` either way. */
int fs_write_record(fs_backend *f, const char *dir, const char *name, bytes *b);
/* ST_ENOTFOUND (no message) when the file does not exist. */
int fs_read_file(const char *path, bytes *out);
/* Checks magic, version (1) and CRC; on success *r reads the body. */
int fs_open_record(const bytes *b, const char *magic, const char *path, reader *r);

/* Batch, snapshot and state files: version 2 holds payloads as the journal
 * and state store write them (sealed or plain envelopes); version 1, from
 * before the plain envelope, holds unsealed payloads bare. Version 1 files
 * are read, never rewritten: fs_legacy_payload wraps such a payload on
 * read (its file CRC has just been checked), so the layer above sees one
 * format. */
#define FS_RECORD_VERSION 2
int fs_open_versioned(const bytes *b, const char *magic, const char *path, reader *r, int *version);
/* For a version 1 file, replaces (*data, *len) with its plain envelope
 * under `binding` (in `scratch`) unless it is sealed; otherwise nothing. */
int fs_legacy_payload(int version, const bytes *binding, const uint8_t **data, size_t *len,
                      bytes *scratch);
int fs_lock_all(fs_backend *f);
void fs_unlock_all(fs_backend *f);

/* The numbers of the entries named `prefix` + decimal (prefix 0: the name is
 * the number), sorted; a missing directory lists nothing. Caller frees. */
int fs_list_numbered(const char *dir, char prefix, bool descending, uint64_t **out, size_t *count);
/* Entry names (ids) of an area directory, temporaries excluded. */
int fs_list_names(const char *dir, char ***out, size_t *count);
void fs_free_names(char **names, size_t n);

typedef struct id_item {
    uint8_t *id;
    size_t len;
    uint64_t revision;
    uint8_t *data;
    size_t data_len;
} id_item;

int fs_id_item_cmp(const void *a, const void *b);
void fs_free_items(id_item *items, size_t n);
uint8_t *fs_dup_bytes(const uint8_t *p, size_t n);

/* The journal operations (fs_journal.c). */
backend_journal_append_fn fs_journal_append;
backend_journal_replay_fn fs_journal_replay;
backend_journal_highest_fn fs_journal_highest;
backend_journal_delete_to_fn fs_journal_delete_to;
backend_journal_deleted_to_fn fs_journal_deleted_to;
backend_journal_pids_fn fs_journal_pids;
backend_journal_by_tag_fn fs_journal_by_tag;

/* The state operations (fs_state.c). */
backend_state_get_fn fs_state_get;
backend_state_upsert_fn fs_state_upsert;
backend_state_delete_fn fs_state_delete;
backend_state_scan_fn fs_state_scan;
backend_state_range_fn fs_state_range;
backend_state_purge_fn fs_state_purge;
backend_state_scan_range_fn fs_state_scan_range;
backend_state_batch_fn fs_state_batch;
backend_state_purge_prefix_fn fs_state_purge_prefix;
backend_state_flush_fn fs_state_flush;
/* Finishes a batch a crash interrupted (its intent file is the commit
 * point); called at a writable open, under the lock. */
int fs_state_batch_recover(fs_backend *f);

#endif
