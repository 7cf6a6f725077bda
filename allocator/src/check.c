/*
 * check.c: the allocator checking itself. ant_check_reused() guards a free
 * block before malloc hands it out again (ant_check_taken_poison() the part
 * of one that realloc grows over); ant_check_arena() walks a whole
 * arena and tests every invariant of <ant/layout.h>, reporting each problem
 * and going on, as the debugger's ant-check does from outside.
 */
#include "internal.h"

#include <string.h>

/*
 * The poison of a free block whose node is known sound, over the `taken`
 * bytes from its node on that are about to be handed out (at most
 * poison_check bytes). What stays free is checked when it is taken in turn.
 */
bool ant_check_taken_poison(ant_node_t *node, size_t taken)
{
    size_t limit = taken > ANT_MIN_BLOCK ? taken - ANT_MIN_BLOCK : 0;
    const unsigned char *bad = ant_poison_damage(node, limit < ant_opt.poison_check ? limit : ant_opt.poison_check);
    if (!bad && !ant_freed_ok(node))
        bad = ant_mem_of(node) + ANT_FREE_LINKS_SIZE;
    if (!bad)
        return true;
    struct ant_problem p = {.kind = ANT_PROBLEM_USE_AFTER_FREE,
                            .node = node,
                            .invariant = "I3",
                            .at = bad,
                            .what = "poison changed, a write through a dangling pointer, in"};
    ant_report(&p);
    return false;
}

/* A free block about to be handed out: sound node, then its poison. */
bool ant_check_reused(ant_node_t *node, size_t taken)
{
    if (!ant_head_ok(node) || !ant_is_free(node)) {
        struct ant_problem p = {.kind = ANT_PROBLEM_HEADER,
                                .node = node,
                                .invariant = "I1",
                                .what = "the node of a free block about to be reused was overwritten:"};
        ant_report(&p);
        return false;
    }
    return ant_check_taken_poison(node, taken);
}

struct walk {
    ant_arena_t *arena;
    size_t problems;
    struct ant_arena_counters seen;
    uint64_t cached;
    uint64_t quarantined, quarantined_bytes;
};

static void problem(struct walk *w, int kind, const ant_node_t *node, const char *invariant, const char *what)
{
    struct ant_problem p = {.kind = kind, .node = node, .invariant = invariant, .what = what};
    ant_report(&p);
    w->problems++;
}

static void tally(struct walk *w, const ant_node_t *n)
{
    if (n->state != ANT_STATE_FREE) {
        w->seen.used_blocks++;
        w->seen.used_bytes += ant_size_of(n);
        if (n->state == ANT_STATE_USED)
            w->seen.requested_bytes += ant_requested_of(n);
        w->cached += n->state == ANT_STATE_CACHED;
        if (n->state == ANT_STATE_QUARANTINED) {
            w->quarantined++;
            w->quarantined_bytes += n->size;
        }
    } else {
        w->seen.free_blocks++;
        w->seen.free_bytes += n->size;
    }
}

