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

static void wrap_event(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
    (void)argc;
    size_t pid_len, tags_len;
    const uint8_t *pid = arg_blob(argv[0], &pid_len);
    const uint8_t *tags = arg_blob(argv[3], &tags_len);
    bytes b = BYTES_INIT;
    store_bind_event(&b, pid, pid_len, (uint64_t)sqlite3_value_int64(argv[1]),
                     (uint64_t)sqlite3_value_int64(argv[2]), tags_len ? tags : NULL, tags_len);
    wrap_result(cx, argv[4], &b);
    bytes_free(&b);
}

static void wrap_snapshot(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
    (void)argc;
    size_t pid_len;
    const uint8_t *pid = arg_blob(argv[0], &pid_len);
    bytes b = BYTES_INIT;
    store_bind_snapshot(&b, pid, pid_len, (uint64_t)sqlite3_value_int64(argv[1]),
                        (uint64_t)sqlite3_value_int64(argv[2]));
    wrap_result(cx, argv[3], &b);
    bytes_free(&b);
}

static void wrap_state(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
    (void)argc;
    size_t key_len;
    const uint8_t *key = arg_blob(argv[0], &key_len);
    bytes b = BYTES_INIT;
    store_bind_state(&b, key, key_len, false, 0);
    wrap_result(cx, argv[1], &b);
    bytes_free(&b);
}

int sql_register_wrap(sql_backend *s)
{
    int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_DIRECTONLY;
    int rc = sqlite3_create_function_v2(s->db, "dd_wrap_event", 5, flags, NULL, wrap_event, NULL,
                                        NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_create_function_v2(s->db, "dd_wrap_snapshot", 4, flags, NULL, wrap_snapshot,
                                        NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_create_function_v2(s->db, "dd_wrap_state", 2, flags, NULL, wrap_state, NULL,
                                        NULL, NULL);
    return rc == SQLITE_OK ? 0 : sql_error(s, rc, "registering the migration functions");
}
