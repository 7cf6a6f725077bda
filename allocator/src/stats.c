/*
 * stats.c: the heap seen from inside: counters summed over arenas, a walk
 * of every block in address order, and the whole-heap check.
 */
#include "internal.h"

#define ANT_API __attribute__((visibility("default")))

ANT_API void ant_stats(ant_stats_t *s)
{
    *s = (ant_stats_t){0};
    ant_ensure_init();
    for (uint32_t i = 0; i < ant_heap_root.arena_count; i++) {
        ant_arena_t *a = ant_heap_root.arenas[i];
        ant_lock(a);
        const struct ant_arena_counters *c = &a->counters;
        s->requested_bytes += c->requested_bytes;
        s->used_bytes += c->used_bytes;
        s->free_bytes += c->free_bytes;
        s->wilderness_bytes += c->wilderness_bytes;
        s->mapped_bytes += c->mapped_bytes;
        s->used_blocks += c->used_blocks;
        s->free_blocks += c->free_blocks;
        s->regions += c->regions;
        s->big_blocks += c->bigs;
        s->allocations += c->allocations;
        s->frees += c->frees;
        size_t largest = ant_bin_largest(a);
        if (largest > s->largest_free)
            s->largest_free = largest;
        ant_unlock(a);
    }
}

static int visit(ant_walker_t fn, void *arg, ant_node_t *n)
{
    ant_block_info_t info = {
        .mem = ant_mem_of(n),
        .size = n->size,
        .requested = n->requested,
        .state = ant_is_free(n) ? ANT_BLOCK_FREE : ANT_BLOCK_USED,
        .serial = n->serial,
        .site = (void *)(uintptr_t)n->site,
        .big = (n->flags & ANT_FLAG_BIG) != 0,
    };
    return fn(&info, arg);
}

/* Regions are listed newest first; the walk goes in address order. */
static ant_region_t *lowest_after(ant_region_t *list, const ant_region_t *after)
{
    ant_region_t *best = 0;
    for (ant_region_t *r = list; r; r = r->next)
        if ((!after || r > after) && (!best || r < best))
            best = r;
    return best;
}

static int walk_arena(ant_arena_t *a, ant_walker_t fn, void *arg)
{
    for (ant_region_t *r = lowest_after(a->regions, 0); r; r = lowest_after(a->regions, r))
        for (ant_node_t *n = r->first; n && ant_region_holds(r, n, ANT_NODE_SIZE) && ant_head_ok(n); n = n->next) {
            int stop = visit(fn, arg, n);
            if (stop)
                return stop;
        }
    for (ant_region_t *r = lowest_after(a->bigs, 0); r; r = lowest_after(a->bigs, r))
        if (ant_head_ok(r->first)) {
            int stop = visit(fn, arg, r->first);
            if (stop)
                return stop;
        }
    return 0;
}

ANT_API int ant_walk(ant_walker_t fn, void *arg)
{
    ant_ensure_init();
    ant_lock_all();
    int stop = 0;
    for (uint32_t i = 0; i < ant_heap_root.arena_count && !stop; i++)
        stop = walk_arena(ant_heap_root.arenas[i], fn, arg);
    ant_unlock_all();
    return stop;
}

ANT_API size_t ant_check(void)
{
    ant_ensure_init();
    ant_lock_all();
    size_t problems = 0;
    for (uint32_t i = 0; i < ant_heap_root.arena_count; i++)
        problems += ant_check_arena(ant_heap_root.arenas[i]);
    ant_unlock_all();
    if (problems)
        ant_report_done();
    return problems;
}