/* The contents of one block whose node is sound. */
static void check_block(struct walk *w, ant_region_t *r, ant_node_t *n)
{
    if (n->state != ANT_STATE_USED && n->state != ANT_STATE_FREE && n->state != ANT_STATE_CACHED &&
        (n->state != ANT_STATE_QUARANTINED || r->kind == ANT_REGION_BIG)) {
        problem(w, ANT_PROBLEM_STATE, n, "I11", "a node in no known state:");
        return;
    }
    size_t size = ant_size_of(n);
    bool fits = r->kind == ANT_REGION_BIG ? (uint64_t)(uintptr_t)n + size == r->wilderness &&
                                                r->wilderness <= (uint64_t)(uintptr_t)r + r->length
                                          : ant_region_holds(r, n, size);
    if (size % ANT_ALIGN || size < ANT_MIN_BLOCK || !fits ||
        (n->state == ANT_STATE_USED && ant_requested_of(n) > size - ANT_NODE_SIZE - ANT_TAIL_SIZE)) {
        problem(w, ANT_PROBLEM_SIZE, n, "I6", "a size that does not fit its region or its request:");
        return;
    }
    tally(w, n);
    if (n->state == ANT_STATE_CACHED)
        return; /* its contents are checked with its cache's list */
    if (n->state == ANT_STATE_USED) {
        if (!ant_tail_ok(n)) {
            struct ant_problem p = {.kind = ANT_PROBLEM_OVERFLOW,
                                    .node = n,
                                    .culprit = 0,
                                    .invariant = "I2",
                                    .at = ant_mem_of(n) + ant_requested_of(n),
                                    .what = "the tail sentinel was overwritten: the program wrote past the end of"};
            ant_report(&p);
            w->problems++;
        }
        return;
    }
    if (!ant_poison_sound(n, "poison changed, a write through a dangling pointer, in"))
        w->problems++;
    if (n->state == ANT_STATE_QUARANTINED)
        return; /* its links are checked with its arena's quarantine */
    for (int which = 0; which < 2; which++) {
        ant_node_t *to = ant_free_link(n, which);
        if (!to)
            continue;
        ant_region_t *tr = ant_region_of(w->arena, to);
        if (!tr || (uintptr_t)to % ANT_ALIGN || !ant_region_holds(tr, to, ANT_NODE_SIZE) || !ant_head_ok(to) ||
            !ant_is_free(to) || ant_free_link(to, 1 - which) != n) {
            problem(w, ANT_PROBLEM_USE_AFTER_FREE, n, "I9",
                    "a free-list link changed, a write through a dangling pointer, in");
            break;
        }
    }
}

/*
 * A block that is not free may go into or out of a thread's cache at any
 * moment, without the lock: its state, request, tail and mem change with
 * it. It is checked holding its node, as the arena holds a neighbour it
 * relinks ("Who may change a node" in layout.h), so that what is read is
 * one block, not half of two.
 */
static void check_held(struct walk *w, ant_region_t *r, ant_node_t *n)
{
    uint64_t w3;
    if (ant_is_arenas_alone(n->w[3])) {
        check_block(w, r, n);
        return;
    }
    __atomic_store_n(&w->arena->busy, n, __ATOMIC_SEQ_CST);
    bool held = ant_node_hold(n, &w3);
    check_block(w, r, n);
    if (held)
        ant_node_unhold(n, w3);
    __atomic_store_n(&w->arena->busy, 0, __ATOMIC_RELEASE);
}

/* A node whose check verifies now, read without waiting: what a scan for
 * the next node tries at every address. */
static bool sealed_now(const ant_node_t *node)
{
    uint64_t w3 = __atomic_load_n(&node->w[3], __ATOMIC_ACQUIRE);
    return !((uint32_t)w3 & ANT_MARK_BUSY) && w3 == ant_sealed(node, (uint32_t)w3);
}

#define RESYNC_REACH ((size_t)64 << 10)

/* When no node lies at n + n.size: the lowest node within reach above n
 * whose check verifies and whose below reaches back to n. Then n's size
 * was wrong, not that node. */
static ant_node_t *real_next(ant_region_t *r, const ant_node_t *n)
{
    unsigned char *at = (unsigned char *)(uintptr_t)n + ANT_MIN_BLOCK;
    unsigned char *end = (unsigned char *)(uintptr_t)r->wilderness;
    if ((size_t)(end - at) > RESYNC_REACH)
        end = at + RESYNC_REACH;
    for (; at + ANT_NODE_SIZE <= end; at += ANT_ALIGN) {
        const ant_node_t *c = (const ant_node_t *)(void *)at;
        if (sealed_now(c) && c->below == (uintptr_t)at - (uintptr_t)n)
            return (ant_node_t *)(void *)at;
    }
    return 0;
}

/* A region's blocks, by adjacency: each node's below against the one
 * before (I4), their sizes tiling the region up to the wilderness (I6,
 * I7), the region's first and last (I5). */
