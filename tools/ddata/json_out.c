/*
 * JSON output of byte strings for the tools (json_out.h).
 */
#include "json_out.h"

#include <string.h>

#include "seal/envelope.h"

static void put_b64(FILE *f, const uint8_t *s, size_t len)
{
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16;
        if (i + 1 < len)
            v |= (uint32_t)s[i + 1] << 8;
        if (i + 2 < len)
            v |= s[i + 2];
        fputc(t[v >> 18 & 63], f);
        fputc(t[v >> 12 & 63], f);
        fputc(i + 1 < len ? t[v >> 6 & 63] : '=', f);
        fputc(i + 2 < len ? t[v & 63] : '=', f);
    }
}

void json_put_bytes(FILE *f, const uint8_t *s, size_t len)
{
    int text = 1;
    for (size_t i = 0; i < len && text; i++)
        text = s[i] >= 0x20 && s[i] < 0x7f;
    if (!text) {
        fputs("{\"$bytes\":\"", f);
        put_b64(f, s, len);
        fputs("\"}", f);
        return;
    }
    fputc('"', f);
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '"' || s[i] == '\\')
            fputc('\\', f);
        fputc(s[i], f);
    }
    fputc('"', f);
}

int json_is_sealed(const uint8_t *data, size_t len)
{
    return len >= sizeof(ENVELOPE_MAGIC) - 1 &&
           memcmp(data, ENVELOPE_MAGIC, sizeof(ENVELOPE_MAGIC) - 1) == 0;
}
