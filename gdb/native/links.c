/*
 * links.c: rule I9 over every free block the walk found, for speed.
 *
 * A free block's mem starts with its two links in its size bin: next and
 * prev. Each must lead to a free block of the same arena that links back.
 * A million blocks' heap holds a quarter million free ones, and the test
 * of their links in Python took longer than the walk. This runs the quick
 * test of gdb/antgdb/heapwide.py (_suspects, the reference) over the
 * columns of model.FreeBlocks and marks the blocks that fail it; Python
 * says what is wrong with each, as it would have.
 *
 * It shares FASTWALK_ABI with fastwalk.c, in the same library.
 */
#include "target.h"

#include <stdint.h>
#include <stdlib.h>

/* flags[i], in and out. */
enum {
    LINKS_KNOWN = 1,   /* in: block i's links were read */
    LINKS_SKIP = 2,    /* in: block i's own links are not to be judged */
    LINKS_SUSPECT = 4, /* out: block i's links fail the quick test */
};

EXPORT int ant_fastwalk_free_links(const uint64_t *nodes, const uint64_t *nexts, const uint64_t *prevs,
                                   const uint64_t *arenas, unsigned char *flags, uint64_t count);

struct place {
    uint64_t node, at;
};

static int by_node(const void *a, const void *b)
{
    uint64_t x = ((const struct place *)a)->node, y = ((const struct place *)b)->node;
    return (x > y) - (x < y);
}

/* Where `node` is among the free blocks, or -1: by bisection of the
 * nodes in place when they ascend, as the walk of one region leaves
 * them, else of a sorted copy. */
static int64_t place_of(const uint64_t *nodes, const struct place *sorted, uint64_t count, uint64_t node)
{
    uint64_t low = 0, high = count;
    while (low < high) {
        uint64_t middle = low + (high - low) / 2;
        if ((sorted ? sorted[middle].node : nodes[middle]) < node)
            low = middle + 1;
        else
            high = middle;
    }
    if (low == count || (sorted ? sorted[low].node : nodes[low]) != node)
        return -1;
    return (int64_t)(sorted ? sorted[low].at : low);
}

/* The link of block i at `link` leads to a free block of its arena, with
 * known links, whose link back (`backs`) is block i. */
static int links_back(const uint64_t *nodes, const struct place *sorted, uint64_t count, const uint64_t *arenas,
                      const unsigned char *flags, const uint64_t *backs, uint64_t i, uint64_t link)
{
    int64_t j = place_of(nodes, sorted, count, link);
    return j >= 0 && arenas[j] == arenas[i] && (flags[j] & LINKS_KNOWN) && backs[j] == nodes[i];
}

/*
 * Marks LINKS_SUSPECT in flags[i] for every block i whose links are known
 * and to be judged, and whose next link (if not 0) or prev link (if not 0)
 * does not lead to a free block of its arena, with known links, linking
 * back to it. Returns 0, or -1 when it had no memory to sort the nodes.
 * Nodes are distinct.
 */
int ant_fastwalk_free_links(const uint64_t *nodes, const uint64_t *nexts, const uint64_t *prevs, const uint64_t *arenas,
                            unsigned char *flags, uint64_t count)
{
    struct place *sorted = 0;
    for (uint64_t i = 1; i < count; i++) {
        if (nodes[i - 1] < nodes[i])
            continue;
        sorted = malloc(count * sizeof *sorted);
        if (!sorted)
            return -1;
        for (uint64_t k = 0; k < count; k++)
            sorted[k] = (struct place){nodes[k], k};
        qsort(sorted, count, sizeof *sorted, by_node);
        break;
    }
    for (uint64_t i = 0; i < count; i++) {
        if ((flags[i] & (LINKS_KNOWN | LINKS_SKIP)) != LINKS_KNOWN)
            continue;
        if ((nexts[i] && !links_back(nodes, sorted, count, arenas, flags, prevs, i, nexts[i])) ||
            (prevs[i] && !links_back(nodes, sorted, count, arenas, flags, nexts, i, prevs[i])))
            flags[i] |= LINKS_SUSPECT;
    }
    free(sorted);
    return 0;
}
