/*
 * alloc.c: the allocation paths behind every public entry point, the API
 * and the drop-in alike. Each takes the caller's return address as the
 * block's site.
 *
 * malloc:  a block from the thread's cache (cache.c), else, under the lock,
 *          a free block from the fit policy, else a new one carved from the
 *          wilderness; split off the front for alignment, the back if the
 *          rest can be a block of its own.
 * free:    into the thread's cache if it has room (cache.c); else, under the
 *          lock, validate the pointer and the block's sentinels, poison the
 *          mem, coalesce with free neighbours, settle in a bin or the
 *          wilderness.
 * realloc: in place when the block, its free neighbour or the wilderness
 *          after it has room; otherwise allocate, copy and free.
 */
#include "internal.h"

#include <errno.h>
#include <string.h>

/* Sizes above this are refused before any arithmetic can overflow. */
#define ANT_MAX_REQUEST ((size_t)PTRDIFF_MAX - (64u << 10))

static ant_node_t *take_free_block(ant_arena_t *arena, size_t size, size_t align, ant_region_t **region, size_t *lead)
{
    struct ant_fit_choice c;
    if (!ant_fit_find(arena, size, align, &c))
        return 0;
    ant_journal_step(arena, ANT_STEP_TAKE, ant_mem_of(c.node), size);
    if (!ant_bin_remove(arena, c.node)) {
        struct ant_problem p = {.kind = ANT_PROBLEM_USE_AFTER_FREE,
                                .node = c.node,
                                .invariant = "I9",
                                .what = "a free-list link changed, a write through a dangling pointer, in"};
        ant_report(&p);
        ant_report_done();
        ant_bins_rebuild(arena);
        return 0;
    }
    if (!ant_check_reused(c.node, c.lead + size)) {
        ant_report_done();
        if (!ant_head_ok(c.node))
            return 0;
        ant_poison(c.node);
    }
    *region = c.region;
    *lead = c.lead;
    return c.node;
}

static void *alloc_locked(ant_arena_t *arena, size_t size, size_t align, void *site)
{
    if (size >= arena->mmap_threshold || size >= ANT_HEAP_REQUEST_MAX ||
        (align > ant_page_size && size + align >= arena->mmap_threshold))
        return ant_big_alloc(arena, size, align, site);
    size_t block = ant_block_size_for(size);
    ant_region_t *region;
    size_t lead = 0;
    ant_node_t *node = take_free_block(arena, block, align, &region, &lead);
    /* Blocks left in the depot are the arena's too: merged into the bins
     * before it takes new memory. */
    if (!node && ant_depot_drain_locked(arena))
        node = take_free_block(arena, block, align, &region, &lead);
    if (!node) {
        node = ant_wilderness_carve(arena, block, align, &region);
        if (!node)
            return 0;
        lead = ant_align_lead(node, align);
    }
    if (lead)
        node = ant_split_front(arena, region, node, lead);
    /* The rest of the block, if any, stays free: it remembers who last had
     * its bytes and who freed them, as the block did. */
    struct ant_owner before = ant_owner_of(node);
    struct ant_freed freed = ant_freed_read(node);
    ant_mark_used(arena, node, size, site);
    if (node->size - block >= ANT_MIN_BLOCK)
        ant_split(arena, region, node, block, before, true, freed);
    return ant_mem_of(node);
}

/* calloc: the product checked, the bytes zeroed (a fresh mapping is
 * zeroed already). */
void *ant_alloc_zeroed(size_t count, size_t size, void *site)
{
    size_t total;
    if (__builtin_mul_overflow(count, size, &total)) {
        errno = ENOMEM;
        return 0;
    }
    void *mem = ant_alloc(total, ANT_ALIGN, site);
    if (mem && !(ant_node_of(mem)->flags & ANT_FLAG_BIG))
        memset(mem, 0, total);
    return mem;
}

/* Out of line, so that a malloc the thread cache serves saves no registers
 * for the lock's path. */
