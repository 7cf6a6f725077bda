/*
 * block.c: blocks, the design note's heart. A node, then its mem; split a
 * free block that is too big, coalesce a free block with free neighbours.
 *
 * Blocks tile a region: the block above a node is at node + size, the one
 * below at node - below. So a block that changes size changes the below of
 * the block above it too, whoever owns that one.
 *
 * Every change to a node ends in ant_seal(), since the check covers all of
 * its fields. Every change to a block's state or size goes through
 * count_out() before and count_in() after, so the arena's counters always
 * equal what a walk finds (invariant I10). And every byte is recorded in
 * the arena's journal before it changes (journal.c), so a core taken half
 * way through reads as the heap before.
 */
#include "internal.h"

#include <string.h>

/* Cached blocks count as used: the arena handed them out. Their requested
 * bytes are the caches' business (requested_delta). */
static void count(ant_arena_t *arena, const ant_node_t *node, int64_t sign)
{
    struct ant_arena_counters *c = ant_counters(arena);
    if (node->state != ANT_STATE_FREE) {
        c->used_blocks += (uint64_t)sign;
        c->used_bytes += (uint64_t)sign * ant_size_of(node);
        if (node->state == ANT_STATE_USED)
            c->requested_bytes += (uint64_t)sign * ant_requested_of(node);
    } else {
        c->free_blocks += (uint64_t)sign;
        c->free_bytes += (uint64_t)sign * node->size;
    }
}

void ant_count_in(ant_arena_t *arena, const ant_node_t *node)
{
    count(arena, node, 1);
}

void ant_count_out(ant_arena_t *arena, const ant_node_t *node)
{
    count(arena, node, -1);
}

/* Poison covers the free mem after its links and who freed it. */
void ant_poison(ant_node_t *node)
{
    memset(ant_mem_of(node) + ANT_POISON_OFFSET, ANT_POISON, node->size - ANT_MIN_BLOCK);
}

/* The first byte of poison that changed, looking at most `limit` bytes. */
const unsigned char *ant_poison_damage(const ant_node_t *node, size_t limit)
{
    const unsigned char *p = ant_mem_of((ant_node_t *)node) + ANT_POISON_OFFSET;
    size_t n = node->size - ANT_MIN_BLOCK;
    if (n > limit)
        n = limit;
    /* Every byte equal to the next, and the first the poison: the C
     * library's memcmp asks that many bytes at a time. Only damage pays for
     * the loop below, which finds the first changed byte. */
    if (n == 0 || (p[0] == ANT_POISON && memcmp(p, p + 1, n - 1) == 0))
        return 0;
    const uint64_t pattern = 0x0101010101010101ull * ANT_POISON;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, sizeof w);
        if (w != pattern)
            break;
    }
    for (; i < n; i++)
        if (p[i] != ANT_POISON)
            return p + i;
    return 0;
}

/*
 * The block above one that changes size gets a new below. A FREE one
 * changes only under this lock. A USED or CACHED one may belong to another
 * thread, moving it into or out of its cache: it is held BUSY from before
 * its change until the journal commits, so that no thread changes it while
 * a reader of the journal may still put back its old bytes. Its check is
 * sealed at each change for the mark it will have when let go (journal.c).
 * A neighbour whose node is damaged is reported and left as it is, still
 * failing its check: resealing it would launder the damage into fields
 * every later check trusts.
 */
enum hold { UNSOUND, FREE_HERE, HELD, HELD_BRIEFLY };

