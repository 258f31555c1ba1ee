/*
 * Sealing throughput: 64 KiB blobs through seal_blob (zlib at the default
 * level 6, then XChaCha20-Poly1305), in MB of plaintext per second.
 *
 *   seal.throughput            the default settings on log-like text
 *                              (compressible, as events and snapshots are)
 *   seal.throughput.random     incompressible bytes: zlib is tried and
 *                              its output discarded, the worst case
 *   seal.throughput.nocompress compression off: the AEAD alone
 *   seal.open.throughput       opening the default-sealed blobs
 */
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "seal/seal.h"
#include "util/rng.h"

#define BLOB (64 * 1024)
#define ROUNDS 400

static double seal_rate(sealer *s, const uint8_t *blob, bytes *out)
{
    double t0 = bench_now_s();
    for (int i = 0; i < ROUNDS; i++) {
        bytes_reset(out);
        if (seal_blob(s, (const uint8_t *)"aad", 3, blob, BLOB, out) != 0)
            return 0;
    }
    return (double)ROUNDS * BLOB / (bench_now_s() - t0) / 1e6;
}

int main(void)
{
    static uint8_t text[BLOB], noise[BLOB];
    size_t at = 0;
    for (unsigned i = 0; at < BLOB; i++) {
        char line[128];
        int n = snprintf(line, sizeof(line),
                         "{\"order\":%u,\"item\":\"sku-%u\",\"qty\":%u,\"state\":\"%s\"}\n", i,
                         i * 7919 % 1000, i % 9, i % 3 ? "placed" : "shipped");
        size_t take = (size_t)n < BLOB - at ? (size_t)n : BLOB - at;
        memcpy(text + at, line, take);
        at += take;
    }
    rng g;
    rng_seed(&g, 42);
    for (size_t i = 0; i < BLOB; i++)
        noise[i] = (uint8_t)rng_next(&g);

    keyring *k;
    uint8_t key[32] = {1, 2, 3};
    if (keyring_new(&k) != 0 || keyring_add(k, 1, key, 32) != 0)
        return 1;
    sealer *def, *raw;
    seal_options off = seal_options_default();
    off.compression_level = 0;
    if (sealer_new(&def, k, NULL) != 0 || sealer_new(&raw, k, &off) != 0)
        return 1;
    bytes out = BYTES_INIT, plain = BYTES_INIT;
    bench_report("seal.throughput", "MB/s", seal_rate(def, text, &out));
    double t0 = bench_now_s();
    for (int i = 0; i < ROUNDS; i++) {
        bytes_reset(&plain);
        if (seal_open(def, (const uint8_t *)"aad", 3, out.data, out.len, &plain) != 0)
            return 1;
    }
    bench_report("seal.open.throughput", "MB/s",
                 (double)ROUNDS * BLOB / (bench_now_s() - t0) / 1e6);
    bench_report("seal.throughput.random", "MB/s", seal_rate(def, noise, &out));
    bench_report("seal.throughput.nocompress", "MB/s", seal_rate(raw, noise, &out));
    bytes_free(&out);
    bytes_free(&plain);
    sealer_free(def);
    sealer_free(raw);
    keyring_release(k);
    return 0;
}
