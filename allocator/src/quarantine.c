/*
 * quarantine.c: freed blocks held back from reuse (ANT_OPTIONS=quarantine=
 * BYTES), as ASan's and Scudo's quarantines hold them.
 *
 * A write through a dangling pointer is seen when its block is handed out
 * again and its poison checked; a block nothing reuses is never looked at.
 * Here a freed block stays QUARANTINED, poisoned whole, at the tail of its
 * arena's list (its mem[0 .. 16), as free links are) while the arena holds
 * no more than the option's bytes; the oldest then leaves from the head,
 * its poison and its record of who freed it checked whole, and becomes FREE
 * as any freed block does. Every store is recorded in the arena's journal
 * first, and the heap is whole (committed) between one block and the next,
 * so that letting many go at once never outgrows the journal. What is
 * still held at exit is checked then.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

enum { NEXT = 0, PREV = 1 };

static ant_node_t *link_of(const ant_node_t *node, int which)
{
    ant_node_t *to;
    memcpy(&to, ant_mem_of((ant_node_t *)node) + which * sizeof to, sizeof to);
    return to;
}

static void set_link(ant_node_t *node, int which, const ant_node_t *to)
{
    memcpy(ant_mem_of(node) + which * sizeof to, &to, sizeof to);
}

/* The list's head, tail, blocks and bytes: four words, recorded as one. */
static void journal_list(ant_arena_t *arena)
{
    ant_journal_words(arena, &arena->quarantine_head, 4 * sizeof(uint64_t));
}

/* A node the list may lead to: in a HEAP region of the arena, sound and
 * QUARANTINED. */
static bool listed_block(ant_arena_t *arena, const ant_node_t *node)
{
    ant_region_t *r = ant_region_of(arena, node);
    return r && (uintptr_t)node % ANT_ALIGN == 0 && ant_region_holds(r, node, ANT_MIN_BLOCK) && ant_head_ok(node) &&
           node->state == ANT_STATE_QUARANTINED && ant_region_holds(r, node, node->size);
}

/* After damage to the list, what it still held stays QUARANTINED and is
 * never reused: better than following a link a dangling pointer wrote. */
static void abandon(ant_arena_t *arena)
{
    journal_list(arena);
    arena->quarantine_head = arena->quarantine_tail = 0;
    arena->quarantine_blocks = arena->quarantine_bytes = 0;
}

static void report_link(const ant_node_t *node)
{
    struct ant_problem p = {.kind = ANT_PROBLEM_USE_AFTER_FREE,
                            .node = node,
                            .invariant = "I19",
                            .at = ant_mem_of((ant_node_t *)node),
                            .what = "a quarantine link changed, a write through a dangling pointer, in"};
    ant_report(&p);
    ant_report_done();
}

/* The oldest block leaves: checked whole, unlinked, FREE and settled. */
static void let_go(ant_arena_t *arena)
{
    ant_node_t *node = arena->quarantine_head;
    ant_journal_step(arena, ANT_STEP_UNQUARANTINE, ant_mem_of(node), arena->quarantine_bytes);
    if (!listed_block(arena, node) || link_of(node, PREV)) {
        struct ant_problem p = {.kind = ANT_PROBLEM_LINK,
                                .node = node,
                                .invariant = "I19",
                                .what = "the quarantine's head leads to no quarantined block:"};
        ant_report(&p);
        ant_report_done();
        abandon(arena);
        return;
    }
    ant_node_t *next = link_of(node, NEXT);
    bool next_sound = !next || (listed_block(arena, next) && link_of(next, PREV) == node);
    if (!ant_poison_sound(node, "poison changed, a write through a dangling pointer, in")) {
        ant_report_done();
        /* Under on_error=report the block goes on as free, its poison
         * whole again and its record, if damaged, naming nobody. */
        if (!ant_freed_ok(node))
            ant_freed_put(node, (struct ant_freed){0});
        ant_poison(node);
    }
    journal_list(arena);
    if (!next_sound) {
        report_link(node);
        abandon(arena);
    } else {
        if (next) {
            ant_journal_word(arena, ant_mem_of(next) + PREV * sizeof next);
            set_link(next, PREV, 0);
        } else {
            arena->quarantine_tail = 0;
        }
        arena->quarantine_head = next;
        arena->quarantine_blocks--;
        arena->quarantine_bytes -= node->size;
    }
    ant_mark_unquarantined(arena, node);
    ant_settle_unquarantined(arena, ant_region_of(arena, node), node);
    ant_journal_commit(arena);
}

