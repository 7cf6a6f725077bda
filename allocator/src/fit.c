/*
 * fit.c: which free block serves a request. One small interface, five
 * policies a learner can compare with ANT_OPTIONS=fit=NAME:
 *
 *   first   walk the node list in address order, take the first free block
 *           that fits: the design note's policy
 *   next    the same, but resume where the last search ended
 *   best    walk the whole list, take the smallest free block that fits
 *   worst   walk the whole list, take the largest free block, so that what
 *           is split off stays big enough to be useful (OSTEP's worst fit)
 *   binned  ask the size bins for a block that fits, without walking
 *
 * The walking policies visit used blocks too, exactly as the note draws it:
 * their cost grows with the heap, which is the lesson.
 */
#include "internal.h"

/* Bytes to split off the front of a free block so that the mem of the rest
 * is aligned: 0, or enough for a free block of its own. */
size_t ant_align_lead(const ant_node_t *node, size_t align)
{
    uintptr_t mem = (uintptr_t)node + ANT_NODE_SIZE;
    if (align <= ANT_ALIGN || mem % align == 0)
        return 0;
    uintptr_t aligned = (mem + ANT_MIN_BLOCK + align - 1) & ~(uintptr_t)(align - 1);
    return aligned - mem;
}

static bool fits(const ant_node_t *node, size_t size, size_t align)
{
    return ant_is_free(node) && node->size >= size + ant_align_lead(node, align);
}

/* A node the walk may step on: inside its region, with a sound head. */
static bool walkable(const ant_region_t *region, const ant_node_t *node)
{
    return ant_region_holds(region, node, ANT_NODE_SIZE) && ant_head_ok(node);
}

static void choose(struct ant_fit_choice *out, ant_region_t *region, ant_node_t *node, size_t align)
{
    out->region = region;
    out->node = node;
    out->lead = ant_align_lead(node, align);
}

static bool first_fit(ant_arena_t *arena, size_t size, size_t align, struct ant_fit_choice *out)
{
    for (ant_region_t *r = arena->regions; r; r = r->next)
        for (ant_node_t *n = r->first; n && walkable(r, n); n = ant_next_in(r, n))
            if (fits(n, size, align)) {
                choose(out, r, n, align);
                return true;
            }
    return false;
}

static bool best_fit(ant_arena_t *arena, size_t size, size_t align, struct ant_fit_choice *out)
{
    bool found = false;
    for (ant_region_t *r = arena->regions; r; r = r->next)
        for (ant_node_t *n = r->first; n && walkable(r, n); n = ant_next_in(r, n))
            if (fits(n, size, align) && (!found || n->size < out->node->size)) {
                choose(out, r, n, align);
                found = true;
                if (n->size == size)
                    return true;
            }
    return found;
}

static bool worst_fit(ant_arena_t *arena, size_t size, size_t align, struct ant_fit_choice *out)
{
    bool found = false;
    for (ant_region_t *r = arena->regions; r; r = r->next)
        for (ant_node_t *n = r->first; n && walkable(r, n); n = ant_next_in(r, n))
            if (fits(n, size, align) && (!found || n->size > out->node->size)) {
                choose(out, r, n, align);
                found = true;
            }
    return found;
}

/* Next fit walks from the rover to the end of the heap, then from the start
 * back to the rover. */
static bool next_fit(ant_arena_t *arena, size_t size, size_t align, struct ant_fit_choice *out)
{
    ant_node_t *rover = arena->rover;
    ant_region_t *start = rover ? ant_region_of(arena, rover) : 0;
    if (!start || !walkable(start, rover)) {
        rover = 0;
        start = arena->regions;
    }
    for (ant_region_t *r = start; r; r = r->next)
        for (ant_node_t *n = r == start && rover ? rover : r->first; n && walkable(r, n); n = ant_next_in(r, n))
            if (fits(n, size, align)) {
                choose(out, r, n, align);
                arena->rover = n;
                return true;
            }
    for (ant_region_t *r = arena->regions; r; r = r->next) {
        for (ant_node_t *n = r->first; n && walkable(r, n); n = ant_next_in(r, n)) {
            if (n == rover)
                return false;
            if (fits(n, size, align)) {
                choose(out, r, n, align);
                arena->rover = n;
                return true;
            }
        }
        if (r == start)
            break;
    }
    return false;
}

static bool binned_fit(ant_arena_t *arena, size_t size, size_t align, struct ant_fit_choice *out)
{
    size_t slack = align > ANT_ALIGN ? align + ANT_MIN_BLOCK : 0;
    if (size > SIZE_MAX - slack)
        return false;
    ant_node_t *n = ant_bin_find(arena, size + slack);
    if (!n)
        return false;
    ant_region_t *r = ant_region_of(arena, n);
    if (!r)
        return false;
    choose(out, r, n, align);
    return true;
}

typedef bool (*fit_fn)(ant_arena_t *, size_t, size_t, struct ant_fit_choice *);

static const fit_fn policies[] = {
    [ANT_FIT_FIRST] = first_fit,   [ANT_FIT_NEXT] = next_fit,   [ANT_FIT_BEST] = best_fit,
    [ANT_FIT_BINNED] = binned_fit, [ANT_FIT_WORST] = worst_fit,
};

/* A free block that can hold a block of `size` bytes whose mem is aligned
 * to `align`, still in its bin. */
bool ant_fit_find(ant_arena_t *arena, size_t size, size_t align, struct ant_fit_choice *out)
{
    if (!arena->counters.free_blocks)
        return false;
    return policies[ant_opt.fit](arena, size, align, out);
}

/* The rover must not point at a node that no longer exists. */
void ant_fit_forget(ant_arena_t *arena, const ant_node_t *node)
{
    if (arena->rover == node)
        arena->rover = 0;
}
