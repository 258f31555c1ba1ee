/*
 * The SQL functions schema migration 3 uses to give every record written
 * before the plain envelope (format 1: unsealed payloads stored bare) its
 * envelope in place, inside the migration's transaction:
 *
 *   dd_wrap_event(pid, seq, ts, tags, payload)
 *   dd_wrap_snapshot(pid, seq, ts, data)
 *   dd_wrap_state(key, data)
 *
 * A sealed record (it starts with the sealed magic) is returned as it is:
 * its AEAD already checks it. Nothing is compressed here; records written
 * later follow the store's compression setting.
 */
#include <sqlite3.h>
#include <string.h>

#include "seal/envelope.h"
#include "seal/plain.h"
#include "store/binding.h"
#include "store/sqlite_internal.h"

static const uint8_t *arg_blob(sqlite3_value *v, size_t *len)
{
    const uint8_t *p = sqlite3_value_blob(v);
    *len = p ? (size_t)sqlite3_value_bytes(v) : 0;
    return p ? p : (const uint8_t *)"";
}

static uint64_t arg_u64(sqlite3_value *v)
{
    return (uint64_t)sqlite3_value_int64(v);
}

/* Wraps the last argument under `binding`, or returns it unchanged. */
static void wrap_result(sqlite3_context *cx, sqlite3_value *data, bytes *binding)
{
    size_t len;
    const uint8_t *p = arg_blob(data, &len);
    if (envelope_looks_sealed(p, len)) {
        sqlite3_result_value(cx, data);
        return;
    }
    bytes out = BYTES_INIT;
    if (binding->failed || plain_wrap(0, 0, binding->data, binding->len, p, len, &out) != 0) {
        sqlite3_result_error_nomem(cx);
    } else {
        sqlite3_result_blob64(cx, out.data, out.len, SQLITE_TRANSIENT);
    }
    bytes_free(&out);
}

/* Each dd_wrap_* function: the record's identity, then its data. The
 * number of arguments tells the kind (state 2, snapshot 4, event 5), each
 * registered under its own name with its own count. */
static void wrap_record(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
    size_t id_len;
    const uint8_t *id = arg_blob(argv[0], &id_len);
    bytes b = BYTES_INIT;
    if (argc == 2) {
        store_bind_state(&b, id, id_len, false, 0);
    } else if (argc == 4) {
        store_bind_snapshot(&b, id, id_len, arg_u64(argv[1]), arg_u64(argv[2]));
    } else {
        size_t tags_len;
        const uint8_t *tags = arg_blob(argv[3], &tags_len);
        store_bind_event(&b, id, id_len, arg_u64(argv[1]), arg_u64(argv[2]), tags_len ? tags : NULL,
                         tags_len);
    }
    wrap_result(cx, argv[argc - 1], &b);
    bytes_free(&b);
}

int sql_register_wrap(sql_backend *s)
{
    static const struct {
        const char *name;
        int argc;
    } wraps[] = {{"dd_wrap_event", 5}, {"dd_wrap_snapshot", 4}, {"dd_wrap_state", 2}};
    int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_DIRECTONLY;
    int rc = SQLITE_OK;
    for (size_t i = 0; rc == SQLITE_OK && i < sizeof(wraps) / sizeof(wraps[0]); i++)
        rc = sqlite3_create_function_v2(s->db, wraps[i].name, wraps[i].argc, flags, NULL,
                                        wrap_record, NULL, NULL, NULL);
    return rc == SQLITE_OK ? 0 : sql_error(s, rc, "registering the migration functions");
}
