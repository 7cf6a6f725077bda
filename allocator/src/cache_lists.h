/*
 * cache_lists.h: the lists of cached blocks, shared by the thread caches
 * (cache.c) and the arenas' depots (depot.c).
 *
 * A cache keeps, per bin, a stack of CACHED blocks: c->bins[bin] names the
 * top one, and each block's mem starts with two words, the block below it
 * in the bin and the cache that holds it. A dangling pointer may write
 * over both, so a link is followed only into a HEAP region, and a block is
 * trusted only once its node verifies and names the cache that lists it.
 */
#ifndef ANT_CACHE_LISTS_H
#define ANT_CACHE_LISTS_H

#include "internal.h"

#include <string.h>

static inline unsigned ant_bin_of_block(size_t block)
{
    return (unsigned)((block - ANT_MIN_BLOCK) / ANT_ALIGN);
}

static inline size_t ant_block_of_bin(unsigned bin)
{
    return ANT_MIN_BLOCK + ANT_ALIGN * (size_t)bin;
}

/* Counters others read (ant_stats, ant_check) while the owner writes. */
static inline void ant_cache_add(uint64_t *counter, uint64_t amount)
{
    __atomic_store_n(counter, *counter + amount, __ATOMIC_RELAXED);
}

static inline void ant_cache_add_signed(int64_t *counter, int64_t amount)
{
    __atomic_store_n(counter, (int64_t)((uint64_t)*counter + (uint64_t)amount), __ATOMIC_RELAXED);
}

/* The two words a cached block keeps in its mem: the block below it in its
 * bin, and its cache. */
static inline void ant_cache_write_links(ant_node_t *node, const ant_node_t *below, const ant_cache_t *c)
{
    uint64_t words[2] = {(uint64_t)(uintptr_t)below, (uint64_t)(uintptr_t)c};
    memcpy(ant_mem_of(node), words, sizeof words);
}

static inline void ant_cache_read_links(const ant_node_t *node, uint64_t words[2])
{
    memcpy(words, ant_mem_of((ant_node_t *)node), 2 * sizeof *words);
}

/* A link read from a cached block's mem: followed only into a HEAP region. */
static inline bool ant_cache_followable(const ant_node_t *node)
{
    return node && (uintptr_t)node % ANT_ALIGN == 0 && ant_span_holds(node, ANT_MIN_BLOCK);
}

/* Writes the word that points to the block below in a bin (c->bins[bin]
 * for the top block, else the first word of the mem of the block above),
 * recorded first in the journal of the arena whose lock the caller holds. */
static inline void ant_cache_set_link(ant_arena_t *arena, void *link, const ant_node_t *to)
{
    uint64_t word = (uint64_t)(uintptr_t)to;
    ant_journal_word(arena, link);
    memcpy(link, &word, sizeof word);
}

_Static_assert(offsetof(ant_cache_t, bytes) == offsetof(ant_cache_t, blocks) + 8,
               "a cache's blocks and bytes are recorded as one");

/* A cache's sums, changed by a block of `size` bytes in (sign 1) or out
 * (-1), recorded first in the journal. */
static inline void ant_cache_count_locked(ant_arena_t *arena, ant_cache_t *c, unsigned bin, int sign)
{
    ant_journal_save(arena, &c->counts[bin], sizeof c->counts[bin]);
    c->counts[bin] = (uint16_t)(c->counts[bin] + sign);
    ant_journal_words(arena, &c->blocks, sizeof c->blocks + sizeof c->bytes);
    ant_cache_add(&c->blocks, (uint64_t)(int64_t)sign);
    ant_cache_add(&c->bytes, (uint64_t)((int64_t)sign * (int64_t)ant_block_of_bin(bin)));
}

/*
 * Whether `node`, listed in bin `bin` of cache `c`, is a sound cached block
 * of the arena whose lock the caller holds: in one of its regions, its
 * node verified, CACHED, of the bin's size, its links naming `c` and a
 * block that can be followed. *below is the block below it in the bin. A
 * changed link is a write through a dangling pointer, reported here; the
 * caller leaves the bin for its owner to abandon.
 */
ANT_HIDDEN bool ant_cache_block_sound(ant_arena_t *arena, const ant_cache_t *c, unsigned bin, ant_node_t *node,
                                      ant_node_t **below, ant_region_t **region);

#endif
