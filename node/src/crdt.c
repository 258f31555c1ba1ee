/*
 * Crdt: a JS class wrapping one dd_crdt value. The typed JS classes
 * (lib/crdt.js) extend it, so their methods reach C in one N-API call.
 *
 * increment(n) is the hot path the benchmark measures: it takes a number,
 * builds the dd_op on the stack and calls dd_crdt_apply with the actor
 * stored in the object; no JS object is allocated per call. Everything
 * else goes through apply(op), which reads a plain op object
 * ({kind, amount, key, value, valueType, nested}).
 *
 * Lifetimes: close() frees the value at once; the finalizer frees it if
 * close() was never called. After close() every method sees a NULL handle,
 * and the library answers DD_EMISUSE, which is thrown as MisuseError.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handle.h"

typedef struct node_crdt {
    dd_crdt *h;
    uint64_t actor;
} node_crdt;

static void crdt_finalize(napi_env env, void *data, void *hint)
{
    (void)env;
    (void)hint;
    node_crdt *c = data;
    if (c->h)
        dd_crdt_free(c->h);
    free(c);
}

static node_crdt *unwrap_this(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv)
{
    napi_value self;
    node_crdt *c = NULL;
    if (napi_get_cb_info(env, info, argc, argv, &self, NULL) != napi_ok ||
        napi_unwrap(env, self, (void **)&c) != napi_ok || !c) {
        addon_type_error(env, "not a Crdt");
        return NULL;
    }
    return c;
}

/* `this` for a method without arguments. */
static node_crdt *this_crdt(napi_env env, napi_callback_info info)
{
    size_t argc = 0;
    return unwrap_this(env, info, &argc, NULL);
}

static node_crdt *unwrap_arg(napi_env env, napi_value v, const char *what)
{
    node_crdt *c = NULL;
    if (napi_unwrap(env, v, (void **)&c) != napi_ok || !c) {
        char msg[96];
        snprintf(msg, sizeof msg, "%s must be a Crdt", what);
        addon_type_error(env, msg);
        return NULL;
    }
    return c;
}

/* Wraps a new dd_crdt in a fresh Crdt object (used for deltas, clones,
 * decoded values, map entries). Takes ownership of `h`. */
napi_value addon_wrap_crdt(napi_env env, dd_crdt *h, uint64_t actor)
{
    napi_value ctor, obj, args[2];
    napi_get_reference_value(env, addon_get_state(env)->crdt_ctor, &ctor);
    napi_get_null(env, &args[0]);
    napi_create_int64(env, 0, &args[1]);
    if (napi_new_instance(env, ctor, 2, args, &obj) != napi_ok) {
        dd_crdt_free(h);
        return NULL;
    }
    node_crdt *c = NULL;
    napi_unwrap(env, obj, (void **)&c);
    c->h = h;
    c->actor = actor;
    return obj;
}

/* The actor of values made without one: one random id per process, drawn
 * at first use (dd_actor_id_random); the first thread to draw wins. */
static uint64_t process_actor(void)
{
    static _Atomic uint64_t actor;
    uint64_t cur = atomic_load(&actor), fresh = 0;
    if (cur)
        return cur;
    if (dd_actor_id_random(&fresh) != DD_OK)
        fresh = 1;
    return atomic_compare_exchange_strong(&actor, &cur, fresh) ? fresh : cur;
}

/* randomActor() -> bigint: a fresh random actor id (never 0). */
static napi_value random_actor(napi_env env, napi_callback_info info)
{
    (void)info;
    uint64_t v;
    napi_value out;
    int rc = dd_actor_id_random(&v);
    if (rc != DD_OK)
        return addon_fail(env, rc);
    napi_create_bigint_uint64(env, v, &out);
    return out;
}

/* new Crdt(type, actor): type a dd_crdt_type number, or null for an
 * internal empty shell that addon_wrap_crdt fills. */
