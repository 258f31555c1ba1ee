/*
 * The journal handle, shared by the two files that implement journal.h:
 * journal.c (open, events, replay, tags) and journal_snapshot.c
 * (snapshots). Nothing outside core/store/journal*.c includes this.
 */
#ifndef DD_STORE_JOURNAL_INTERNAL_H
#define DD_STORE_JOURNAL_INTERNAL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "seal/seal.h"
#include "store/backend.h"
#include "store/journal.h"

struct journal {
    store_backend *be;
    sealer *seal;
    journal_options opts;
    pthread_mutex_t mu;
};

/* The checks every call on one persistence id opens with: ST_EMISUSE for
 * a NULL journal, ST_EINVAL for an empty persistence id, ST_ELIMIT past
 * STORE_MAX_KEY_BYTES. */
int journal_check_call(const journal *j, const uint8_t *pid, size_t pid_len);

#endif
