/*
 * Two 64-bit hashes for two jobs, named for them so neither is used for
 * the other's.
 *
 * hash_keyed indexes the hash tables whose contents peers choose: the
 * replica's key table and the element indexes of sets. An unkeyed hash
 * lets a peer pick keys that all land in one slot and turn every lookup
 * into a scan (a collision flood), so this one is keyed: 32 bytes drawn
 * from libsodium's randombytes on first use, different in every process,
 * never sent or stored, so an index hash means nothing outside its
 * process (hash.c describes the function and why it is not SipHash).
 *
 * hash_digest is the same on every node and in every run: value digests,
 * the key hashes that place a key in a digest leaf, node id hashes, all of
 * which nodes compare or exchange. It is fast and unkeyed; a table of
 * peer-chosen entries must not be indexed by it.
 */
#ifndef DD_UTIL_HASH_H
#define DD_UTIL_HASH_H

#include <stddef.h>
#include <stdint.h>

#define HASH_KEY_BYTES 32

uint64_t hash_keyed(const void *data, size_t len);
/* hash_keyed under a given key instead of the process's (tests). */
uint64_t hash_keyed_with(const uint8_t key[HASH_KEY_BYTES], const void *data, size_t len);
uint64_t hash_digest(const void *data, size_t len);
/* A bijective 64-bit mixer (murmur3's finaliser); deterministic. */
uint64_t hash_u64(uint64_t x);

#endif
