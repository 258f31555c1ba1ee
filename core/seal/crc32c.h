/*
 * CRC-32C (Castagnoli), the checksum of the plain envelope (plain.h).
 * Chosen over zlib's CRC-32 for speed: x86-64 computes it in hardware
 * (SSE4.2, picked at run time), about ten times faster than zlib 1.2's
 * table code, which would otherwise cost a replay a third of its time.
 * Elsewhere a table-driven version gives the same values.
 */
#ifndef DD_SEAL_CRC32C_H
#define DD_SEAL_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Continues `crc` (0 to start) over p[0..n), as zlib's crc32 does:
 * crc32c(crc32c(0, a), b) == crc32c(0, a || b). */
uint32_t crc32c(uint32_t crc, const uint8_t *p, size_t n);

/* crc32c over three pieces in a row (a header, a binding, a body): one
 * call where a record needs three. */
uint32_t crc32c_3(const uint8_t *a, size_t an, const uint8_t *b, size_t bn, const uint8_t *c,
                  size_t cn);

/* crc32c continued from `crc` over three pieces in a row: a record's
 * checksum resumed after a precomputed head (plain.h's reader). */
uint32_t crc32c_from(uint32_t crc, const uint8_t *a, size_t an, const uint8_t *b, size_t bn,
                     const uint8_t *c, size_t cn);

/* The portable version, for tests that compare the two. */
uint32_t crc32c_portable(uint32_t crc, const uint8_t *p, size_t n);

#endif