static enum hold take_neighbour(ant_arena_t *arena, ant_node_t *node, uint64_t *w3)
{
    if (ant_node_held_by(arena, node))
        return HELD;
    uint64_t now = __atomic_load_n(&node->w[3], __ATOMIC_ACQUIRE);
    if (ant_is_arenas_alone(now) && !((uint32_t)now & ANT_MARK_BUSY) && ant_head_ok(node)) {
        ant_journal_node(arena, node);
        return FREE_HERE;
    }
    __atomic_store_n(&arena->busy, node, __ATOMIC_SEQ_CST);
    if (ant_node_hold(node, w3)) {
        if (*w3 == ant_sealed(node, (uint32_t)*w3)) {
            ant_journal_held(arena, node, *w3);
            uint32_t n = arena->held_count;
            if (n == ANT_HELD_MAX)
                return HELD_BRIEFLY;
            arena->held[n] = node;
            __atomic_store_n(&arena->held_count, n + 1, __ATOMIC_SEQ_CST);
            __atomic_store_n(&arena->busy, 0, __ATOMIC_RELEASE);
            return HELD;
        }
        ant_node_unhold(node, *w3);
    }
    __atomic_store_n(&arena->busy, 0, __ATOMIC_RELEASE);
    struct ant_problem p = {.kind = ANT_PROBLEM_HEADER,
                            .node = node,
                            .invariant = "I1",
                            .what = "the node of a neighbouring block was overwritten:"};
    ant_report(&p);
    ant_report_done();
    return UNSOUND;
}

/* `node`'s below becomes `below`. */
static void set_below(ant_arena_t *arena, ant_node_t *node, uint32_t below)
{
    uint64_t w3 = 0;
    enum hold how = take_neighbour(arena, node, &w3);
    if (how == UNSOUND)
        return;
    node->below = below;
    switch (how) {
    case FREE_HERE: ant_seal(node); break;
    case HELD: node->check = ant_head_check_as(ant_heap_root.secret, node, ant_released_mark(node->mark)); break;
    case HELD_BRIEFLY:
        /* More neighbours than a change ever holds: let go at once. */
        ant_node_release(node, (uint32_t)w3);
        __atomic_store_n(&arena->busy, 0, __ATOMIC_RELEASE);
        break;
    case UNSOUND: break;
    }
}

/* The region's last node becomes `node`. */
static void set_last(ant_arena_t *arena, ant_region_t *region, ant_node_t *node)
{
    ant_journal_region(arena, region);
    region->last = node;
}

/* The block above `node` learns its new size; or, with none above, the
 * region learns that `node` is its last. */
static void tell_above(ant_arena_t *arena, ant_region_t *region, ant_node_t *node)
{
    ant_node_t *above = ant_block_end(node);
    if ((uint64_t)(uintptr_t)above < region->wilderness)
        set_below(arena, above, node->size);
    else
        set_last(arena, region, node);
}

/*
 * Cuts `node` at `at` bytes: the bytes after become a new free block that
 * remembers `owner` as its last owner and `freed` as who freed it. Both
 * stay out of the bins; the counters follow.
 */
static ant_node_t *cut(ant_arena_t *arena, ant_region_t *region, ant_node_t *node, size_t at, struct ant_owner owner,
                       struct ant_freed freed)
{
    ant_node_t *after = (ant_node_t *)(void *)((unsigned char *)node + at);
    ant_journal_step(arena, ANT_STEP_SPLIT, ant_mem_of(node), at);
    ant_journal_node(arena, node);
    ant_journal_save_once(arena, after, ANT_MIN_BLOCK);
    ant_count_out(arena, node);
    *after = (ant_node_t){
        .size = node->size - (uint32_t)at,
        .below = (uint32_t)at,
        .state = ANT_STATE_FREE,
        .arena = (uint8_t)arena->index,
    };
    ant_node_own(after, 0, owner.serial, owner.site);
    ant_freed_put(after, freed);
    node->size = (uint32_t)at;
    ant_seal(node);
    ant_seal(after);
    tell_above(arena, region, after);
    ant_count_in(arena, node);
    ant_count_in(arena, after);
    return after;
}

/*
 * Cuts `node` (out of the bins) to `size` bytes; the rest becomes a new
 * free block, settled like any freed block, that remembers `owner` (the
 * serial and site of whoever last had those bytes) and `freed` (who freed
 * them). `poisoned` says the rest's bytes are poison already, as when the
 * block was free a moment ago; otherwise they held data and are poisoned
 * here. The caller ensures the rest is at least ANT_MIN_BLOCK. Returns the
 * rest.
 */