__attribute__((noinline)) void *ant_alloc_from_arena(size_t size, size_t align, void *site)
{
    if (size > ANT_MAX_REQUEST || align > ANT_MAX_REQUEST / 2) {
        errno = ENOMEM;
        return 0;
    }
    ant_ensure_init();
    ant_arena_t *arena = ant_arena_for_thread();
    ant_lock_for(arena, align > ANT_ALIGN ? ANT_OP_ALIGNED : ANT_OP_MALLOC);
    void *mem = alloc_locked(arena, size, align, site);
    ant_unlock(arena);
    if (!mem)
        errno = ENOMEM;
    ant_break_at_block(mem);
    return mem;
}

/* The doors' way for a site the entry point left unwalked: out of line,
 * so that the doors stay jumps. */
static __attribute__((noinline, cold)) void *alloc_walked(size_t size, size_t align, void *site)
{
    return ant_alloc(size, align, ant_site_walked(site));
}

/* The thread cache is malloc's front: it falls back to the arena itself,
 * so that this is a jump and not a call. */
void *ant_alloc(size_t size, size_t align, void *site)
{
    if (ant_site_unwalked(site))
        return alloc_walked(size, align, site);
    if (ANT_UNLIKELY(--ant_guard_countdown == 0))
        return ant_guard_sample(size, align, site);
    if (ANT_LIKELY(align == ANT_ALIGN && __atomic_load_n(&ant_ready, __ATOMIC_ACQUIRE)))
        return ant_cache_take(size, site);
    return ant_alloc_from_arena(size, align, site);
}

/* A free neighbour whose node is damaged is reported here, by the free
 * that would have merged with it. */
static void check_neighbours(ant_region_t *region, ant_node_t *node)
{
    ant_node_t *next = ant_next_in(region, node);
    if (next && !ant_head_ok(next)) {
        struct ant_problem p = {.kind = ANT_PROBLEM_HEADER, .node = next, .invariant = "I1"};
        p.what = ant_diagnose_header(region, next, node, &p.culprit);
        ant_report(&p);
        ant_report_done();
    }
}

static bool tail_sound(ant_node_t *node, const void *call_site)
{
    if (ant_tail_ok(node))
        return true;
    struct ant_problem p = {.kind = ANT_PROBLEM_OVERFLOW,
                            .node = node,
                            .invariant = "I2",
                            .at = ant_mem_of(node) + ant_requested_of(node),
                            .call_site = call_site,
                            .what = "the tail sentinel was overwritten: the program wrote past the end of"};
    ant_report(&p);
    ant_report_done();
    return false;
}

static void free_locked(ant_arena_t *arena, ant_region_t *region, ant_node_t *node, void *site)
{
    if (region->kind == ANT_REGION_BIG) {
        ant_big_free(arena, region, site);
        return;
    }
    check_neighbours(region, node);
    if (ant_opt.quarantine) {
        ant_quarantine_put(arena, node, site);
        return;
    }
    ant_mark_free(arena, node, site);
    ant_settle_freed(arena, region, node);
}

__attribute__((noinline)) void ant_release_to_arena(void *mem, void *site)
{
    ant_ensure_init();
    ant_arena_t *arena = ant_arena_owning(mem);
    ant_lock_for(arena, ANT_OP_FREE);
    ant_region_t *region = 0;
    ant_node_t *node = ant_validate_mem(arena, mem, "free", site, &region);
    if (node) {
        tail_sound(node, site);
        free_locked(arena, region, node, site);
    }
    ant_unlock(arena);
    if (!node)
        ant_report_done();
}

static __attribute__((noinline, cold)) void release_walked(void *mem, void *site)
{
    ant_release(mem, ant_site_walked(site));
}

void ant_release(void *mem, void *site)
{
    if (!mem)
        return;
    if (ant_site_unwalked(site)) {
        release_walked(mem, site);
        return;
    }
    if (ANT_LIKELY(__atomic_load_n(&ant_ready, __ATOMIC_ACQUIRE)))
        ant_cache_put(mem, site);
    else
        ant_release_to_arena(mem, site);
}

/* Grows a used block over its free upper neighbour; false if that is not
 * free, too small, or not to be trusted. The bytes taken from it are
 * checked as a reused block's are. */
