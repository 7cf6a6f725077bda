/*
 * target.h: reading the target's words, for fastwalk.c and rows.c.
 *
 * A window holds the target's bytes as they were: words in its byte order
 * (little-endian on every platform Ant supports), at any alignment.
 */
#ifndef ANT_NATIVE_TARGET_H
#define ANT_NATIVE_TARGET_H

#include <stdint.h>
#include <string.h>

#define EXPORT __attribute__((visibility("default")))

/* A little-endian word, as the target stores it, from any alignment. */
static inline uint64_t le64(const unsigned char *at)
{
    uint64_t word;
    memcpy(&word, at, sizeof word);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    word = __builtin_bswap64(word);
#endif
    return word;
}

#endif
