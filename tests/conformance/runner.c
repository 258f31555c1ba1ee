/*
 * The C runner of the conformance vectors (the JSON files in tests/conformance/crdt,
 * format in SCHEMA.md). It goes through the public ABI only, exactly as the
 * Python, Node and Rust runners do, so a case that passes here and fails in
 * a binding points at the binding.
 *
 * Cases named in known_failures_c.txt may fail; an unlisted failure fails
 * the run, and so does a listed case that passes (the list must shrink).
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conformance.h"
#include "ddata.h"

#define MAX_REPLICAS 8
#define MAX_NEST 8

static char failure[1024];

/* Records why the case failed; -1. */
#define fail(...) conf_fail(failure, sizeof failure, __VA_ARGS__)

static int kind_of_name(const char *name)
{
    static const char *const kinds[] = {"",      "increment", "decrement", "add",   "remove",
                                        "clear", "assign",    "enable",    "update"};
    for (int k = 1; k <= 8; k++)
        if (strcmp(kinds[k], name) == 0)
            return k;
    return -1;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* A JSON string, or {"$bytes": base64}. */
static int read_bytes(const cJSON *item, uint8_t *buf, size_t cap, size_t *len)
{
    const char *err = conf_bytes(item, buf, cap, len);
    return err ? fail("%s", err) : 0;
}

typedef struct opbuf {
    dd_op ops[MAX_NEST];
    uint8_t keys[MAX_NEST][256], vals[MAX_NEST][256];
} opbuf;

static int build_op(const cJSON *j, opbuf *b, int level)
{
    if (level == MAX_NEST)
        return fail("op nests too deep");
    dd_op *op = &b->ops[level];
    dd_op_init(op, DD_OP_VERSION);
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(j, "kind");
    if (!cJSON_IsString(kind) || kind_of_name(kind->valuestring) < 0)
        return fail("op without a known kind");
    op->kind = (uint32_t)kind_of_name(kind->valuestring);
    const cJSON *it;
    if ((it = cJSON_GetObjectItemCaseSensitive(j, "amount")))
        op->amount = (uint64_t)it->valuedouble;
    if ((it = cJSON_GetObjectItemCaseSensitive(j, "key"))) {
        if (read_bytes(it, b->keys[level], sizeof b->keys[level], &op->key_len))
            return -1;
        op->key = b->keys[level];
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(j, "value"))) {
        if (read_bytes(it, b->vals[level], sizeof b->vals[level], &op->value_len))
            return -1;
        op->value = b->vals[level];
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(j, "value_type"))) {
        if (!cJSON_IsString(it) || conf_type_of_name(it->valuestring) < 0)
            return fail("unknown value_type");
        op->value_type = (uint32_t)conf_type_of_name(it->valuestring);
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(j, "nested"))) {
        if (build_op(it, b, level + 1))
            return -1;
        op->nested = &b->ops[level + 1];
    }
    return 0;
}

static cJSON *value_of(const dd_crdt *v)
{
    dd_buf b = DD_BUF_INIT;
    if (dd_crdt_value_json(&b, v) != DD_OK)
        return NULL;
    cJSON *j = cJSON_ParseWithLength((const char *)b.data, b.len);
    dd_buf_free(&b);
    return j;
}

/* Every state a vector reaches must survive both codecs unchanged. */
static int check_roundtrip(const dd_crdt *v)
{
    dd_buf bin = DD_BUF_INIT, js = DD_BUF_INIT;
    dd_crdt *a = NULL, *b = NULL;
    int rc = 0;
    if (dd_crdt_encode(&bin, v) || dd_crdt_decode(&a, bin.data, bin.len, NULL, UINT64_MAX / 2) ||
        dd_crdt_equal(a, v) != 1)
        rc = fail("binary round trip failed: %s", dd_error_last()->message);
    else if (dd_crdt_to_json(&js, v) ||
             dd_crdt_from_json(&b, (const char *)js.data, js.len, NULL) || dd_crdt_equal(b, v) != 1)
        rc = fail("json round trip failed: %s", dd_error_last()->message);
    dd_crdt_free(a);
    dd_crdt_free(b);
    dd_buf_free(&bin);
    dd_buf_free(&js);
    return rc;
}