static napi_value crdt_construct(napi_env env, napi_callback_info info)
{
    size_t argc = 2;
    napi_value argv[2], self;
    napi_valuetype t = napi_undefined;
    napi_get_cb_info(env, info, &argc, argv, &self, NULL);
    node_crdt *c = calloc(1, sizeof *c);
    if (!c)
        return addon_fail(env, DD_ENOMEM);
    c->actor = process_actor();
    if (argc > 1 && napi_typeof(env, argv[1], &t) == napi_ok && t != napi_undefined) {
        if (!addon_arg_u64(env, argv[1], &c->actor, "actor")) {
            free(c);
            return NULL;
        }
    }
    if (argc > 0 && napi_typeof(env, argv[0], &t) == napi_ok && t != napi_null) {
        uint32_t type;
        if (!addon_arg_u32(env, argv[0], &type, "type")) {
            free(c);
            return NULL;
        }
        int rc = dd_crdt_new(&c->h, type);
        if (rc) {
            free(c);
            return addon_fail(env, rc);
        }
    }
    if (napi_wrap(env, self, c, crdt_finalize, NULL, NULL) != napi_ok) {
        crdt_finalize(env, c, NULL);
        return addon_fail(env, DD_ENOMEM);
    }
    return self;
}

/* increment(amount): counters and counter maps without a key. */
static napi_value crdt_increment(napi_env env, napi_callback_info info)
{
    size_t argc = 1;
    napi_value argv[1];
    node_crdt *c = unwrap_this(env, info, &argc, argv);
    if (!c)
        return NULL;
    double d = 1;
    if (argc > 0 && napi_get_value_double(env, argv[0], &d) != napi_ok)
        return addon_type_error(env, "amount must be a number");
    if (!(d >= 0 && d <= 18446744073709549568.0) || d != (double)(uint64_t)d)
        return addon_type_error(env, "amount must be a non-negative integer");
    dd_op op = DD_OP_INIT;
    op.kind = DD_OP_INCREMENT;
    op.amount = (uint64_t)d;
    int rc = dd_crdt_apply(c->h, &op, c->actor, 0, NULL);
    return rc ? addon_fail(env, rc) : NULL;
}

/* ---- ops from JS objects */

static const char *const KIND_NAMES[] = {NULL,    "increment", "decrement", "add",   "remove",
                                         "clear", "assign",    "enable",    "update"};

static bool read_kind(napi_env env, napi_value v, uint32_t *out, const char *what)
{
    napi_valuetype t;
    napi_typeof(env, v, &t);
    if (t == napi_string) {
        char name[16];
        size_t n = 0;
        napi_get_value_string_utf8(env, v, name, sizeof name, &n);
        for (uint32_t k = 1; k < sizeof KIND_NAMES / sizeof KIND_NAMES[0]; k++)
            if (strcmp(name, KIND_NAMES[k]) == 0) {
                *out = k;
                return true;
            }
        char msg[96];
        snprintf(msg, sizeof msg, "%s: unknown op kind '%s'", what, name);
        addon_type_error(env, msg);
        return false;
    }
    return addon_arg_u32(env, v, out, what);
}

/* The optional bytes property `name` of an op (key, value): a string is
 * copied into the op's scratch. False when it threw. */
static bool read_op_bytes(napi_env env, napi_value obj, const char *name, const char *what,
                          const uint8_t **p, size_t *n, op_scratch *s)
{
    napi_value v;
    char *scratch = NULL;
    if (!addon_prop(env, obj, name, &v))
        return true;
    if (!addon_arg_bytes(env, v, p, n, &scratch, what))
        return false;
    if (scratch)
        s->strings[s->nstrings++] = scratch;
    return true;
}

