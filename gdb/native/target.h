/*
 * target.h: reading the target's bytes, for fastwalk.c and rows.c.
 *
 * A window holds the target's bytes as they were, at any alignment. Ant's
 * layout is little-endian (<ant/layout.h>), and a node is read by copying
 * it into a struct ant_node, so the library reads a heap only where the
 * host is little-endian too; elsewhere it says so and the walk stays in
 * Python.
 */
#ifndef ANT_NATIVE_TARGET_H
#define ANT_NATIVE_TARGET_H

#include <ant/layout.h>

#include <stdint.h>
#include <string.h>

#define EXPORT __attribute__((visibility("default")))

#define HOST_READS_TARGET (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__)

/* A word, as the target stores it, from any alignment. */
static inline uint64_t le64(const unsigned char *at)
{
    uint64_t word;
    memcpy(&word, at, sizeof word);
    return word;
}

/* The node whose bytes start at `at`. */
static inline ant_node_t node_at(const unsigned char *at)
{
    ant_node_t node;
    memcpy(&node, at, sizeof node);
    return node;
}

/*
 * The inline functions of <ant/layout.h> bind a check to the address of the
 * node they are given. A copy of a node lies elsewhere than the target's
 * node at `address`; both addresses are XOR-ed with the secret, so the
 * secret they are given carries the difference.
 */
static inline uint64_t rebound(uint64_t secret, const ant_node_t *copy, uint64_t address)
{
    return secret ^ (uint64_t)(uintptr_t)copy ^ address;
}

#endif
