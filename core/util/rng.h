/*
 * A small seeded PRNG (xoshiro256** seeded through splitmix64).
 *
 * Deterministic on purpose: the simulator, the property tests and the
 * gossip peer choice all take a seed, so every run can be replayed.
 * Not for keys or nonces; those come from libsodium.
 */
#ifndef DD_UTIL_RNG_H
#define DD_UTIL_RNG_H

#include <stdint.h>

typedef struct rng {
    uint64_t s[4];
} rng;

void rng_seed(rng *r, uint64_t seed);
uint64_t rng_next(rng *r);
/* Uniform in [0, bound); bound 0 yields 0. */
uint64_t rng_below(rng *r, uint64_t bound);
/* True with probability num/den. */
int rng_chance(rng *r, uint64_t num, uint64_t den);

#endif
