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

#include <string.h>

/*
 * What a depot holds at most: `depot` thread caches' worth of bytes
 * (cache_bytes each), in any bins. A program that allocates a thousand
 * blocks of one size and frees them all, over and over, finds them all
 * there, as glibc's fastbins would keep them; a bin's count is a 16-bit
 * field.
 */
#define BIN_LIMIT 0xffffu

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

/* A run can be this long before its journal records fill a quarter of the
 * journal: each block's cache link is one record of three words. */
#define RUN_MOST ((ANT_JOURNAL_WORDS / 4) / 3)

static ant_node_t *link_at(const void *link)
{
    ant_node_t *node;
    memcpy(&node, link, sizeof node);
    return node;
}

/*
 * Moves the run of at most `most` blocks that hangs from `link` (the word
 * that names the first: `from`'s bin, or the mem of the block above) in
 * bin `bin` of `from` to the top of the same bin of `to`, under the lock
 * of `arena`, whose blocks alone it moves. The run stays linked as it was:
 * each block's cache link changes, the last one's link below, the word at
 * `link`, and the bins' tops and counts, every word recorded first and the
 * journal committed after, so a move costs a few stores a block. Returns
 * how many moved; the run ends early at a block of another arena or one
 * that is not movable().
 */
static unsigned move_run(ant_arena_t *arena, ant_cache_t *from, void *link, ant_cache_t *to, unsigned bin,
                         unsigned most)
{
    ant_node_t *first = link_at(link), *node = first, *last = 0, *below = 0;
    unsigned n = 0;
    if (most > RUN_MOST)
        most = RUN_MOST;
    while (n < most && node && ant_cache_followable(node) && node->arena == arena->index &&
           movable(from, bin, node, &below)) {
        last = node;
        node = below;
        n++;
    }
    if (!n)
        return 0;
    size_t bytes = (size_t)n * ant_block_of_bin(bin);
    ant_journal_step(arena, ANT_STEP_MOVE, ant_mem_of(first), (uint64_t)(uintptr_t)to);
    ant_journal_word(arena, link);
    ant_journal_save(arena, &from->counts[bin], sizeof from->counts[bin]);
    ant_journal_words(arena, &from->blocks, sizeof from->blocks + sizeof from->bytes);
    ant_journal_word(arena, &to->bins[bin]);
    ant_journal_save(arena, &to->counts[bin], sizeof to->counts[bin]);
    ant_journal_words(arena, &to->blocks, sizeof to->blocks + sizeof to->bytes);
    ant_journal_word(arena, ant_mem_of(last));
    for (ant_node_t *moving = first;; moving = link_at(ant_mem_of(moving))) {
        ant_journal_word(arena, ant_mem_of(moving) + sizeof(uint64_t));
        ant_cache_write_links(moving, link_at(ant_mem_of(moving)), to);
        if (moving == last)
            break;
    }
    ant_cache_write_links(last, to->bins[bin], to);
    memcpy(link, &node, sizeof node);
    from->counts[bin] = (uint16_t)(from->counts[bin] - n);
    ant_cache_add(&from->blocks, (uint64_t)0 - n);
    ant_cache_add(&from->bytes, (uint64_t)0 - bytes);
    to->bins[bin] = first;
    to->counts[bin] = (uint16_t)(to->counts[bin] + n);
    ant_cache_add(&to->blocks, n);
    ant_cache_add(&to->bytes, bytes);
    ant_journal_commit(arena);
    return n;
}

/* Why a depot's top block cannot move: its node overwritten, its links
 * (a write through a dangling pointer), or the bin itself. */
static void report_unmovable(const ant_node_t *node, unsigned bin)
{
    struct ant_problem bin_astray = {.kind = ANT_PROBLEM_LINK,
                                     .invariant = "I13",
                                     .what = "a depot's bin leads to a block that is not cached there"};
    struct ant_problem overwritten = {.kind = ANT_PROBLEM_HEADER,
                                      .node = node,
                                      .invariant = "I1",
                                      .what = "the node of a block in a depot was overwritten:"};
    struct ant_problem links = {.kind = ANT_PROBLEM_USE_AFTER_FREE,
                                .node = node,
                                .invariant = "I13",
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

/* How many blocks of `bin` the depot has room for. */
static unsigned room(const ant_arena_t *arena, unsigned bin)
{
    const ant_cache_t *d = arena->depot;
    if (!d || d->bytes >= bytes_limit())
        return 0;
    size_t blocks = (bytes_limit() - d->bytes) / ant_block_of_bin(bin);
    size_t counts = BIN_LIMIT - d->counts[bin];
    return (unsigned)(blocks < counts ? blocks : counts);
}

unsigned ant_depot_leave_locked(ant_arena_t *arena, ant_cache_t *c, unsigned bin, void *link, unsigned most)
{
    unsigned fits = room(arena, bin);
    return move_run(arena, c, link, arena->depot, bin, most < fits ? most : fits);
}

unsigned ant_depot_take_locked(ant_arena_t *arena, ant_cache_t *c, unsigned bin, unsigned most)
{
    ant_cache_t *d = arena->depot;
    unsigned moved = 0;
    while (d && moved < most && d->bins[bin]) {
        unsigned n = move_run(arena, d, &d->bins[bin], c, bin, most - moved);
        if (!n) {
            /* What hangs from the bad link is lost to the depot, as to a
             * thread cache that abandons a bin. */
            report_unmovable(d->bins[bin], bin);
            ant_cache_abandon_locked(arena, d, bin);
            break;
        }
        moved += n;
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
