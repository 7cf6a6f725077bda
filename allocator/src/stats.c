/*
 * stats.c: the heap seen from inside: counters summed over arenas, a walk
 * of every block in address order, and the whole-heap check.
 */
#include "internal.h"
#include "valgrind.h"

#define ANT_API __attribute__((visibility("default")))

ANT_API void ant_stats(ant_stats_t *s)
{
    *s = (ant_stats_t){0};
    ant_quiet_begin();
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
    /* The arenas count cached blocks as handed out; to the program they
     * are freed. */
    struct ant_cache_totals t = ant_cache_totals();
    s->cached_blocks = t.blocks;
    s->cached_bytes = t.bytes;
    s->used_blocks -= t.blocks;
    s->used_bytes -= t.bytes;
    s->requested_bytes += (size_t)t.requested_delta;
    s->allocations += t.allocations;
    s->frees += t.frees;
    ant_quiet_end();
}

ANT_API enum ant_fit ant_fit_policy(void)
{
    ant_quiet_begin();
    ant_ensure_init();
    ant_quiet_end();
    return ant_opt.fit;
}

static int visit(ant_walker_t fn, void *arg, ant_node_t *n)
{
    ant_block_info_t info = {
        .mem = ant_mem_of(n),
        .size = ant_size_of(n),
        .requested = n->state == ANT_STATE_USED ? ant_requested_of(n) : 0,
        .state = ant_is_free(n)                      ? ANT_BLOCK_FREE
                 : n->state == ANT_STATE_CACHED      ? ANT_BLOCK_CACHED
                 : n->state == ANT_STATE_QUARANTINED ? ANT_BLOCK_QUARANTINED
                                                     : ANT_BLOCK_USED,
        .serial = ant_node_serial(n),
        .site = (void *)(uintptr_t)ant_site_address(ant_node_site(n)),
        .big = (n->flags & ANT_FLAG_BIG) != 0,
        .arena = n->arena,
    };
    ant_quiet_end();
    int stop = fn(&info, arg);
    ant_quiet_begin();
    return stop;
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
        for (ant_node_t *n = r->first; n && ant_region_holds(r, n, ANT_NODE_SIZE) && ant_head_ok(n);
             n = ant_next_in(r, n)) {
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
    ant_quiet_begin();
    ant_ensure_init();
    ant_lock_all();
    int stop = 0;
    for (uint32_t i = 0; i < ant_heap_root.arena_count && !stop; i++)
        stop = walk_arena(ant_heap_root.arenas[i], fn, arg);
    ant_unlock_all();
    ant_quiet_end();
    return stop;
}

ANT_API size_t ant_check(void)
{
    ant_quiet_begin();
    ant_ensure_init();
    ant_lock_all();
    for (uint32_t i = 0; i < ant_heap_root.arena_count; i++) {
        ant_heap_root.arenas[i]->journal.thread = ant_thread_id();
        ant_heap_root.arenas[i]->journal.op = ANT_OP_CHECK;
    }
    size_t problems = 0;
    uint64_t requested = 0, cached = 0;
    for (uint32_t i = 0; i < ant_heap_root.arena_count; i++)
        problems += ant_check_arena(ant_heap_root.arenas[i], &requested, &cached);
    problems += ant_check_caches();
    /* Other threads' caches change without any lock: the sums can be
     * compared only while no other thread has a cache. */
    struct ant_cache_totals t = ant_cache_totals();
    if (!problems && !t.live) {
        uint64_t counted = (uint64_t)t.requested_delta;
        for (uint32_t i = 0; i < ant_heap_root.arena_count; i++)
            counted += ant_heap_root.arenas[i]->counters.requested_bytes;
        if (counted != requested || (cached != t.blocks && !t.refused)) {
            struct ant_problem p = {.kind = ANT_PROBLEM_ACCOUNTING,
                                    .invariant = "I10",
                                    .what = "the requested bytes or cached blocks that the arenas and caches "
                                            "count disagree with the blocks"};
            ant_report(&p);
            problems++;
        }
    }
    ant_unlock_all();
    if (problems)
        ant_report_done();
    ant_quiet_end();
    return problems;
}
