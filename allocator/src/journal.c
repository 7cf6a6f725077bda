/*
 * journal.c: what an arena's lock holder is changing, kept so that a core
 * or an attach taken at any instruction reads a whole heap.
 *
 * A free that merges three blocks rewrites a dozen words in five places;
 * a thread stopped half way leaves a heap that breaks every rule a reader
 * checks. So each word is recorded before it changes, and a reader puts
 * the records back: it sees the heap as it was when the change began
 * (layout.h, "A snapshot at any instant"). The record is written, then
 * published by raising journal.used, then the word changes: whichever
 * instruction a thread stops at, every changed word has a published
 * record, and a record that is not yet published undoes nothing.
 */
#include "internal.h"

#include <sys/syscall.h>
#include <unistd.h>

static __thread uint64_t my_id __attribute__((tls_model("initial-exec")));

uint64_t ant_thread_id(void)
{
    if (ANT_UNLIKELY(!my_id))
        my_id = (uint64_t)syscall(SYS_gettid);
    return my_id;
}

/* The child of a fork is another thread than the one that forked. */
void ant_journal_fork_child(void)
{
    my_id = 0;
}

/* A change that outgrew the journal: never with the sizes the allocator
 * records between two commits. A reader told so checks nothing the change
 * touches rather than the half of it. */
void ant_journal_lose(ant_arena_t *arena)
{
    __atomic_store_n(&arena->journal.used, ANT_JOURNAL_LOST, __ATOMIC_RELAXED);
    ant_journal_fence();
}

/*
 * A node the lock holder has just taken BUSY: recorded as it was before
 * the compare-and-swap, `w3` being its last word then. Until this record is published the node differs from it only by
 * the BUSY flag, which a reader clears for the node arena.busy names.
 */
void ant_journal_held(ant_arena_t *arena, const ant_node_t *node, uint64_t w3)
{
    if (!ant_journal_first_sight(arena, node))
        return;
    ant_node_t before = *node;
    before.w[3] = w3;
    ant_journal_append(arena, (uintptr_t)node, ANT_NODE_SIZE, &before);
}

/* At a commit: each neighbour held since the last one gets the mark its
 * check was sealed for (BUSY clear, one more turn), while the records still
 * cover it; then it is no longer named as held. */
void ant_journal_release_held(ant_arena_t *arena)
{
    for (uint32_t i = 0; i < arena->held_count; i++) {
        ant_node_t *node = arena->held[i];
        uint64_t w3 = ant_released_mark(node->mark) | (uint64_t)node->check << 32;
        __atomic_store_n(&node->w[3], w3, __ATOMIC_RELEASE);
    }
    __atomic_store_n(&arena->held_count, 0, __ATOMIC_RELEASE);
}