static bool read_op_at(napi_env env, napi_value obj, op_scratch *s, int depth)
{
    napi_valuetype t;
    if (depth >= OP_MAX_DEPTH) {
        addon_type_error(env, "op: nested ops deeper than 32");
        return false;
    }
    if (napi_typeof(env, obj, &t) != napi_ok || t != napi_object) {
        addon_type_error(env, "op must be an object");
        return false;
    }
    dd_op *op = &s->ops[depth];
    dd_op_init(op, DD_OP_VERSION);
    napi_value v;
    if (!addon_prop(env, obj, "kind", &v)) {
        addon_type_error(env, "op.kind is required");
        return false;
    }
    if (!read_kind(env, v, &op->kind, "op.kind"))
        return false;
    if (addon_prop(env, obj, "amount", &v) && !addon_arg_u64(env, v, &op->amount, "op.amount"))
        return false;
    if (!read_op_bytes(env, obj, "key", "op.key", &op->key, &op->key_len, s) ||
        !read_op_bytes(env, obj, "value", "op.value", &op->value, &op->value_len, s))
        return false;
    if (addon_prop(env, obj, "valueType", &v) &&
        !addon_arg_u32(env, v, &op->value_type, "op.valueType"))
        return false;
    if (addon_prop(env, obj, "nested", &v)) {
        if (!read_op_at(env, v, s, depth + 1))
            return false;
        op->nested = &s->ops[depth + 1];
    }
    return true;
}

bool addon_read_op(napi_env env, napi_value obj, op_scratch *s)
{
    s->nstrings = 0;
    if (read_op_at(env, obj, s, 0))
        return true;
    /* the strings copied before the failure go here, so a caller frees
     * only an op it read (replica update and write leaked them) */
    addon_op_free(s);
    s->nstrings = 0;
    return false;
}

void addon_op_free(op_scratch *s)
{
    addon_free_strings(s->strings, (size_t)s->nstrings);
}

/* apply(op, nowMs = 0, wantDelta = false, actor = this.actor) -> delta | undefined */
static napi_value crdt_apply(napi_env env, napi_callback_info info)
{
    size_t argc = 4;
    napi_value argv[4];
    node_crdt *c = unwrap_this(env, info, &argc, argv);
    if (!c)
        return NULL;
    if (argc < 1)
        return addon_type_error(env, "apply(op) needs an op");
    uint64_t now = 0, actor = c->actor;
    bool want = false;
    napi_valuetype t;
    if (argc > 1 && napi_typeof(env, argv[1], &t) == napi_ok && t != napi_undefined &&
        !addon_arg_u64(env, argv[1], &now, "nowMs"))
        return NULL;
    if (argc > 2)
        napi_get_value_bool(env, argv[2], &want);
    if (argc > 3 && napi_typeof(env, argv[3], &t) == napi_ok && t != napi_undefined &&
        !addon_arg_u64(env, argv[3], &actor, "actor"))
        return NULL;
    op_scratch s;
    napi_value result = NULL;
    if (addon_read_op(env, argv[0], &s)) {
        dd_crdt *delta = NULL;
        int rc = dd_crdt_apply(c->h, &s.ops[0], actor, now, want ? &delta : NULL);
        if (rc)
            addon_fail_on(env, rc, c->h);
        else
            result = delta ? addon_wrap_crdt(env, delta, c->actor) : addon_undefined(env);
    }
    addon_op_free(&s);
    return result;
}

/* `this` and the Crdt passed as `other`, the two values merge and equals
 * compare. NULL when it threw, or when no argument came (the method then
 * answers undefined, as it always has). */
static node_crdt *this_and_other(napi_env env, napi_callback_info info, node_crdt **other)
{
    size_t argc = 1;
    napi_value argv[1];
    node_crdt *c = unwrap_this(env, info, &argc, argv);
    if (!c || argc < 1 || !(*other = unwrap_arg(env, argv[0], "other")))
        return NULL;
    return c;
}

static napi_value crdt_merge(napi_env env, napi_callback_info info)
{
    node_crdt *o, *c = this_and_other(env, info, &o);
    if (!c)
        return NULL;
    int rc = dd_crdt_merge(c->h, o->h);
    return rc ? addon_fail_on(env, rc, c->h) : addon_undefined(env);
}

static napi_value crdt_equals(napi_env env, napi_callback_info info)
{
    napi_value out;
    node_crdt *o, *c = this_and_other(env, info, &o);
    if (!c)
        return NULL;
    int rc = dd_crdt_equal(c->h, o->h);
    if (rc < 0)
        return addon_fail_on(env, rc, c->h);
    napi_get_boolean(env, rc == 1, &out);
    return out;
}

