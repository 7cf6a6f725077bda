/*
 * validate.c: is this pointer a block? Asked of every pointer handed to
 * free and realloc before anything is written, and answered by a report
 * when it is not: double free, a pointer Ant never returned, an interior
 * pointer, a damaged node.
 */
#include "internal.h"

/*
 * Walks a region by adjacency (node + size), trusting only nodes whose head
 * verifies. Returns the block holding addr; or 0 with *damaged set to the
 * first damaged node met before it, and *below to the block under that.
 */
static ant_node_t *block_holding(ant_region_t *r, const void *addr, ant_node_t **damaged, ant_node_t **below)
{
    ant_node_t *prev = 0;
    *damaged = 0;
    for (ant_node_t *n = r->first; n && ant_region_holds(r, n, ANT_NODE_SIZE); n = ant_next_in(r, n)) {
        if (!ant_head_ok(n)) {
            *damaged = n;
            break;
        }
        if ((const unsigned char *)addr < (unsigned char *)n + n->size) {
            *below = prev;
            return n;
        }
        prev = n;
    }
    *below = prev;
    return 0;
}

/* A node a walk of its region by adjacency reaches, and finds damaged:
 * what a list pointing to it meets is that damage, not a bad link. */
bool ant_damaged_node(ant_arena_t *arena, const ant_node_t *node)
{
    ant_region_t *r = arena ? ant_region_of(arena, node) : 0;
    ant_node_t *damaged, *below;
    return r && !block_holding(r, node, &damaged, &below) && damaged == node;
}

/* The last bytes of a free or cached block, right before the next node,
 * are not poison: something written through a dangling pointer to it ran
 * on to its end, and so into that node. Damage elsewhere in the block does
 * not say so. */
static bool poison_ends_damaged(const ant_node_t *below, const ant_node_t *node)
{
    const unsigned char *from = ant_mem_of((ant_node_t *)below) + ANT_POISON_OFFSET;
    const unsigned char *end = (const unsigned char *)node;
    if (end - from > 8)
        from = end - 8;
    for (; from < end; from++)
        if (*from != ANT_POISON)
            return true;
    return false;
}

/*
 * Why a node's check fails, as far as its neighbourhood tells. An overflow
 * from the block below damages that block's tail on its way; an underflow
 * of the node's own mem hits the check, its last bytes, and leaves its
 * sizes agreeing with the neighbours; anything else was overwritten
 * wholesale or forged.
 */
const char *ant_diagnose_header(ant_region_t *region, ant_node_t *node, ant_node_t *below, const ant_node_t **culprit)
{
    *culprit = 0;
    if (below && below->state == ANT_STATE_USED && !ant_tail_ok(below)) {
        *culprit = below;
        return "the block below ran past its end into this node:";
    }
    if (below && below->state != ANT_STATE_USED && poison_ends_damaged(below, node)) {
        *culprit = below;
        return below->state == ANT_STATE_FREE ? "a write through a dangling pointer into the free block below ran "
                                                "into this node:"
               : below->state == ANT_STATE_CACHED
                   ? "a write through a dangling pointer into the cached block below ran into this node:"
                   : "a write through a dangling pointer into the quarantined block below ran into this node:";
    }
    bool below_agrees = node->below == (below ? below->size : 0);
    ant_node_t *end = (ant_node_t *)(void *)((unsigned char *)node + node->size);
    bool size_agrees =
        node->size % ANT_ALIGN == 0 && node->size >= ANT_MIN_BLOCK && ant_region_holds(region, node, node->size) &&
        ((uint64_t)(uintptr_t)end == region->wilderness || (ant_head_ok(end) && end->below == node->size));
    if (below_agrees && size_agrees) {
        *culprit = node;
        return "the node's last bytes changed while its sizes still agree with its neighbours: an "
               "underflow, a write just before the start of the mem of";
    }
    return "the node was overwritten or forged (its fields disagree with its neighbours) at";
}

