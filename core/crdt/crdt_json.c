/*
 * The canonical JSON forms (docs/json.md).
 *
 * Two forms: the value a user sees (crdt_value_json: sorted elements,
 * counter sums, register values), and the full state (crdt_to_json), which
 * must round-trip exactly. Rather than spell out dots, version vectors and
 * timestamps in a second, parallel JSON schema per type, the full form
 * carries the canonical binary encoding in base64 next to the value:
 *   {"state":"<base64>","type":"ORSet","value":{...value form...}}
 * so there is one encoding to keep canonical, every big integer survives
 * exactly, and from_json is bounded by the same decoder limits. from_json
 * also checks that "value" agrees with "state".
 */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "crdt/crdt_impl.h"
#include "util/error.h"
#include "util/json.h"
#include "util/status.h"

static void put_key(bytes *out, const char *k)
{
    json_put_string(out, (const uint8_t *)k, strlen(k));
    bytes_put_u8(out, ':');
}

static void put_type(bytes *out, const crdt *v)
{
    put_key(out, "type");
    const char *n = crdt_type_name(v->type);
    json_put_string(out, (const uint8_t *)n, strlen(n));
}

static int put_elements(bytes *out, const dotset *s)
{
    uint32_t *order = ds_sorted(s);
    if (!order)
        return error_oom();
    bytes_put_u8(out, '[');
    for (uint32_t k = 0; k < s->n; k++) {
        const ds_entry *e = &s->entries[order[k]];
        if (k)
            bytes_put_u8(out, ',');
        json_put_bytes(out, ds_elem(s, e), e->len);
    }
    bytes_put_u8(out, ']');
    free(order);
    return ST_OK;
}

/* What a map entry's "value" is: the nested value form for ORMap, the plain
 * value for the fixed-type maps. */
static int put_map_value(bytes *out, const crdt *map, const crdt *val)
{
    int64_t n;
    int rc;
    switch (map->type) {
    case CRDT_LWWMAP:
        if (val->u.reg.has)
            json_put_bytes(out, val->u.reg.value, val->u.reg.len);
        else
            bytes_put_str(out, "null");
        return ST_OK;
    case CRDT_PNCOUNTERMAP:
    case CRDT_GCOUNTERMAP:
        rc = counter_value(val, &n);
        if (!rc)
            json_put_i64(out, n);
        return rc;
    case CRDT_ORMULTIMAP: return put_elements(out, &val->u.ds);
    default: return crdt_value_json(val, out);
    }
}

int crdt_value_json(const crdt *v, bytes *out)
{
    int rc = ST_OK;
    int64_t n;
    bytes_put_u8(out, '{');
    switch (v->type) {
    case CRDT_GCOUNTER:
    case CRDT_PNCOUNTER:
        rc = counter_value(v, &n);
        if (rc)
            return rc;
        put_type(out, v);
        bytes_put_u8(out, ',');
        put_key(out, "value");
        json_put_i64(out, n);
        break;
    case CRDT_GSET:
    case CRDT_ORSET:
        put_key(out, "elements");
        rc = put_elements(out, &v->u.ds);
        bytes_put_u8(out, ',');
        put_type(out, v);
        break;
    case CRDT_MVREGISTER:
        put_type(out, v);
        bytes_put_u8(out, ',');
        put_key(out, "values");
        rc = put_elements(out, &v->u.ds);
        break;
    case CRDT_LWWREGISTER:
        put_type(out, v);
        bytes_put_u8(out, ',');
        put_key(out, "value");
        if (v->u.reg.has)
            json_put_bytes(out, v->u.reg.value, v->u.reg.len);
        else
            bytes_put_str(out, "null");
        break;
    case CRDT_FLAG:
        put_type(out, v);
        bytes_put_u8(out, ',');
        put_key(out, "value");
        bytes_put_str(out, v->u.flag ? "true" : "false");
        break;
    default: {
        const dotset *s = &v->u.ds;
        uint32_t *order = ds_sorted(s);
        if (!order)
            return error_oom();
        put_key(out, "entries");
        bytes_put_u8(out, '[');
        bool first = true;
        for (uint32_t k = 0; k < s->n && !rc; k++) {
            const ds_entry *e = &s->entries[order[k]];
            const crdt *val = s->vals[order[k]];
            /* a multimap key whose set was emptied shows as absent */
            if (v->type == CRDT_ORMULTIMAP && val->u.ds.n == 0)
                continue;
            if (!first)
                bytes_put_u8(out, ',');
            first = false;
            bytes_put_u8(out, '{');
            put_key(out, "key");
            json_put_bytes(out, ds_elem(s, e), e->len);
            bytes_put_u8(out, ',');
            put_key(out, "value");
            rc = put_map_value(out, v, val);
            bytes_put_u8(out, '}');
        }
        free(order);
        bytes_put_str(out, "],");
        put_type(out, v);
        break;
    }
    }
    bytes_put_u8(out, '}');
    if (!rc && out->failed)
        rc = error_oom();
    return rc;
}