static napi_value crdt_clone(napi_env env, napi_callback_info info)
{
    node_crdt *c = this_crdt(env, info);
    if (!c)
        return NULL;
    dd_crdt *copy = NULL;
    int rc = dd_crdt_clone(&copy, c->h);
    return rc ? addon_fail_on(env, rc, c->h) : addon_wrap_crdt(env, copy, c->actor);
}

static napi_value crdt_close(napi_env env, napi_callback_info info)
{
    node_crdt *c = this_crdt(env, info);
    if (!c)
        return NULL;
    int rc = c->h ? dd_crdt_free(c->h) : 0;
    c->h = NULL;
    return rc ? addon_fail_on(env, rc, c->h) : addon_undefined(env);
}

static napi_value crdt_type(napi_env env, napi_callback_info info)
{
    node_crdt *c = this_crdt(env, info);
    if (!c)
        return NULL;
    int rc = dd_crdt_type_of(c->h);
    return rc < 0 ? addon_fail_on(env, rc, c->h) : addon_int(env, rc);
}

/* The readers that fill a dd_buf from the value (encode, toJson,
 * valueJson, registerGet, elements): one method, crdt_buf_read, serves
 * them all, told apart by the table row's data. */
typedef struct buf_reader {
    int (*fn)(dd_buf *out, const dd_crdt *v);
    addon_buf_shape shape;
} buf_reader;

static const buf_reader ENCODE = {dd_crdt_encode, ADDON_BUF_BYTES};
static const buf_reader TO_JSON = {dd_crdt_to_json, ADDON_BUF_TEXT};
static const buf_reader VALUE_JSON = {dd_crdt_value_json, ADDON_BUF_TEXT};
static const buf_reader REGISTER_GET = {dd_crdt_register_get, ADDON_BUF_BYTES};
static const buf_reader ELEMENTS = {dd_crdt_elements, ADDON_BUF_LIST};

static napi_value crdt_buf_read(napi_env env, napi_callback_info info)
{
    const buf_reader *reader = addon_method_data(env, info);
    node_crdt *c = this_crdt(env, info);
    if (!c)
        return NULL;
    dd_buf b = DD_BUF_INIT;
    int rc = reader->fn(&b, c->h);
    return rc ? addon_fail_on(env, rc, c->h) : addon_buf_as(env, &b, reader->shape);
}

/* counterValue() -> number when exact, else bigint */
static napi_value crdt_counter_value(napi_env env, napi_callback_info info)
{
    node_crdt *c = this_crdt(env, info);
    if (!c)
        return NULL;
    int64_t v = 0;
    int rc = dd_crdt_counter_value(&v, c->h);
    if (rc)
        return addon_fail_on(env, rc, c->h);
    napi_value out;
    if (v > 9007199254740991LL || v < -9007199254740991LL)
        napi_create_bigint_int64(env, v, &out);
    else
        napi_create_int64(env, v, &out);
    return out;
}

/* Runs a reader that fills one unsigned integer from `this`'s value; false
 * when it threw. */
static bool read_u64(napi_env env, napi_callback_info info,
                     int (*fn)(uint64_t *out, const dd_crdt *v), uint64_t *v)
{
    node_crdt *c = this_crdt(env, info);
    if (!c)
        return false;
    int rc = fn(v, c->h);
    if (rc)
        addon_fail_on(env, rc, c->h);
    return rc == 0;
}

static napi_value crdt_digest(napi_env env, napi_callback_info info)
{
    uint64_t v = 0;
    napi_value out = NULL;
    if (read_u64(env, info, dd_crdt_digest, &v))
        napi_create_bigint_uint64(env, v, &out);
    return out;
}

static napi_value crdt_count(napi_env env, napi_callback_info info)
{
    uint64_t v = 0;
    return read_u64(env, info, dd_crdt_count, &v) ? addon_int(env, (int64_t)v) : NULL;
}

