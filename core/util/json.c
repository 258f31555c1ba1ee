/*
 * Canonical JSON output helpers. See json.h for the canonical rules.
 */
#include "util/json.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <sodium.h>
#include <string.h>

bool utf8_valid(const uint8_t *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        uint8_t c = s[i];
        size_t n;
        uint32_t cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            n = 1;
            cp = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            n = 2;
            cp = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            n = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (len - i - 1 < n)
            return false;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (s[i + k] & 0x3f);
        }
        /* Reject overlong forms, surrogates and values past U+10FFFF. */
        if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
            (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
            return false;
        i += n + 1;
    }
    return true;
}

void json_put_string(bytes *out, const uint8_t *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    bytes_put_u8(out, '"');
    size_t run = 0;
    for (size_t i = 0; i < len; i++) {
        uint8_t c = s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        bytes_put(out, s + run, i - run);
        run = i + 1;
        switch (c) {
        case '"': bytes_put(out, "\\\"", 2); break;
        case '\\': bytes_put(out, "\\\\", 2); break;
        case '\n': bytes_put(out, "\\n", 2); break;
        case '\r': bytes_put(out, "\\r", 2); break;
        case '\t': bytes_put(out, "\\t", 2); break;
        case '\b': bytes_put(out, "\\b", 2); break;
        case '\f': bytes_put(out, "\\f", 2); break;
        default: {
            char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            bytes_put(out, esc, 6);
        }
        }
    }
    bytes_put(out, s + run, len - run);
    bytes_put_u8(out, '"');
}

void json_put_bytes(bytes *out, const uint8_t *s, size_t len)
{
    /* NUL would not survive libcjson's C strings, so it takes the base64 form. */
    if (utf8_valid(s, len) && !memchr(s, 0, len)) {
        json_put_string(out, s, len);
        return;
    }
    size_t n = base64_encoded_len(len);
    bytes_put_str(out, "{\"$bytes\":\"");
    if (!bytes_reserve(out, n + 1)) /* + the NUL base64_encode writes */
        return;
    base64_encode(s, len, (char *)out->data + out->len);
    out->len += n;
    bytes_put_str(out, "\"}");
}

void json_put_u64(bytes *out, uint64_t v)
{
    bytes_printf(out, "%" PRIu64, v);
}

void json_put_i64(bytes *out, int64_t v)
{
    bytes_printf(out, "%" PRId64, v);
}

/* base64 is libsodium's (the original alphabet, with padding): the same
 * text as before, and a decoder that refuses anything but canonical
 * input. */
size_t base64_encoded_len(size_t len)
{
    return sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL) - 1;
}

void base64_encode(const uint8_t *in, size_t len, char *out)
{
    sodium_bin2base64(out, base64_encoded_len(len) + 1, in, len, sodium_base64_VARIANT_ORIGINAL);
}

bool base64_decode(const char *in, size_t len, bytes *out)
{
    if (len % 4 != 0)
        return false;
    size_t max = len / 4 * 3, got = 0;
    if (!bytes_reserve(out, max + 1))
        return false;
    /* b64_end NULL: any character outside the alphabet fails the call. */
    if (sodium_base642bin(out->data + out->len, max, in, len, NULL, &got, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0)
        return false;
    out->len += got;
    return true;
}

bool json_read_bytes(const struct cJSON *item, bytes *out)
{
    if (cJSON_IsString(item)) {
        const char *s = item->valuestring;
        size_t n = strlen(s);
        bytes_put(out, s, n);
        return !out->failed && utf8_valid((const uint8_t *)s, n);
    }
    const cJSON *b = cJSON_IsObject(item) ? cJSON_GetObjectItemCaseSensitive(item, "$bytes") : NULL;
    if (!cJSON_IsString(b) || cJSON_GetArraySize(item) != 1)
        return false;
    return base64_decode(b->valuestring, strlen(b->valuestring), out);
}
