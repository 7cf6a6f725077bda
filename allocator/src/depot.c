/*
 * depot.c: an arena's depot, where thread caches leave blocks for each
 * other.
 *
 * A thread that frees what another allocated (a consumer of a producer's
 * messages, a server's worker freeing what the acceptor made) fills its
 * cache with blocks it will not use again, while the thread that allocates
 * finds its own cache empty. Without the depot the one gives the blocks
 * back to the arena, which merges each with its free neighbours, and the
 * other has the arena split them off again: the same bytes merged and cut
 * once per message. With it the full cache leaves its older half in the
 * depot of the blocks' arena, and an empty cache takes a few of a size at
 * once: under one lock, with no block split or merged, no node rewritten,
 * only the two links each block keeps in its mem.
 *
 * The depot is a cache (cache_lists.h) in state DEPOT, listed in
 * root.caches, so a debugger reads it as it reads any other; it changes
 * only under its arena's lock, each word recorded in the journal first.
 * It holds at most a few caches' worth of blocks; past that, blocks go
 * back to the arena as before, and an arena that finds no free block for
 * a request empties its depot into the bins before it takes new memory.
 */
#include "cache_lists.h"

/* What a depot holds at most, per bin and in all: `depot` caches' worth. */
static size_t bin_limit(void)
{
    return ant_opt.cache * ant_opt.depot;
}

static size_t bytes_limit(void)
{
    return ant_opt.cache_bytes * ant_opt.depot;
}

/*
 * Whether a cached block, at an address that can be followed, may move:
 * CACHED, of the bin's size, its links naming the cache that lists it and
 * a block below that can be followed. A move rewrites only those links, so
 * this is all it must trust; the node is verified when a malloc takes the
 * block, as it would have been in the cache it came from.
 */
static bool movable(const ant_cache_t *from, unsigned bin, const ant_node_t *node, ant_node_t **below)
{
    uint64_t links[2];
    if (node->state != ANT_STATE_CACHED || node->size != ant_block_of_bin(bin))
        return false;
    ant_cache_read_links(node, links);
    *below = (ant_node_t *)(uintptr_t)links[0];
    return links[1] == (uintptr_t)from && (!*below || ant_cache_followable(*below));
}

/* Moves of one bin's blocks from one cache to another, under the lock of
 * their arena. */
struct run {
    ant_arena_t *arena;
    ant_cache_t *from, *to;
    unsigned bin;
};

/* The words of both caches a move changes, recorded once a commit (the
 * first record of a word is the one a reader puts back): a commit holds
 * the moves of one run, so the bin it moves to names it. */
static void record_caches(const struct run *r)
{
    ant_journal_save(r->arena, &r->from->counts[r->bin], sizeof r->from->counts[r->bin]);
    ant_journal_words(r->arena, &r->from->blocks, sizeof r->from->blocks + sizeof r->from->bytes);
    ant_journal_save(r->arena, &r->to->counts[r->bin], sizeof r->to->counts[r->bin]);
    ant_journal_words(r->arena, &r->to->blocks, sizeof r->to->blocks + sizeof r->to->bytes);
    ant_journal_word(r->arena, &r->to->bins[r->bin]);
}

/*
 * Moves a cached block, listed in r->from at `link` (the word that names
 * it), to the top of its bin in r->to. The block's links are recorded each
 * time, the caches' words once a commit; the journal is committed before
 * it fills, between two moves.
 */
static void move_locked(const struct run *r, void *link, ant_node_t *below, ant_node_t *node)
{
    ant_arena_t *arena = r->arena;
    size_t block = ant_block_of_bin(r->bin);
    if (arena->journal.used > ANT_JOURNAL_WORDS / 2)
        ant_journal_commit(arena);
    ant_journal_step(arena, ANT_STEP_MOVE, ant_mem_of(node), (uint64_t)(uintptr_t)r->to);
    if (ant_journal_first_sight(arena, &r->to->bins[r->bin]))
        record_caches(r);
    ant_cache_set_link(arena, link, below);
    r->from->counts[r->bin]--;
    ant_cache_add(&r->from->blocks, (uint64_t)-1);
    ant_cache_add(&r->from->bytes, (uint64_t)0 - block);
    ant_journal_words(arena, ant_mem_of(node), 2 * sizeof(uint64_t));
    ant_cache_write_links(node, r->to->bins[r->bin], r->to);
    r->to->bins[r->bin] = node;
    r->to->counts[r->bin]++;
    ant_cache_add(&r->to->blocks, 1);
    ant_cache_add(&r->to->bytes, block);
}

/* Why a depot's top block cannot move: its node overwritten, its links
 * (a write through a dangling pointer), or the bin itself. */
static void report_unmovable(const ant_node_t *node, unsigned bin)
{
    struct ant_problem bin_astray = {.kind = ANT_PROBLEM_LINK, .invariant = "I13",
                                     .what = "a depot's bin leads to a block that is not cached there"};
    struct ant_problem overwritten = {.kind = ANT_PROBLEM_HEADER, .node = node, .invariant = "I1",
                                      .what = "the node of a block in a depot was overwritten:"};
    struct ant_problem links = {.kind = ANT_PROBLEM_USE_AFTER_FREE, .node = node, .invariant = "I13",
                                .what = "a cache link changed, a write through a dangling pointer, in"};
    const struct ant_problem *p = &bin_astray;
    if (ant_cache_followable(node)) {
        bin_astray.node = node;
        if (!ant_head_ok(node))
            p = &overwritten;
        else if (node->state == ANT_STATE_CACHED && node->size == ant_block_of_bin(bin))
            p = &links;
    }
    ant_report(p);
    ant_report_done();
}

static bool has_room(const ant_arena_t *arena, unsigned bin)
{
    const ant_cache_t *d = arena->depot;
    return d && d->counts[bin] < bin_limit() && d->bytes + ant_block_of_bin(bin) <= bytes_limit();
}

bool ant_depot_leave_locked(ant_arena_t *arena, ant_cache_t *c, unsigned bin, ant_node_t *node, void *link)
{
    ant_node_t *below;
    if (!has_room(arena, bin) || !movable(c, bin, node, &below))
        return false;
    struct run r = {arena, c, arena->depot, bin};
    move_locked(&r, link, below, node);
    return true;
}

unsigned ant_depot_take_locked(ant_arena_t *arena, ant_cache_t *c, unsigned bin, unsigned most)
{
    ant_cache_t *d = arena->depot;
    unsigned moved = 0;
    struct run r = {arena, d, c, bin};
    while (d && moved < most && d->bins[bin]) {
        ant_node_t *node = d->bins[bin], *below;
        if (!ant_cache_followable(node) || !movable(d, bin, node, &below)) {
            /* What hangs from the bad link is lost to the depot, as to a
             * thread cache that abandons a bin. */
            report_unmovable(node, bin);
            ant_cache_abandon_locked(arena, d, bin);
            break;
        }
        move_locked(&r, &d->bins[bin], below, node);
        moved++;
    }
    return moved;
}

bool ant_depot_drain_locked(ant_arena_t *arena)
{
    ant_cache_t *d = arena->depot;
    if (!d || !d->blocks)
        return false;
    for (unsigned bin = 0; bin < ANT_CACHE_BINS; bin++)
        while (d->bins[bin])
            if (!ant_cache_give_back_locked(d, arena, bin, d->bins[bin], &d->bins[bin])) {
                ant_cache_abandon_locked(arena, d, bin);
                break;
            }
    return true;
}
