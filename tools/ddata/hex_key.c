/*
 * Decodes keys written as hex digits; see hex_key.h.
 */
#include "hex_key.h"

#include <sodium.h>

int hex_key_decode(const char *hex, uint8_t key[HEX_KEY_BYTES])
{
    /* libsodium stops at the first character that is not a hex digit (a
     * NUL included), so a short string is never read past its end */
    size_t len = 0;
    const char *end = NULL;
    if (sodium_hex2bin(key, HEX_KEY_BYTES, hex, HEX_KEY_DIGITS, NULL, &len, &end) != 0 ||
        len != HEX_KEY_BYTES)
        return -1;
    return 0;
}
