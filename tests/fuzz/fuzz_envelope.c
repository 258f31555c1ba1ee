/*
 * Fuzzes the sealed-envelope decoder: envelope_parse on any bytes, then
 * seal_open with a fixed key ring, so the AEAD and the bounded inflate run
 * on whatever gets past the header checks. Neither may crash, read out of
 * bounds or allocate past the limit; a blob that opens must have come
 * from the key (the seeds) or be a forgery libsodium missed.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "seal/envelope.h"
#include "seal/seal.h"

/* The decoder's sources are compiled into this file so libFuzzer's
 * coverage instrumentation sees their branches (the static library is
 * built without it); the linker then takes these definitions instead of
 * the library's. */
#include "../../core/seal/envelope.c"
#include "../../core/seal/seal.c"

static sealer *the_sealer(void)
{
    static sealer *s;
    if (!s) {
        keyring *k;
        uint8_t key[32];
        for (int i = 0; i < 32; i++)
            key[i] = (uint8_t)i;
        if (keyring_new(&k) != 0 || keyring_add(k, 1, key, 32) != 0)
            __builtin_trap();
        seal_options o = seal_options_default();
        o.max_plain_bytes = 1 << 20;
        o.compress_threshold = 16;
        if (sealer_new(&s, k, &o) != 0)
            __builtin_trap();
        keyring_release(k);
    }
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    envelope e;
    if (envelope_parse(data, size, 1 << 20, &e) == 0) {
        if (e.header_len + e.cipher_len != size || e.cipher_len < ENVELOPE_TAG_BYTES)
            __builtin_trap();
    }
    bytes out = BYTES_INIT;
    if (seal_open(the_sealer(), (const uint8_t *)"fuzz", 4, data, size, &out) == 0 &&
        out.len > (1u << 20))
        __builtin_trap();
    bytes_free(&out);
    return 0;
}
