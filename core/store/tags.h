/*
 * Event tags, as the journal stores them: one blob per event.
 *
 * Engines keep the encoded list beside the event (so replay returns the
 * tags) and index each tag for by-tag queries. Encoding: a varint count,
 * then each tag as a varint length and its bytes.
 */
#ifndef DD_STORE_TAGS_H
#define DD_STORE_TAGS_H

#include <stddef.h>
#include <stdint.h>

#include "util/bytes.h"

#define STORE_MAX_TAGS 64u
#define STORE_MAX_TAG_BYTES 256u

/* ST_EINVAL / ST_ELIMIT on a NULL, empty or oversized tag or too many. */
int store_tags_encode(bytes *out, const char *const *tags, size_t count);

/* Walks an encoded list: call with *r made over the blob; returns 1 and the
 * next tag, 0 at the end, ST_ECORRUPT on malformed bytes. */
int store_tags_next(reader *r, size_t *remaining, const uint8_t **tag, size_t *tag_len);
int store_tags_begin(reader *r, const uint8_t *blob, size_t len, size_t *remaining);

/* 1 when the encoded list contains tag. */
int store_tags_contain(const uint8_t *blob, size_t len, const uint8_t *tag, size_t tag_len);

#endif