static void check_region(struct walk *w, ant_region_t *r)
{
    ant_node_t *prev = 0;
    uint32_t expect_below = 0;
    unsigned char *start = (unsigned char *)r + ANT_REGION_HEADER_SIZE;
    ant_node_t *n = (uint64_t)(uintptr_t)start < r->wilderness ? (ant_node_t *)(void *)start : 0;
    if (r->first != n)
        problem(w, ANT_PROBLEM_LINK, 0, "I5", "a region whose first node is not right after its header");
    while (n) {
        if (!ant_head_ok(n)) {
            struct ant_problem p = {.kind = ANT_PROBLEM_HEADER, .node = n, .invariant = "I1"};
            p.what = ant_diagnose_header(r, n, prev, &p.culprit);
            ant_report(&p);
            w->problems++;
            return;
        }
        if (n->below != expect_below)
            problem(w, ANT_PROBLEM_LINK, n, "I4", "a below that disagrees with the block below, at");
        check_held(w, r, n);
        if (prev && ant_is_free(prev) && ant_is_free(n))
            problem(w, ANT_PROBLEM_COALESCE, n, "I8", "two free neighbours, never merged, at");
        if (n->size < ANT_MIN_BLOCK || n->size % ANT_ALIGN || !ant_region_holds(r, n, n->size))
            return; /* reported by check_block: the walk cannot go on */
        prev = n;
        expect_below = n->size;
        n = ant_next_in(r, n);
        if (!n)
            break;
        if ((uint64_t)(uintptr_t)n + ANT_MIN_BLOCK > r->wilderness) {
            problem(w, ANT_PROBLEM_SIZE, prev, "I7", "a last block that does not end at the wilderness:");
            return;
        }
        ant_node_t *real = ant_head_ok(n) ? 0 : real_next(r, prev);
        if (real && real != n) {
            problem(w, ANT_PROBLEM_SIZE, prev, "I6", "a size that disagrees with where the next node is, at");
            expect_below = real->below;
            n = real;
        }
    }
    if (prev && (uint64_t)(uintptr_t)ant_block_end(prev) != r->wilderness)
        problem(w, ANT_PROBLEM_SIZE, prev, "I7", "a last block that does not end at the wilderness:");
    if (r->last != prev)
        problem(w, ANT_PROBLEM_LINK, prev, "I5", "a last node that the region does not name:");
}

/* The requested bytes of USED blocks and the count of CACHED ones go to
 * the caller, which holds the caches' share of both. */
size_t ant_check_arena(ant_arena_t *arena, uint64_t *requested, uint64_t *cached)
{
    struct walk w = {.arena = arena};
    for (ant_region_t *r = arena->regions; r; r = r->next) {
        w.seen.regions++;
        w.seen.mapped_bytes += r->length;
        w.seen.wilderness_bytes += r->length - (r->wilderness - (uint64_t)(uintptr_t)r);
        check_region(&w, r);
    }
    for (ant_region_t *r = arena->bigs; r; r = r->next) {
        w.seen.bigs++;
        w.seen.mapped_bytes += r->length;
        ant_node_t *n = r->first;
        if (!ant_head_ok(n)) {
            problem(&w, ANT_PROBLEM_HEADER, n, "I1", "the node of a big block was overwritten:");
            continue;
        }
        check_block(&w, r, n);
    }
    if (!w.problems)
        w.problems += ant_quarantine_check(arena, w.quarantined, w.quarantined_bytes);
    if (!w.problems) {
        const struct ant_arena_counters *c = &arena->counters;
        if (c->used_blocks != w.seen.used_blocks || c->free_blocks != w.seen.free_blocks ||
            c->used_bytes != w.seen.used_bytes || c->free_bytes != w.seen.free_bytes ||
            c->wilderness_bytes != w.seen.wilderness_bytes || c->mapped_bytes != w.seen.mapped_bytes ||
            c->regions != w.seen.regions || c->bigs != w.seen.bigs)
            problem(&w, ANT_PROBLEM_ACCOUNTING, 0, "I10", "the arena's counters disagree with its blocks");
    }
    *requested += w.seen.requested_bytes;
    *cached += w.cached;
    return w.problems;
}