ant_node_t *ant_split(ant_arena_t *arena, ant_region_t *region, ant_node_t *node, size_t size, struct ant_owner owner,
                      bool poisoned, struct ant_freed freed)
{
    ant_node_t *rest = cut(arena, region, node, size, owner, freed);
    if (!poisoned)
        ant_poison(rest);
    ant_settle_free(arena, region, rest);
    return rest;
}

/*
 * Splits `lead` bytes off the front of a free block (out of the bins), so
 * that the block after them has its mem aligned. The front piece stays free
 * and goes to the bins. Returns the aligned block, still free.
 */
ant_node_t *ant_split_front(ant_arena_t *arena, ant_region_t *region, ant_node_t *node, size_t lead)
{
    ant_node_t *back = cut(arena, region, node, lead, ant_owner_of(node), ant_freed_read(node));
    ant_fit_forget(arena, node);
    ant_bin_insert(arena, node);
    return back;
}

/*
 * Grows `node` to `size` bytes over the front of its free upper neighbour
 * `next` (out of the bins): the boundary between them moves up. What is
 * left of `next` stays a free block, its poison, its last owner and who
 * freed it as they were, and settles again; if too little would be left,
 * `node` takes all of `next`. The bytes taken hold poison and the old
 * node, not data.
 */
void ant_grow_over(ant_arena_t *arena, ant_region_t *region, ant_node_t *node, ant_node_t *next, size_t size)
{
    const ant_node_t old = *next;
    const struct ant_freed freed = ant_freed_read(next);
    size_t total = node->size + old.size;
    ant_journal_step(arena, ANT_STEP_GROW, ant_mem_of(node), size);
    ant_journal_node(arena, node);
    ant_journal_node(arena, next);
    ant_count_out(arena, node);
    ant_count_out(arena, next);
    ant_fit_forget(arena, next);
    ant_node_t *upper = node;
    if (total - size >= ANT_MIN_BLOCK) {
        ant_node_t *rest = (ant_node_t *)(void *)((unsigned char *)node + size);
        ant_journal_save_once(arena, rest, ANT_MIN_BLOCK);
        *rest = old;
        rest->size = (uint32_t)(total - size);
        rest->below = (uint32_t)size;
        ant_freed_put(rest, freed);
        ant_seal(rest);
        node->size = (uint32_t)size;
        upper = rest;
    } else {
        node->size = (uint32_t)total;
    }
    ant_seal(node);
    tell_above(arena, region, upper);
    ant_count_in(arena, node);
    if (upper != node) {
        ant_count_in(arena, upper);
        ant_settle_free(arena, region, upper);
    }
}

/* `low` swallows its free neighbour `high`, whose node, links and record
 * of who freed it turn to poison. */
static void absorb(ant_arena_t *arena, ant_region_t *region, ant_node_t *low, ant_node_t *high)
{
    ant_journal_step(arena, ANT_STEP_MERGE, ant_mem_of(low), (uint64_t)(uintptr_t)ant_mem_of(high));
    ant_journal_node(arena, low);
    ant_journal_words(arena, high, ANT_MIN_BLOCK);
    ant_count_out(arena, low);
    ant_count_out(arena, high);
    ant_fit_forget(arena, high);
    low->size += high->size;
    ant_seal(low);
    memset(high, ANT_POISON, ANT_MIN_BLOCK);
    tell_above(arena, region, low);
    ant_count_in(arena, low);
}

/*
 * Merges a free block (out of the bins) with its free neighbours, as the
 * design note's [free, used, free] example: freeing the middle block leaves
 * one free block. Returns the merged block, out of the bins. A neighbour
 * whose node is damaged or whose free links cannot be trusted is left
 * alone: a report has been made and merging would spread the damage.
 */
static bool mergeable(ant_arena_t *arena, ant_node_t *neighbour)
{
    if (!neighbour || !ant_is_free(neighbour) || !ant_head_ok(neighbour))
        return false;
    if (ant_bin_remove(arena, neighbour))
        return true;
    struct ant_problem p = {.kind = ANT_PROBLEM_USE_AFTER_FREE,
                            .node = neighbour,
                            .invariant = "I9",
                            .what = "a free-list link changed, a write through a dangling pointer, in"};
    ant_report(&p);
    ant_report_done();
    return false;
}