static napi_value bool_result(napi_env env, int rc)
{
    if (rc < 0)
        return addon_fail(env, rc);
    napi_value out;
    napi_get_boolean(env, rc == 1, &out);
    return out;
}

static napi_value crdt_flag_value(napi_env env, napi_callback_info info)
{
    node_crdt *c = this_crdt(env, info);
    return c ? bool_result(env, dd_crdt_flag_value(c->h)) : NULL;
}

/* `this` for a method of one bytes argument, read into p[0..n) (from
 * *scratch when it was a string: caller frees); NULL when it threw. */
static node_crdt *this_with_bytes(napi_env env, napi_callback_info info, const char *usage,
                                  const char *what, const uint8_t **p, size_t *n, char **scratch)
{
    size_t argc = 1;
    napi_value argv[1];
    *scratch = NULL;
    node_crdt *c = unwrap_this(env, info, &argc, argv);
    if (!c)
        return NULL;
    if (argc < 1) {
        addon_type_error(env, usage);
        return NULL;
    }
    return addon_arg_bytes(env, argv[0], p, n, scratch, what) ? c : NULL;
}

static napi_value crdt_contains(napi_env env, napi_callback_info info)
{
    const uint8_t *p;
    size_t n;
    char *scratch;
    node_crdt *c = this_with_bytes(env, info, "contains(element) needs an element", "element", &p,
                                   &n, &scratch);
    if (!c)
        return NULL;
    napi_value out = bool_result(env, dd_crdt_contains(c->h, p, n));
    free(scratch);
    return out;
}

/* mapGet(key) -> Crdt | undefined */
static napi_value crdt_map_get(napi_env env, napi_callback_info info)
{
    const uint8_t *p;
    size_t n;
    char *scratch;
    node_crdt *c = this_with_bytes(env, info, "mapGet(key) needs a key", "key", &p, &n, &scratch);
    if (!c)
        return NULL;
    dd_crdt *v = NULL;
    int rc = dd_crdt_map_get(&v, c->h, p, n);
    free(scratch);
    if (rc == DD_ENOTFOUND)
        return addon_undefined(env);
    return rc ? addon_fail(env, rc) : addon_wrap_crdt(env, v, c->actor);
}

bool addon_read_limits(napi_env env, napi_value v, dd_limits *lim)
{
    dd_limits_init(lim, DD_LIMITS_VERSION);
    napi_valuetype t;
    if (napi_typeof(env, v, &t) != napi_ok || t == napi_undefined || t == napi_null)
        return true;
    if (t != napi_object) {
        addon_type_error(env, "limits must be an object");
        return false;
    }
    napi_value f;
    uint64_t x;
    struct {
        const char *name;
        uint64_t *dst64;
        uint32_t *dst32;
    } fields[] = {{"maxBytes", &lim->max_bytes, NULL},
                  {"maxElements", &lim->max_elements, NULL},
                  {"maxValueBytes", &lim->max_value_bytes, NULL},
                  {"maxClockSkewMs", &lim->max_clock_skew_ms, NULL},
                  {"maxDepth", NULL, &lim->max_depth}};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        if (!addon_prop(env, v, fields[i].name, &f))
            continue;
        if (!addon_arg_u64(env, f, &x, fields[i].name))
            return false;
        if (fields[i].dst64)
            *fields[i].dst64 = x;
        else
            *fields[i].dst32 = x > UINT32_MAX ? UINT32_MAX : (uint32_t)x;
    }
    return true;
}

/* The arguments decode and fromJson start with: (source, limits?), the
 * source as bytes, the limits the defaults when absent. */
typedef struct source_args {
    size_t argc;
    napi_value argv[3];
    const uint8_t *p;
    size_t n;
    char *scratch; /* the source's bytes when it was a string */
    dd_limits lim;
} source_args;

/* Reads at most `max_args` (up to 3) arguments into `a`; free a->scratch
 * afterwards, also on failure. False when it threw. */
