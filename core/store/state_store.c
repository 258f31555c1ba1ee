/*
 * The durable state store: state_store.h's contract over any engine.
 *
 * This layer owns what every engine would otherwise repeat: the lock that
 * makes a store safe to share between threads, argument checks, and the
 * sealing of records (compression + AEAD). A sealed record's associated
 * data names the store kind, the key and the revision it is written as,
 * so a record copied under another key or replayed at another revision
 * fails to open. Because the revision must be known before sealing, an
 * unconditional (STATE_ANY_REVISION) upsert on a sealed store reads the
 * current revision and retries its compare-and-set until it wins. An
 * unsealed store goes the same way with a plain sealer (seal/plain.h): its
 * records carry a checksum bound to the key (not the revision, so an
 * unconditional upsert is one write), checked on every read.
 */
#include <pthread.h>
#include <stdlib.h>

#include "obs/store_latency.h"
#include "seal/seal.h"
#include "store/backend.h"
#include "store/binding.h"
#include "store/state_store.h"
#include "store/state_store_impl.h"
#include "store/store.h"
#include "util/error.h"
#include "util/status.h"

int state_store_open_backend(state_store **out, store_backend *be, sealer *seal)
{
    if (!out || !be)
        return error_set(ST_EINVAL, "state store: backend must not be NULL");
    *out = NULL;
    if (!seal) {
        int rc = store_plain_sealer(&seal);
        if (rc != ST_OK) {
            be->ops->close(be);
            return rc;
        }
    }
    state_store *s = calloc(1, sizeof(*s));
    if (!s) {
        be->ops->close(be);
        sealer_free(seal);
        return error_oom();
    }
    s->be = be;
    s->seal = seal;
    pthread_mutex_init(&s->mu, NULL);
    *out = s;
    return ST_OK;
}

int state_store_open_memory(state_store **out)
{
    store_backend *be;
    int rc = store_backend_open_memory(&be);
    if (rc != ST_OK)
        return rc;
    return state_store_open_backend(out, be, NULL);
}

/* The checks every call on one key opens with. */
static int check_call(const state_store *s, const uint8_t *key, size_t key_len)
{
    return store_check_call(s, "state store", key, key_len, "state key");
}

void state_aad(const sealer *seal, bytes *aad, const uint8_t *key, size_t key_len,
               uint64_t revision)
{
    store_bind_state(aad, key, key_len, sealer_is_sealed(seal), revision);
}

static int sealed_upsert(state_store *s, const uint8_t *key, size_t key_len, uint64_t expected,
                         const uint8_t *state, size_t state_len, uint64_t *new_revision)
{
    bytes aad = BYTES_INIT, blob = BYTES_INIT;
    int rc;
    for (int attempt = 0;; attempt++) {
        uint64_t base = expected;
        if (expected == STATE_ANY_REVISION && sealer_is_sealed(s->seal)) {
            rc = s->be->ops->state_get(s->be, key, key_len, &base, NULL);
            if (rc == ST_ENOTFOUND)
                base = 0;
            else if (rc != ST_OK)
                goto done;
        }
        state_aad(s->seal, &aad, key, key_len, base + 1);
        if (aad.failed) {
            rc = error_oom();
            goto done;
        }
        bytes_reset(&blob);
        if ((rc = seal_blob(s->seal, aad.data, aad.len, state, state_len, &blob)) != ST_OK)
            goto done;
        rc = s->be->ops->state_upsert(s->be, key, key_len, base, blob.data, blob.len, new_revision);
        if (rc != ST_ECONFLICT || expected != STATE_ANY_REVISION || attempt >= 100 ||
            !sealer_is_sealed(s->seal))
            break;
    }
done:
    bytes_free(&aad);
    bytes_free(&blob);
    return rc;
}

int state_store_upsert(state_store *s, const uint8_t *key, size_t key_len,
                       uint64_t expected_revision, const uint8_t *state, size_t state_len,
                       uint64_t *new_revision)
{
    int rc = check_call(s, key, key_len);
    if (rc != ST_OK)
        return rc;
    if (!state && state_len)
        return error_set(ST_EINVAL, "state must not be NULL when state_len is %zu", state_len);
    if (expected_revision != STATE_ANY_REVISION && expected_revision >= STORE_SEQ_MAX)
        return error_set(ST_EINVAL, "expected revision %llu is out of range",
                         (unsigned long long)expected_revision);
    uint64_t started_ns = store_latency_start();
    pthread_mutex_lock(&s->mu);
    if (s->seal)
        rc = sealed_upsert(s, key, key_len, expected_revision, state, state_len, new_revision);
    else
        rc = s->be->ops->state_upsert(s->be, key, key_len, expected_revision, state, state_len,
                                      new_revision);
    pthread_mutex_unlock(&s->mu);
    store_latency_record(STORE_LATENCY_UPSERT, started_ns);
    return rc;
}

int state_record_open(sealer *seal, const uint8_t *key, size_t key_len, uint64_t revision,
                      const uint8_t *blob, size_t len, bytes *out)
{
    bytes aad = BYTES_INIT;
    state_aad(seal, &aad, key, key_len, revision);
    int rc = aad.failed ? error_oom() : seal_open(seal, aad.data, aad.len, blob, len, out);
    bytes_free(&aad);
    if (rc == ST_ECORRUPT)
        store_latency_seal_failure();
    if (rc != ST_OK)
        error_wrap("state '%.*s' revision %llu", error_key_len(key_len), (const char *)key,
                   (unsigned long long)revision);
    return rc;
}