ant_node_t *ant_coalesce(ant_arena_t *arena, ant_region_t *region, ant_node_t *node)
{
    ant_node_t *next = ant_block_end(node);
    if ((uint64_t)(uintptr_t)next < region->wilderness && mergeable(arena, next))
        absorb(arena, region, node, next);
    ant_node_t *prev = ant_block_below(node);
    if (mergeable(arena, prev)) {
        absorb(arena, region, prev, node);
        node = prev;
    }
    return node;
}

/* The whole poison and the record of who freed a free or quarantined
 * block whose node is sound: false after reporting a change. */
bool ant_poison_sound(const ant_node_t *node, const char *what)
{
    const unsigned char *bad = ant_poison_damage(node, SIZE_MAX);
    if (!bad && !ant_freed_ok(node))
        bad = ant_mem_of((ant_node_t *)node) + ANT_FREE_LINKS_SIZE;
    if (!bad)
        return true;
    struct ant_problem p = {
        .kind = ANT_PROBLEM_USE_AFTER_FREE, .node = node, .invariant = "I3", .at = bad, .what = what};
    ant_report(&p);
    return false;
}

static bool merges_with(const ant_node_t *neighbour)
{
    return neighbour && ant_is_free(neighbour) && ant_head_ok(neighbour);
}

/*
 * Free blocks about to go back to the wilderness have their poison checked
 * whole first: no malloc will ever look at it again, so a write after free
 * into a block at the top of a region would otherwise never be seen. It
 * costs a read of pages that are about to be given back, only when a
 * block that large is, and nothing with poison_check=0. `node` is about to
 * be merged with its free neighbours; `own` says whether its own poison is
 * to be checked (a block the program just freed has none yet, and one
 * leaving the quarantine was checked already).
 */
static void check_before_reclaim(ant_arena_t *arena, ant_region_t *region, ant_node_t *node, bool own)
{
    ant_node_t *next = ant_block_end(node);
    if ((uint64_t)(uintptr_t)next >= region->wilderness)
        next = 0;
    /* Most frees end far from the wilderness: known from state bytes alone,
     * before any node's check is computed. */
    ant_node_t *top = next && ant_is_free(next) ? next : node;
    if (!ant_opt.poison_check || (uint64_t)(uintptr_t)ant_block_end(top) < region->wilderness)
        return;
    ant_node_t *prev = ant_block_below(node);
    bool next_merges = merges_with(next);
    bool prev_merges = merges_with(prev);
    size_t size = node->size + (next_merges ? next->size : 0) + (prev_merges ? prev->size : 0);
    if (size < arena->trim_threshold)
        return;
    const char *what = "poison changed, a write through a dangling pointer, in";
    bool sound = (!prev_merges || ant_poison_sound(prev, what)) & (!next_merges || ant_poison_sound(next, what)) &
                 (!own || ant_poison_sound(node, what));
    if (!sound)
        ant_report_done();
}

/*
 * Where a free block goes: merged with its neighbours, then either back to
 * the wilderness (a large free block at the end of its region, so that its
 * pages return to the OS) or into the bins. `fresh`, if not 0, is a block
 * the program just freed (ant_mark_free), whose mem is poisoned only if it
 * stays in a block: the wilderness needs no poison, and writing a block of
 * megabytes whose pages are then given back costs as much as the program's
 * own use of them. The merged block says who freed the fresh one: the
 * likeliest owner of a dangling pointer into it.
 */