static bool grow_into_next(ant_arena_t *arena, ant_region_t *region, ant_node_t *node, size_t block)
{
    ant_node_t *next = ant_next_in(region, node);
    if (!next || !ant_is_free(next) || !ant_head_ok(next) || node->size + next->size < block)
        return false;
    if (!ant_check_taken_poison(next, block - node->size)) {
        ant_report_done();
        ant_poison(next);
    }
    if (!ant_bin_remove(arena, next))
        return false;
    ant_grow_over(arena, region, node, next, block);
    return true;
}

static void *resize_locked(ant_arena_t *arena, ant_region_t *region, ant_node_t *node, size_t size, void *site)
{
    if (region->kind == ANT_REGION_BIG) {
        if (size >= arena->mmap_threshold) {
            void *moved = ant_big_realloc(arena, region, size, site);
            if (moved)
                return moved;
        }
    } else if (size < arena->mmap_threshold) {
        /* Growth leaves no more than `block` behind (ant_grow_over,
         * ant_wilderness_extend); only a shrink leaves a rest, which held
         * the program's bytes. */
        size_t block = ant_block_size_for(size);
        if (block <= node->size || grow_into_next(arena, region, node, block) ||
            (!ant_next_in(region, node) && ant_wilderness_extend(arena, region, node, block))) {
            struct ant_owner before = ant_owner_of(node);
            ant_mark_used(arena, node, size, site);
            ant_counters(arena)->frees++;
            if (node->size - block >= ANT_MIN_BLOCK)
                ant_split(arena, region, node, block, before, false, ant_freed_now((uint64_t)(uintptr_t)site));
            return ant_mem_of(node);
        }
    }
    void *mem = alloc_locked(arena, size, ANT_ALIGN, site);
    if (!mem)
        return 0;
    /* Both blocks are used and whole: the copy writes only the program's
     * bytes of the new one, which no reader checks. */
    ant_journal_commit(arena);
    ant_journal_step(arena, ANT_STEP_COPY, ant_mem_of(node), (uint64_t)(uintptr_t)mem);
    size_t had = ant_requested_of(node);
    memcpy(mem, ant_mem_of(node), had < size ? had : size);
    free_locked(arena, region, node, site);
    return mem;
}

static __attribute__((noinline, cold)) void *resize_walked(void *mem, size_t size, void *site)
{
    return ant_resize(mem, size, ant_site_walked(site));
}

void *ant_resize(void *mem, size_t size, void *site)
{
    if (ant_site_unwalked(site))
        return resize_walked(mem, size, site);
    if (!mem)
        return ant_alloc(size, ANT_ALIGN, site);
    if (size == 0) {
        ant_release(mem, site);
        return 0;
    }
    if (size > ANT_MAX_REQUEST) {
        errno = ENOMEM;
        return 0;
    }
    ant_ensure_init();
    ant_arena_t *arena = ant_arena_owning(mem);
    ant_lock_for(arena, ANT_OP_REALLOC);
    ant_region_t *region = 0;
    ant_node_t *node = ant_validate_mem(arena, mem, "realloc", site, &region);
    void *out = 0;
    /* A damaged tail is reported; under on_error=report realloc then goes
     * on, as free does, rather than fail with an ENOMEM that is not true. */
    if (node) {
        tail_sound(node, site);
        out = resize_locked(arena, region, node, size, site);
    }
    ant_unlock(arena);
    if (!node)
        ant_report_done();
    if (!out)
        errno = node ? ENOMEM : EINVAL;
    ant_break_at_block(out);
    return out;
}

size_t ant_requested_size(const void *mem)
{
    if (!mem || !ant_ready || (uintptr_t)mem % ANT_ALIGN)
        return 0;
    ant_arena_t *arena = ant_arena_owning(mem);
    size_t size = 0;
    ant_lock(arena);
    ant_region_t *r = ant_region_of(arena, mem);
    ant_node_t *node = ant_node_of(mem);
    bool inside = r ? ant_region_holds(r, node, ANT_NODE_SIZE) : (r = ant_big_of(arena, mem)) && r->first == node;
    if (inside && ant_head_ok(node) && node->state == ANT_STATE_USED)
        size = ant_requested_of(node);
    ant_unlock(arena);
    return size;
}