int crdt_to_json(const crdt *v, bytes *out)
{
    bytes bin = BYTES_INIT;
    int rc = crdt_encode(v, &bin);
    if (rc)
        goto done;
    size_t b64len = base64_encoded_len(bin.len);
    char *b64 = malloc(b64len + 1);
    if (!b64) {
        rc = error_oom();
        goto done;
    }
    base64_encode(bin.data, bin.len, b64);
    bytes_put_u8(out, '{');
    put_key(out, "state");
    json_put_string(out, (const uint8_t *)b64, b64len);
    free(b64);
    bytes_put_u8(out, ',');
    put_type(out, v);
    bytes_put_u8(out, ',');
    put_key(out, "value");
    rc = crdt_value_json(v, out);
    bytes_put_u8(out, '}');
    if (!rc && out->failed)
        rc = error_oom();
done:
    bytes_free(&bin);
    return rc;
}

int crdt_from_json(crdt **out, const char *json, size_t len, const limits *lim)
{
    *out = NULL;
    limits def = limits_default();
    if (!lim)
        lim = &def;
    if (!json && len)
        return error_set(ST_EINVAL, "json is NULL with length %zu", len);
    /* base64 is 4/3 of the binary, plus the value form */
    if (len / 3 > lim->max_bytes)
        return error_set(ST_ELIMIT, "json of %zu bytes exceeds the limit", len);
    cJSON *doc = cJSON_ParseWithLength(json ? json : "", len);
    cJSON *value_doc = NULL;
    bytes bin = BYTES_INIT, rendered = BYTES_INIT;
    crdt *v = NULL;
    int rc = ST_OK;
    if (!doc || !cJSON_IsObject(doc)) {
        rc = error_set(ST_ECORRUPT, "crdt json is not a json object");
        goto done;
    }
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(doc, "type");
    const cJSON *state = cJSON_GetObjectItemCaseSensitive(doc, "state");
    const cJSON *value = cJSON_GetObjectItemCaseSensitive(doc, "value");
    if (!cJSON_IsString(type) || !cJSON_IsString(state) || !value || cJSON_GetArraySize(doc) != 3) {
        rc = error_set(ST_ECORRUPT, "crdt json needs exactly \"state\", \"type\" and \"value\"");
        goto done;
    }
    if (!base64_decode(state->valuestring, strlen(state->valuestring), &bin)) {
        rc = error_set(ST_ECORRUPT, "crdt json \"state\" is not base64");
        goto done;
    }
    /* no clock here: JSON is for the CLI and tests, not the wire */
    rc = crdt_decode(&v, bin.data, bin.len, lim, UINT64_MAX);
    if (rc)
        goto done;
    if (strcmp(crdt_type_name(v->type), type->valuestring) != 0) {
        rc = error_set(ST_ECORRUPT, "crdt json says \"%s\" but the state is a %s",
                       type->valuestring, crdt_type_name(v->type));
        goto done;
    }
    rc = crdt_value_json(v, &rendered);
    if (rc)
        goto done;
    value_doc = cJSON_ParseWithLength((const char *)rendered.data, rendered.len);
    if (!value_doc || !cJSON_Compare(value_doc, value, true)) {
        rc = error_set(ST_ECORRUPT, "crdt json \"value\" does not match its \"state\"");
        goto done;
    }
    *out = v;
    v = NULL;
done:
    crdt_free(v);
    cJSON_Delete(doc);
    cJSON_Delete(value_doc);
    bytes_free(&bin);
    bytes_free(&rendered);
    return rc;
}