static void settle(ant_arena_t *arena, ant_region_t *region, ant_node_t *node, ant_node_t *fresh, bool checked)
{
    check_before_reclaim(arena, region, node, !fresh && !checked);
    unsigned char *poison_from = fresh ? ant_mem_of(fresh) + ANT_POISON_OFFSET : 0;
    size_t poison_length = fresh ? fresh->size - ANT_MIN_BLOCK : 0;
    struct ant_freed freed = fresh ? ant_freed_read(fresh) : (struct ant_freed){0};
    node = ant_coalesce(arena, region, node);
    if ((uint64_t)(uintptr_t)ant_block_end(node) >= region->wilderness && node->size >= arena->trim_threshold) {
        ant_wilderness_reclaim(arena, region, node);
        return;
    }
    if (fresh) {
        memset(poison_from, ANT_POISON, poison_length);
        if (node != fresh) {
            ant_journal_words(arena, ant_mem_of(node) + ANT_FREE_LINKS_SIZE, ANT_FREED_SIZE);
            ant_freed_put(node, freed);
        }
    }
    ant_journal_step(arena, ANT_STEP_FILE, ant_mem_of(node), node->size);
    ant_bin_insert(arena, node);
}

void ant_settle_free(ant_arena_t *arena, ant_region_t *region, ant_node_t *node)
{
    settle(arena, region, node, 0, false);
}

void ant_settle_freed(ant_arena_t *arena, ant_region_t *region, ant_node_t *node)
{
    settle(arena, region, node, node, false);
}

/* A block leaving the quarantine, FREE again, its poison checked. */
void ant_settle_unquarantined(ant_arena_t *arena, ant_region_t *region, ant_node_t *node)
{
    settle(arena, region, node, 0, true);
}

/* A used block's tail, about to be overwritten by the change that starts:
 * what a reader of the heap before it checks. */
static void journal_block(ant_arena_t *arena, ant_node_t *node)
{
    ant_journal_node(arena, node);
    if (node->state == ANT_STATE_USED)
        ant_journal_tail(arena, ant_mem_of(node) + ant_requested_of(node));
}

void ant_mark_used(ant_arena_t *arena, ant_node_t *node, size_t requested, void *site)
{
    ant_journal_step(arena, ANT_STEP_MARK_USED, ant_mem_of(node), requested);
    journal_block(arena, node);
    ant_count_out(arena, node);
    node->state = ANT_STATE_USED;
    if (node->flags & ANT_FLAG_BIG) {
        ant_region_t *r = ant_big_region(node);
        ant_journal_region(arena, r);
        r->big_requested = requested;
        requested = 0;
    }
    ant_node_own(node, requested, ant_next_serial(), (uint64_t)(uintptr_t)site);
    node->flags &= (uint16_t)ANT_FLAG_BIG;
    ant_seal(node);
    unsigned char *tail = ant_mem_of(node) + ant_requested_of(node);
    ant_journal_tail(arena, tail);
    ant_tail_write(node);
    ant_count_in(arena, node);
    ant_counters(arena)->allocations++;
}

/* The block keeps its last owner's requested size, serial and site, so
 * that a write after free can be traced to who had it, and says who freed
 * it (`site`). Its mem was the program's: no reader of the heap before
 * looks at it. A FREE one is poisoned by ant_settle_freed(), which must
 * follow; a QUARANTINED one by the quarantine. */
static void mark_freed(ant_arena_t *arena, ant_node_t *node, void *site, uint8_t state)
{
    journal_block(arena, node);
    ant_count_out(arena, node);
    node->state = state;
    ant_seal(node);
    ant_freed_write(node, (uint64_t)(uintptr_t)site);
    ant_count_in(arena, node);
    ant_counters(arena)->frees++;
}

void ant_mark_free(ant_arena_t *arena, ant_node_t *node, void *site)
{
    ant_journal_step(arena, ANT_STEP_MARK_FREE, ant_mem_of(node), node->size);
    mark_freed(arena, node, site, ANT_STATE_FREE);
}

void ant_mark_quarantined(ant_arena_t *arena, ant_node_t *node, void *site)
{
    mark_freed(arena, node, site, ANT_STATE_QUARANTINED);
}

/* A QUARANTINED block, out of the quarantine, becomes FREE. */
void ant_mark_unquarantined(ant_arena_t *arena, ant_node_t *node)
{
    ant_journal_node(arena, node);
    ant_count_out(arena, node);
    node->state = ANT_STATE_FREE;
    ant_seal(node);
    ant_count_in(arena, node);
}