static void report_header(ant_region_t *r, ant_node_t *node, ant_node_t *below, const void *call_site)
{
    struct ant_problem p = {.kind = ANT_PROBLEM_HEADER, .node = node, .invariant = "I1", .call_site = call_site};
    p.what = ant_diagnose_header(r, node, below, &p.culprit);
    ant_report(&p);
}

static ant_node_t *in_region(ant_region_t *r, void *mem, const char *call, const void *call_site)
{
    ant_node_t *node = ant_node_of(mem);
    struct ant_problem p = {.kind = ANT_PROBLEM_INVALID_FREE, .mem = mem, .call = call, .call_site = call_site};
    if (ant_region_holds(r, node, ANT_NODE_SIZE) && ant_head_ok(node)) {
        if (node->state == ANT_STATE_USED)
            return node;
        if (node->state == ANT_STATE_FREE || node->state == ANT_STATE_CACHED || node->state == ANT_STATE_QUARANTINED) {
            p.kind = ANT_PROBLEM_DOUBLE_FREE;
            p.node = node;
            p.what = node->state == ANT_STATE_FREE     ? "a block that is already free:"
                     : node->state == ANT_STATE_CACHED ? "a block that is already free (kept in a thread cache):"
                                                       : "a block that is already free (held in the quarantine):";
            ant_report(&p);
            return 0;
        }
    }
    if ((uint64_t)(uintptr_t)mem >= r->wilderness) {
        p.what = "an address in the wilderness, memory Ant never handed out:";
        ant_report(&p);
        return 0;
    }
    ant_node_t *damaged, *below;
    ant_node_t *holder = block_holding(r, mem, &damaged, &below);
    if (damaged) {
        report_header(r, damaged, below, call_site);
        return 0;
    }
    if (!holder) {
        p.what = "an address inside a region but in no block:";
        ant_report(&p);
        return 0;
    }
    p.node = holder;
    p.at = mem;
    if (ant_is_arenas_alone(holder->w[3])) {
        p.kind = ANT_PROBLEM_DOUBLE_FREE;
        p.what = "an address inside a free block (freed before, then merged into):";
    } else {
        p.what = "an address inside, not at the start of,";
    }
    ant_report(&p);
    return 0;
}

static ant_node_t *in_big(ant_region_t *r, void *mem, const char *call, const void *call_site)
{
    ant_node_t *node = r->first;
    if (!ant_head_ok(node)) {
        struct ant_problem h = {.kind = ANT_PROBLEM_HEADER,
                                .node = node,
                                .invariant = "I1",
                                .call_site = call_site,
                                .what = "the node of a big block was overwritten:"};
        ant_report(&h);
        return 0;
    }
    if (ant_mem_of(node) == mem && node->state == ANT_STATE_USED)
        return node;
    struct ant_problem p = {.kind = ANT_PROBLEM_INVALID_FREE, .mem = mem, .call = call, .call_site = call_site};
    p.node = node;
    p.at = mem;
    p.what = "an address inside, not at the start of, big";
    ant_report(&p);
    return 0;
}

ant_node_t *ant_validate_mem(ant_arena_t *arena, void *mem, const char *call, const void *call_site,
                             ant_region_t **region_out)
{
    struct ant_problem p = {.kind = ANT_PROBLEM_INVALID_FREE, .mem = mem, .call = call, .call_site = call_site};
    if ((uintptr_t)mem % ANT_ALIGN) {
        p.what = "an address that is not 16-byte aligned, so Ant never returned it:";
        ant_report(&p);
        return 0;
    }
    ant_region_t *r = ant_region_of(arena, mem);
    if (r) {
        *region_out = r;
        return in_region(r, mem, call, call_site);
    }
    r = ant_big_of(arena, mem);
    if (r) {
        *region_out = r;
        return in_big(r, mem, call, call_site);
    }
    const struct ant_kept *k = ant_kept_at(mem);
    if (k && k->state == ANT_KEPT_FREED) {
        ant_report_kept(ANT_PROBLEM_DOUBLE_FREE, call, k, mem, call_site);
        return 0;
    }
    p.what = "an address outside the heap (never allocated by Ant: a stack, static or "
             "foreign pointer; or a big block freed too long ago to be kept):";
    ant_report(&p);
    return 0;
}
