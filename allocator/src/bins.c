/*
 * bins.c: free blocks indexed by size, two-level segregated fit as in TLSF.
 *
 * Each free block sits in one bin, a doubly linked list threaded through
 * the first 16 bytes of its mem. The first level splits sizes by powers of
 * two, the second splits each power into 16 bins; two bitmaps say which bins
 * hold anything, so finding a block that fits takes a few instructions
 * whatever the heap's size. Every policy keeps the bins up to date; the
 * binned policy also searches them.
 *
 * The links live where a dangling pointer can write, so they are checked
 * before they are followed: a link must lead to a free node with a valid
 * head in this arena whose own link points back.
 */
#include "internal.h"

#include <string.h>

static ant_node_t **link_at(const ant_node_t *node, int which)
{
    return (ant_node_t **)(void *)(ant_mem_of((ant_node_t *)node) + 8 * which);
}

ant_node_t *ant_free_link(const ant_node_t *node, int which)
{
    return *link_at(node, which);
}

enum { NEXT = 0, PREV = 1 };

static void class_of(size_t size, unsigned *fl, unsigned *sl)
{
    if (size < (1u << ANT_BIN_FL_SHIFT)) {
        *fl = 0;
        *sl = (unsigned)(size >> 4);
        return;
    }
    unsigned top = 63u - (unsigned)__builtin_clzll(size);
    *sl = (unsigned)(size >> (top - ANT_BIN_SL_LOG)) ^ ANT_BIN_SL_COUNT;
    *fl = top - ANT_BIN_FL_SHIFT + 1;
}

/* The class whose every block is at least `size`: round up to the next
 * class boundary first. */
static void class_at_least(size_t size, unsigned *fl, unsigned *sl)
{
    if (size >= (1u << ANT_BIN_FL_SHIFT)) {
        unsigned top = 63u - (unsigned)__builtin_clzll(size);
        size += ((size_t)1 << (top - ANT_BIN_SL_LOG)) - 1;
    }
    class_of(size, fl, sl);
}

/* Files a node in its bin; `journal` says whether its links and its new
 * neighbour's are recorded first (layout.h, "A snapshot at any instant"). */
static void insert(ant_arena_t *arena, ant_node_t *node, bool journal)
{
    unsigned fl, sl;
    class_of(node->size, &fl, &sl);
    ant_node_t *head = arena->bins[fl][sl];
    if (journal) {
        ant_journal_words(arena, link_at(node, NEXT), ANT_FREE_LINKS_SIZE);
        if (head)
            ant_journal_word(arena, link_at(head, PREV));
    }
    *link_at(node, NEXT) = head;
    *link_at(node, PREV) = 0;
    if (head)
        *link_at(head, PREV) = node;
    arena->bins[fl][sl] = node;
    arena->fl_bitmap |= 1ull << fl;
    arena->sl_bitmap[fl] |= 1u << sl;
}

void ant_bin_insert(ant_arena_t *arena, ant_node_t *node)
{
    insert(arena, node, true);
}

/* A node a link names may be read: aligned, and all of it among the
 * region's blocks, not merely starting inside the mapping. */
static bool readable(ant_arena_t *arena, const ant_node_t *node)
{
    ant_region_t *r = (uintptr_t)node % ANT_ALIGN ? 0 : ant_region_of(arena, node);
    return r && ant_region_holds(r, node, ANT_NODE_SIZE);
}

static bool trusted_link(ant_arena_t *arena, const ant_node_t *to, const ant_node_t *from, int back)
{
    if (!to)
        return true;
    return readable(arena, to) && ant_head_ok(to) && ant_is_free(to) && *link_at(to, back) == from;
}

/* Takes a node out of its bin; false, touching nothing, if its links
 * cannot be trusted. */
bool ant_bin_remove(ant_arena_t *arena, ant_node_t *node)
{
    unsigned fl, sl;
    class_of(node->size, &fl, &sl);
    ant_node_t *next = *link_at(node, NEXT);
    ant_node_t *prev = *link_at(node, PREV);
    if (!trusted_link(arena, next, node, PREV))
        return false;
    if (prev ? !trusted_link(arena, prev, node, NEXT) : arena->bins[fl][sl] != node)
        return false;
    ant_journal_words(arena, link_at(node, NEXT), ANT_FREE_LINKS_SIZE);
    if (next)
        ant_journal_word(arena, link_at(next, PREV));
    if (prev)
        ant_journal_word(arena, link_at(prev, NEXT));
    if (next)
        *link_at(next, PREV) = prev;
    if (prev) {
        *link_at(prev, NEXT) = next;
    } else {
        arena->bins[fl][sl] = next;
        if (!next) {
            arena->sl_bitmap[fl] &= ~(1u << sl);
            if (!arena->sl_bitmap[fl])
                arena->fl_bitmap &= ~(1ull << fl);
        }
    }
    /* Back to poison, so that the block reads as free mem alone. */
    memset(ant_mem_of(node), ANT_POISON, ANT_FREE_LINKS_SIZE);
    return true;
}

/* The first block of the smallest non-empty bin whose blocks all hold
 * `size` bytes, left in its bin; 0 if there is none. */
ant_node_t *ant_bin_find(ant_arena_t *arena, size_t size)
{
    unsigned fl, sl;
    class_at_least(size, &fl, &sl);
    if (fl >= ANT_BIN_FL_COUNT)
        return 0;
    uint32_t sl_map = arena->sl_bitmap[fl] & (~0u << sl);
    if (!sl_map) {
        uint64_t fl_map = fl + 1 < 64 ? arena->fl_bitmap & (~0ull << (fl + 1)) : 0;
        if (!fl_map)
            return 0;
        fl = (unsigned)__builtin_ctzll(fl_map);
        sl_map = arena->sl_bitmap[fl];
    }
    sl = (unsigned)__builtin_ctz(sl_map);
    return arena->bins[fl][sl];
}

size_t ant_bin_largest(ant_arena_t *arena)
{
    if (!arena->fl_bitmap)
        return 0;
    unsigned fl = 63u - (unsigned)__builtin_clzll(arena->fl_bitmap);
    unsigned sl = 31u - (unsigned)__builtin_clz(arena->sl_bitmap[fl]);
    size_t largest = 0;
    size_t guard = arena->counters.free_blocks;
    for (ant_node_t *n = arena->bins[fl][sl]; n && guard--; n = *link_at(n, NEXT)) {
        if (!readable(arena, n) || !ant_head_ok(n))
            break;
        if (n->size > largest)
            largest = n->size;
    }
    return largest;
}

/*
 * After a report of damaged links: forget the bins and file again every
 * free block whose node is sound, found by walking the regions. Too many
 * links change to record them: the change is announced instead, and a
 * reader leaves the arena's free links alone until it ends.
 */
void ant_bins_rebuild(ant_arena_t *arena)
{
    ant_journal_commit(arena);
    ant_journal_step(arena, ANT_STEP_REBUILD_BINS, 0, 0);
    ant_journal_fence();
    memset(arena->bins, 0, sizeof arena->bins);
    memset(arena->sl_bitmap, 0, sizeof arena->sl_bitmap);
    arena->fl_bitmap = 0;
    for (ant_region_t *r = arena->regions; r; r = r->next) {
        unsigned char *end = (unsigned char *)r->wilderness;
        ant_node_t *n = r->first;
        while (n && (unsigned char *)n + ANT_NODE_SIZE <= end && ant_head_ok(n)) {
            if (ant_is_free(n))
                insert(arena, n, false);
            n = ant_next_in(r, n);
        }
    }
    ant_journal_fence();
    ant_journal_step(arena, 0, 0, 0);
}
