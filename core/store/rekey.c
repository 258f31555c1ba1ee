/*
 * The record transform of a rekey and the choice of engine (rekey.h).
 */
#include "store/rekey.h"

#include <string.h>

#include "seal/envelope.h"
#include "store/binding.h"
#include "util/error.h"
#include "util/status.h"

#define KEY_SHOWN(len) ((int)((len) > ERROR_KEY_SHOWN ? ERROR_KEY_SHOWN : (len)))

/* Opens `blob` with the old sealer under `old_binding`, seals the
 * plaintext with the new one under `new_binding`. */
static int reseal(rekey *r, const bytes *old_binding, const bytes *new_binding, const uint8_t *blob,
                  size_t len, bytes *out)
{
    bytes_reset(out);
    bytes_reset(&r->plain);
    if (old_binding->failed || new_binding->failed)
        return error_oom();
    int rc = seal_open(r->from, old_binding->data, old_binding->len, blob, len, &r->plain);
    if (rc == ST_ECORRUPT && !sealer_is_sealed(r->from) && envelope_looks_sealed(blob, len))
        rc = error_set(ST_ECRYPTO, "the record is sealed; give the key ring it was sealed with");
    if (rc == ST_OK)
        rc =
            seal_blob(r->to, new_binding->data, new_binding->len, r->plain.data, r->plain.len, out);
    if (rc == ST_OK)
        r->records++;
    return rc;
}

int rekey_event(rekey *r, const store_event *ev, bytes *out)
{
    store_bind_event(&r->binding, ev->pid, ev->pid_len, ev->seq, ev->timestamp_ms, ev->tags,
                     ev->tags ? ev->tags_len : 0);
    int rc = reseal(r, &r->binding, &r->binding, ev->payload, ev->payload_len, out);
    if (rc != ST_OK)
        error_wrap("rekey: journal '%.*s' event %llu", KEY_SHOWN(ev->pid_len),
                   (const char *)ev->pid, (unsigned long long)ev->seq);
    return rc;
}

int rekey_snapshot(rekey *r, const uint8_t *pid, size_t pid_len, uint64_t seq, uint64_t ts,
                   const uint8_t *data, size_t len, bytes *out)
{
    store_bind_snapshot(&r->binding, pid, pid_len, seq, ts);
    int rc = reseal(r, &r->binding, &r->binding, data, len, out);
    if (rc != ST_OK)
        error_wrap("rekey: snapshot of '%.*s' at %llu", KEY_SHOWN(pid_len), (const char *)pid,
                   (unsigned long long)seq);
    return rc;
}

int rekey_state(rekey *r, const uint8_t *key, size_t key_len, uint64_t revision,
                const uint8_t *data, size_t len, bytes *out)
{
    /* A sealed store binds the revision, an unsealed one does not, so the
     * two bindings differ when an unsealed store becomes sealed. */
    bytes new_binding = BYTES_INIT;
    store_bind_state(&r->binding, key, key_len, sealer_is_sealed(r->from), revision);
    store_bind_state(&new_binding, key, key_len, true, revision);
    int rc = reseal(r, &r->binding, &new_binding, data, len, out);
    bytes_free(&new_binding);
    if (rc != ST_OK)
        error_wrap("rekey: state '%.*s' revision %llu", KEY_SHOWN(key_len), (const char *)key,
                   (unsigned long long)revision);
    return rc;
}

int store_rekey(store_backend *be, sealer *from, sealer *to, uint64_t *records)
{
    if (records)
        *records = 0;
    if (!be || !from || !to)
        return error_set(ST_EMISUSE, "rekey: store and sealers must not be NULL");
    if (!sealer_is_sealed(to))
        return error_set(ST_EINVAL, "rekey: the new key ring is missing (a rekey seals)");
    rekey r = {from, to, BYTES_INIT, BYTES_INIT, 0};
    int rc;
    if (strcmp(be->ops->name, "sqlite") == 0)
        rc = sqlite_rekey(be, &r);
    else if (strcmp(be->ops->name, "fs") == 0)
        rc = fs_rekey(be, &r);
    else if (strcmp(be->ops->name, "postgres") == 0)
        rc = pg_rekey(be, &r);
    else
        rc = error_set(ST_EUNSUPPORTED,
                       "rekey: the %s backend cannot be rekeyed in place (SQLite, fs and "
                       "PostgreSQL can)",
                       be->ops->name);
    if (rc == ST_OK && records)
        *records = r.records;
    bytes_free(&r.binding);
    bytes_free(&r.plain);
    return rc;
}
