/*
 * A fast 64-bit non-cryptographic hash for hash tables and digests.
 *
 * Keys in ddata come from the network, so tables seed the hash with a
 * per-process secret (hash_seed_default) to keep collision floods out.
 * Digests that two nodes compare use a fixed seed (0) instead.
 */
#ifndef DD_UTIL_HASH_H
#define DD_UTIL_HASH_H

#include <stddef.h>
#include <stdint.h>

uint64_t hash_bytes(const void *data, size_t len, uint64_t seed);
uint64_t hash_u64(uint64_t x);
/* Random per process, chosen on first use. */
uint64_t hash_seed_default(void);

#endif