void ant_quarantine_put(ant_arena_t *arena, ant_node_t *node, void *site)
{
    ant_journal_step(arena, ANT_STEP_QUARANTINE, ant_mem_of(node), arena->quarantine_bytes);
    ant_mark_quarantined(arena, node, site);
    /* Its mem was the program's (its tail is recorded): no record of the
     * links and poison written over it. */
    ant_poison(node);
    ant_node_t *tail = arena->quarantine_tail;
    set_link(node, NEXT, 0);
    set_link(node, PREV, tail);
    if (tail) {
        ant_journal_word(arena, ant_mem_of(tail));
        set_link(tail, NEXT, node);
    }
    journal_list(arena);
    if (!tail)
        arena->quarantine_head = node;
    arena->quarantine_tail = node;
    arena->quarantine_blocks++;
    arena->quarantine_bytes += node->size;
    ant_journal_commit(arena);
    while (arena->quarantine_bytes > ant_opt.quarantine && arena->quarantine_head)
        let_go(arena);
}

/* The blocks still held when the process exits: a write after free into
 * one would otherwise go unseen. */
static void check_at_exit(void)
{
    for (uint32_t i = 0; i < ant_heap_root.arena_count; i++) {
        ant_arena_t *arena = ant_heap_root.arenas[i];
        ant_lock_for(arena, ANT_OP_CHECK);
        uint64_t left = arena->quarantine_blocks;
        for (ant_node_t *n = arena->quarantine_head; n && left && listed_block(arena, n); n = link_of(n, NEXT), left--)
            if (!ant_poison_sound(n, "poison changed, a write through a dangling pointer, in"))
                ant_report_done();
        ant_unlock(arena);
    }
}

void ant_quarantine_arm(void)
{
    atexit(check_at_exit);
}

static size_t problem(int kind, const ant_node_t *node, const char *what)
{
    struct ant_problem p = {.kind = kind, .node = node, .invariant = "I19", .what = what};
    ant_report(&p);
    return 1;
}

/* I19 for ant_check(): the list against the `blocks` QUARANTINED blocks of
 * `bytes` bytes a walk of the arena found. */
size_t ant_quarantine_check(ant_arena_t *arena, uint64_t blocks, uint64_t bytes)
{
    uint64_t count = 0, sum = 0;
    const ant_node_t *prev = 0;
    for (const ant_node_t *n = arena->quarantine_head; n; prev = n, n = link_of(n, NEXT)) {
        if (count == blocks)
            return problem(ANT_PROBLEM_LINK, n, "a quarantine that loops or leads past its blocks, at");
        if (!listed_block(arena, n))
            return problem(ANT_PROBLEM_LINK, prev, "a quarantine link that leads to no quarantined block, from");
        if (link_of(n, PREV) != prev)
            return problem(ANT_PROBLEM_USE_AFTER_FREE, n,
                           "a quarantine link changed, a write through a dangling pointer, in");
        count++;
        sum += n->size;
    }
    if (count != blocks || sum != bytes)
        return problem(ANT_PROBLEM_LINK, prev, "a quarantine that misses quarantined blocks, ending at");
    if (arena->quarantine_tail != prev)
        return problem(ANT_PROBLEM_LINK, prev, "a quarantine whose tail is not its last block, which is");
    if (arena->quarantine_blocks != count || arena->quarantine_bytes != sum)
        return problem(ANT_PROBLEM_ACCOUNTING, 0, "an arena's quarantine counts disagree with its list");
    return 0;
}
