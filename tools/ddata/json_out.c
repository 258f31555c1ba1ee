/*
 * JSON output for the tools (json_out.h). base64 is libsodium's original
 * alphabet with padding, the text docs/json.md specifies.
 */
#include "json_out.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "seal/envelope.h"

static int is_text(const uint8_t *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] < 0x20 || s[i] >= 0x7f)
            return 0;
    return 1;
}

cJSON *json_bytes_item(const uint8_t *s, size_t len)
{
    size_t cap =
        is_text(s, len) ? len + 1 : sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
    char *text = malloc(cap);
    if (!text)
        return NULL;
    cJSON *item = NULL;
    if (is_text(s, len)) {
        if (len)
            memcpy(text, s, len);
        text[len] = 0;
        item = cJSON_CreateString(text);
    } else {
        sodium_bin2base64(text, cap, s, len, sodium_base64_VARIANT_ORIGINAL);
        item = cJSON_CreateObject();
        if (item && !cJSON_AddStringToObject(item, "$bytes", text)) {
            cJSON_Delete(item);
            item = NULL;
        }
    }
    free(text);
    return item;
}

cJSON *json_u64_item(uint64_t v)
{
    char text[24];
    snprintf(text, sizeof(text), "%llu", (unsigned long long)v);
    return cJSON_CreateRaw(text);
}

int json_add(cJSON *object, const char *name, cJSON *item)
{
    if (!item)
        return -1;
    if (!object || !cJSON_AddItemToObject(object, name, item)) {
        cJSON_Delete(item);
        return -1;
    }
    return 0;
}

cJSON *json_event_item(const dd_journal_event *ev)
{
    cJSON *o = cJSON_CreateObject(), *tags = cJSON_CreateArray();
    int rc = o && tags ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < ev->tag_count; i++) {
        cJSON *t = json_bytes_item((const uint8_t *)ev->tags[i], strlen(ev->tags[i]));
        rc = t && cJSON_AddItemToArray(tags, t) ? 0 : -1;
        if (rc)
            cJSON_Delete(t);
    }
    if (rc == 0) {
        rc |= json_add(o, "ordering", json_u64_item(ev->ordering));
        rc |= json_add(o, "payload", json_bytes_item(ev->payload, ev->len));
        rc |= json_add(o, "pid", json_bytes_item(ev->pid, ev->pid_len));
        rc |= json_add(o, "seq", json_u64_item(ev->seq));
        rc |= json_add(o, "tags", tags);
        tags = NULL;
        rc |= json_add(o, "timestamp_ms", json_u64_item(ev->timestamp_ms));
    }
    cJSON_Delete(tags);
    if (rc) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

cJSON *json_wrap(const char *name, cJSON *item)
{
    cJSON *o = item ? cJSON_CreateObject() : NULL;
    if (json_add(o, name, item) != 0) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

cJSON *json_checked(cJSON *object, int failed)
{
    if (failed) {
        cJSON_Delete(object);
        return NULL;
    }
    return object;
}

int json_print_line(FILE *f, cJSON *item)
{
    char *text = item ? cJSON_PrintUnformatted(item) : NULL;
    cJSON_Delete(item);
    if (!text)
        return -1;
    fputs(text, f);
    fputc('\n', f);
    cJSON_free(text);
    return 0;
}

void json_put_bytes(FILE *f, const uint8_t *s, size_t len)
{
    cJSON *item = json_bytes_item(s, len);
    char *text = item ? cJSON_PrintUnformatted(item) : NULL;
    if (text)
        fputs(text, f);
    cJSON_free(text);
    cJSON_Delete(item);
}

int json_is_sealed(const uint8_t *data, size_t len)
{
    return len >= sizeof(ENVELOPE_MAGIC) - 1 &&
           memcmp(data, ENVELOPE_MAGIC, sizeof(ENVELOPE_MAGIC) - 1) == 0;
}