static bool read_source(napi_env env, napi_callback_info info, size_t max_args, const char *usage,
                        const char *what, source_args *a)
{
    a->argc = max_args;
    a->scratch = NULL;
    napi_get_cb_info(env, info, &a->argc, a->argv, NULL, NULL);
    if (a->argc < 1) {
        addon_type_error(env, usage);
        return false;
    }
    if (!addon_arg_bytes(env, a->argv[0], &a->p, &a->n, &a->scratch, what))
        return false;
    if (a->argc < 2) {
        dd_limits_init(&a->lim, DD_LIMITS_VERSION);
        return true;
    }
    return addon_read_limits(env, a->argv[1], &a->lim);
}

/* Crdt.decode(bytes, limits?, nowMs = Date.now()) */
static napi_value crdt_decode(napi_env env, napi_callback_info info)
{
    source_args a;
    uint64_t now = 0;
    napi_value out = NULL;
    if (read_source(env, info, 3, "decode(bytes) needs bytes", "bytes", &a) &&
        (a.argc < 3 || addon_arg_u64(env, a.argv[2], &now, "nowMs"))) {
        dd_crdt *v = NULL;
        int rc = dd_crdt_decode(&v, a.p, a.n, &a.lim, now);
        out = rc ? addon_fail(env, rc) : addon_wrap_crdt(env, v, 1);
    }
    free(a.scratch);
    return out;
}

/* Crdt.fromJson(text, limits?) */
static napi_value crdt_from_json(napi_env env, napi_callback_info info)
{
    source_args a;
    napi_value out = NULL;
    if (read_source(env, info, 2, "fromJson(text) needs text", "text", &a)) {
        dd_crdt *v = NULL;
        int rc = dd_crdt_from_json(&v, (const char *)a.p, a.n, &a.lim);
        out = rc ? addon_fail(env, rc) : addon_wrap_crdt(env, v, 1);
    }
    free(a.scratch);
    return out;
}

static napi_value type_name(napi_env env, napi_callback_info info)
{
    size_t argc = 1;
    napi_value argv[1], out;
    uint32_t type;
    napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
    if (argc < 1 || !addon_arg_u32(env, argv[0], &type, "type"))
        return NULL;
    const char *name = dd_crdt_type_name(type);
    if (strcmp(name, "unknown") == 0)
        return addon_undefined(env);
    napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &out);
    return out;
}

#define M ADDON_METHOD

static const napi_property_descriptor CRDT_METHODS[] = {
    M("increment", crdt_increment),
    M("apply", crdt_apply),
    M("merge", crdt_merge),
    M("equals", crdt_equals),
    M("clone", crdt_clone),
    M("close", crdt_close),
    M("typeOf", crdt_type),
    ADDON_METHOD_DATA("encode", crdt_buf_read, &ENCODE),
    ADDON_METHOD_DATA("toJson", crdt_buf_read, &TO_JSON),
    ADDON_METHOD_DATA("valueJson", crdt_buf_read, &VALUE_JSON),
    M("counterValue", crdt_counter_value),
    M("digest", crdt_digest),
    M("count", crdt_count),
    M("flagValue", crdt_flag_value),
    M("contains", crdt_contains),
    ADDON_METHOD_DATA("registerGet", crdt_buf_read, &REGISTER_GET),
    ADDON_METHOD_DATA("elements", crdt_buf_read, &ELEMENTS),
    M("mapGet", crdt_map_get),
    ADDON_STATIC("decode", crdt_decode),
    ADDON_STATIC("fromJson", crdt_from_json),
};

bool addon_init_crdt(napi_env env, napi_value exports)
{
    napi_value cls;
    if (!ADDON_DEFINE_CLASS(env, exports, "Crdt", crdt_construct, CRDT_METHODS) ||
        napi_get_named_property(env, exports, "Crdt", &cls) != napi_ok ||
        napi_create_reference(env, cls, 1, &addon_get_state(env)->crdt_ctor) != napi_ok)
        return false;
    static const addon_fn fns[] = {{"crdtTypeName", type_name}, {"randomActor", random_actor}};
    return addon_export(env, exports, fns, ADDON_COUNT(fns));
}