static int run_decode_case(const cJSON *c)
{
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(c, "decode");
    const cJSON *hex = cJSON_GetObjectItemCaseSensitive(d, "hex");
    const cJSON *want = cJSON_GetObjectItemCaseSensitive(c, "expect_status");
    if (!cJSON_IsString(hex) || !cJSON_IsString(want))
        return fail("decode case needs decode.hex and expect_status");
    size_t n = strlen(hex->valuestring) / 2;
    uint8_t *buf = malloc(n + 1);
    for (size_t i = 0; i < n; i++) {
        int hi = hexval(hex->valuestring[2 * i]), lo = hexval(hex->valuestring[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            free(buf);
            return fail("bad hex");
        }
        buf[i] = (uint8_t)(hi << 4 | lo);
    }
    dd_limits lim = DD_LIMITS_INIT;
    const cJSON *l = cJSON_GetObjectItemCaseSensitive(d, "limits");
    const cJSON *it;
    if ((it = cJSON_GetObjectItemCaseSensitive(l, "max_bytes")))
        lim.max_bytes = (uint64_t)it->valuedouble;
    if ((it = cJSON_GetObjectItemCaseSensitive(l, "max_elements")))
        lim.max_elements = (uint64_t)it->valuedouble;
    if ((it = cJSON_GetObjectItemCaseSensitive(l, "max_depth")))
        lim.max_depth = (uint32_t)it->valuedouble;
    if ((it = cJSON_GetObjectItemCaseSensitive(l, "max_value_bytes")))
        lim.max_value_bytes = (uint64_t)it->valuedouble;
    if ((it = cJSON_GetObjectItemCaseSensitive(l, "max_clock_skew_ms")))
        lim.max_clock_skew_ms = (uint64_t)it->valuedouble;
    const cJSON *now = cJSON_GetObjectItemCaseSensitive(d, "now");
    dd_crdt *v = NULL;
    int rc = dd_crdt_decode(&v, buf, n, &lim, now ? (uint64_t)now->valuedouble : 0);
    free(buf);
    dd_crdt_free(v);
    if (rc != conf_status_of_name(want->valuestring))
        return fail("decode returned %s, expected %s (%s)", dd_status_name(rc), want->valuestring,
                    dd_error_last()->message);
    return 0;
}

static int run_case(const cJSON *c)
{
    if (cJSON_GetObjectItemCaseSensitive(c, "decode"))
        return run_decode_case(c);
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(c, "type");
    const cJSON *nrep = cJSON_GetObjectItemCaseSensitive(c, "replicas");
    const cJSON *steps = cJSON_GetObjectItemCaseSensitive(c, "steps");
    if (!cJSON_IsString(type) || conf_type_of_name(type->valuestring) < 0 ||
        !cJSON_IsNumber(nrep) || nrep->valueint < 1 || nrep->valueint > MAX_REPLICAS ||
        !cJSON_IsArray(steps))
        return fail("case needs type, replicas (1..8) and steps");
    int n = nrep->valueint, rc = 0;
    dd_crdt *rep[MAX_REPLICAS] = {0};
    for (int i = 0; i < n; i++)
        if (dd_crdt_new(&rep[i], (uint32_t)conf_type_of_name(type->valuestring)))
            return fail("dd_crdt_new: %s", dd_error_last()->message);
    int index = 0;
    const cJSON *s;
    cJSON_ArrayForEach(s, steps)
    {
        index++;
        const cJSON *op = cJSON_GetObjectItemCaseSensitive(s, "op");
        const cJSON *merge = cJSON_GetObjectItemCaseSensitive(s, "merge");
        const cJSON *expect = cJSON_GetObjectItemCaseSensitive(s, "expect");
        if (op) {
            const cJSON *r = cJSON_GetObjectItemCaseSensitive(s, "replica");
            const cJSON *actor = cJSON_GetObjectItemCaseSensitive(s, "actor");
            const cJSON *now = cJSON_GetObjectItemCaseSensitive(s, "now");
            const cJSON *want = cJSON_GetObjectItemCaseSensitive(s, "expect_status");
            const cJSON *deltas = cJSON_GetObjectItemCaseSensitive(s, "delta_to");
            int ri = cJSON_IsNumber(r) ? r->valueint : -1;
            if (ri < 0 || ri >= n) {
                rc = fail("step %d: bad replica", index);
                break;
            }
            opbuf b;
            if (build_op(op, &b, 0)) {
                rc = -1;
                break;
            }
            uint64_t a = actor ? (uint64_t)actor->valuedouble : (uint64_t)ri + 1;
            uint64_t t = now ? (uint64_t)now->valuedouble : 1000 + (uint64_t)index;
            dd_crdt *delta = NULL;
            int st = dd_crdt_apply(rep[ri], &b.ops[0], a, t, &delta);
            int expect_st = want ? conf_status_of_name(want->valuestring) : DD_OK;
            if (st != expect_st) {
                rc = fail("step %d: apply returned %s, expected %s (%s)", index, dd_status_name(st),
                          dd_status_name(expect_st), dd_error_last()->message);
                dd_crdt_free(delta);
                break;
            }
            const cJSON *d;
            cJSON_ArrayForEach(d, deltas)
            {
                if (!cJSON_IsNumber(d) || d->valueint < 0 || d->valueint >= n || !delta ||
                    dd_crdt_merge(rep[d->valueint], delta)) {
                    rc = fail("step %d: delta merge failed", index);
                    break;
                }
            }
            dd_crdt_free(delta);
            if (rc)
                break;
        } else if (merge) {
            const cJSON *from = cJSON_GetObjectItemCaseSensitive(merge, "from");
            const cJSON *into = cJSON_GetObjectItemCaseSensitive(merge, "into");
            if (!cJSON_IsNumber(from) || !cJSON_IsNumber(into) || from->valueint < 0 ||
                from->valueint >= n || into->valueint < 0 || into->valueint >= n ||
                dd_crdt_merge(rep[into->valueint], rep[from->valueint])) {
                rc = fail("step %d: merge failed", index);
                break;
            }
        } else if (expect) {
            const cJSON *r = cJSON_GetObjectItemCaseSensitive(expect, "replica");
            int ri = cJSON_IsNumber(r) ? r->valueint : -1;
            if (ri < 0 || ri >= n) {
                rc = fail("step %d: bad replica", index);
                break;
            }
            const cJSON *value = cJSON_GetObjectItemCaseSensitive(expect, "value");
            const cJSON *eq = cJSON_GetObjectItemCaseSensitive(expect, "equal_to");
            if (value) {
                cJSON *got = value_of(rep[ri]);
                if (!got || !cJSON_Compare(got, value, 1)) {
                    char *g = got ? cJSON_PrintUnformatted(got) : NULL;
                    char *w = cJSON_PrintUnformatted(value);
                    rc = fail("step %d: replica %d is %s, expected %s", index, ri, g ? g : "?", w);
                    free(g);
                    free(w);
                }
                cJSON_Delete(got);
            }
            if (!rc && eq &&
                (!cJSON_IsNumber(eq) || eq->valueint < 0 || eq->valueint >= n ||
                 dd_crdt_equal(rep[ri], rep[eq->valueint]) != 1))
                rc = fail("step %d: replica %d differs from replica %d", index, ri,
                          eq ? eq->valueint : -1);
            if (!rc)
                rc = check_roundtrip(rep[ri]);
            if (rc)
                break;
        } else {
            rc = fail("step %d: neither op, merge nor expect", index);
            break;
        }
    }
    for (int i = 0; i < n; i++)
        dd_crdt_free(rep[i]);
    return rc;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "tests/conformance";
    char path[4096];
    size_t len;
    conf_known known;
    snprintf(path, sizeof path, "%s/known_failures_c.txt", dir);
    if (conf_known_load(&known, path)) {
        fprintf(stderr, "conformance: out of memory reading %s\n", path);
        return 2;
    }
    snprintf(path, sizeof path, "%s/crdt", dir);
    conf_files files;
    if (conf_json_files(&files, path)) {
        fprintf(stderr, "conformance: cannot open %s\n", path);
        conf_known_free(&known);
        return 2;
    }
    int passed = 0, failed = 0, xfail = 0;
    for (size_t f = 0; f < files.count; f++) {
        snprintf(path, sizeof path, "%s/crdt/%s", dir, files.names[f]);
        char *text = conf_read_file(path, &len);
        cJSON *doc = text ? cJSON_ParseWithLength(text, len) : NULL;
        const cJSON *cases = cJSON_GetObjectItemCaseSensitive(doc, "cases");
        if (!cJSON_IsArray(cases)) {
            fprintf(stderr, "FAIL %s: not a vector file\n", files.names[f]);
            failed++;
        }
        const cJSON *c;
        cJSON_ArrayForEach(c, cases)
        {
            const cJSON *name = cJSON_GetObjectItemCaseSensitive(c, "name");
            char id[512];
            snprintf(id, sizeof id, "%s:%s", files.names[f],
                     cJSON_IsString(name) ? name->valuestring : "?");
            failure[0] = 0;
            int rc = run_case(c);
            bool known_bad = conf_known_has(&known, id);
            if (rc && known_bad) {
                xfail++;
            } else if (rc) {
                fprintf(stderr, "FAIL %s: %s\n", id, failure);
                failed++;
            } else if (known_bad) {
                fprintf(stderr, "FAIL %s: passes but is listed in known_failures_c.txt\n", id);
                failed++;
            } else {
                passed++;
            }
        }
        cJSON_Delete(doc);
        free(text);
    }
    conf_files_free(&files);
    conf_known_free(&known);
    printf("conformance: %d passed, %d failed, %d known failures\n", passed, failed, xfail);
    return failed ? 1 : 0;
}