int state_store_get(state_store *s, const uint8_t *key, size_t key_len, uint64_t *revision,
                    bytes *state)
{
    int rc = check_call(s, key, key_len);
    if (rc != ST_OK)
        return rc;
    bytes raw = BYTES_INIT;
    uint64_t rev = 0;
    pthread_mutex_lock(&s->mu);
    rc = s->be->ops->state_get(s->be, key, key_len, &rev, (s->seal && state) ? &raw : state);
    pthread_mutex_unlock(&s->mu);
    if (rc == ST_OK && s->seal && state) {
        bytes plain = BYTES_INIT;
        rc = state_record_open(s->seal, key, key_len, rev, raw.data, raw.len, &plain);
        if (rc == ST_OK) {
            bytes_free(state);
            *state = plain;
        } else {
            bytes_free(&plain);
        }
    }
    bytes_free(&raw);
    if (rc == ST_OK && revision)
        *revision = rev;
    return rc;
}

int state_store_delete(state_store *s, const uint8_t *key, size_t key_len,
                       uint64_t expected_revision)
{
    int rc = check_call(s, key, key_len);
    if (rc != ST_OK)
        return rc;
    if (expected_revision == 0)
        return error_set(ST_EINVAL, "delete needs an expected revision (or STATE_ANY_REVISION)");
    pthread_mutex_lock(&s->mu);
    rc = s->be->ops->state_delete(s->be, key, key_len, expected_revision);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int state_open_one(void *c, const uint8_t *key, size_t key_len, uint64_t revision,
                   const uint8_t *blob, size_t len)
{
    state_open_walk *w = c;
    if (w->keys_only)
        return w->fn(w->ctx, key, key_len, revision, NULL, 0);
    bytes_reset(&w->plain);
    int rc = state_record_open(w->seal, key, key_len, revision, blob, len, &w->plain);
    if (rc != ST_OK)
        return rc;
    return w->fn(w->ctx, key, key_len, revision, w->plain.data, w->plain.len);
}

int state_store_scan(state_store *s, const uint8_t *prefix, size_t prefix_len, state_scan_fn fn,
                     void *ctx)
{
    if (!s)
        return error_set(ST_EMISUSE, "state store is NULL");
    if (!fn || (!prefix && prefix_len))
        return error_set(ST_EINVAL, "state scan: callback and prefix must not be NULL");
    state_open_walk w = {s->seal, 0, fn, ctx, BYTES_INIT};
    pthread_mutex_lock(&s->mu);
    int rc = s->be->ops->state_scan(s->be, prefix, prefix_len, state_open_one, &w);
    pthread_mutex_unlock(&s->mu);
    bytes_free(&w.plain);
    return rc;
}

int state_store_range(state_store *s, const uint8_t *from, size_t from_len, int64_t count,
                      state_scan_fn fn, void *ctx)
{
    if (!s)
        return error_set(ST_EMISUSE, "state store is NULL");
    if (!fn || (!from && from_len))
        return error_set(ST_EINVAL, "state range: callback and start key must not be NULL");
    state_open_walk w = {s->seal, 0, fn, ctx, BYTES_INIT};
    pthread_mutex_lock(&s->mu);
    int rc = s->be->ops->state_range(s->be, from, from_len, count, state_open_one, &w);
    pthread_mutex_unlock(&s->mu);
    bytes_free(&w.plain);
    return rc;
}

int state_take_last(void *c, const uint8_t *key, size_t key_len, uint64_t revision,
                    const uint8_t *state, size_t state_len)
{
    state_last *l = c;
    l->found = 1;
    if (l->key) {
        bytes_reset(l->key);
        bytes_put(l->key, key, key_len);
    }
    if (l->state) {
        bytes_reset(l->state);
        bytes_put(l->state, state, state_len);
    }
    if (l->revision)
        *l->revision = revision;
    if ((l->key && l->key->failed) || (l->state && l->state->failed))
        return error_oom();
    return 0;
}

int state_store_last(state_store *s, bytes *key, uint64_t *revision, bytes *state)
{
    state_last l = {key, state, revision, 0};
    int rc = state_store_range(s, NULL, 0, -1, state_take_last, &l);
    if (rc == ST_OK && !l.found)
        return error_set(ST_ENOTFOUND, "the state store is empty");
    return rc;
}

int state_store_purge(state_store *s)
{
    return s ? state_store_locked(s, s->be->ops->state_purge)
             : error_set(ST_EMISUSE, "state store is NULL");
}

int state_store_begin(state_store *s)
{
    return s ? state_store_locked(s, s->be->ops->state_begin)
             : error_set(ST_EMISUSE, "state store is NULL");
}

int state_store_commit(state_store *s)
{
    return s ? state_store_locked(s, s->be->ops->state_commit)
             : error_set(ST_EMISUSE, "state store is NULL");
}

int state_store_locked(state_store *s, int (*op)(store_backend *be))
{
    pthread_mutex_lock(&s->mu);
    int rc = op(s->be);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

void state_store_close(state_store *s)
{
    if (!s)
        return;
    s->be->ops->close(s->be);
    sealer_free(s->seal);
    pthread_mutex_destroy(&s->mu);
    free(s);
}
