/*
 * busy.c: waiting for a node another thread is changing.
 *
 * A thread frees a block into its cache, or takes one out, without the
 * arena's lock; it holds the node's BUSY flag instead for the few dozen
 * instructions the change takes (layout.h, "Who may change a node"). The
 * arena, changing a neighbour's links under its lock, and any reader wait
 * for BUSY to clear. A BUSY flag that no cache's `busy` names is damage
 * (an overflow that wrote 0xff over the node, say), not a thread at work,
 * and is judged at once. A named one is waited for as long as it takes,
 * as a lock would be: its thread may be preempted on a loaded machine, or
 * stopped at a breakpoint by a debugger in non-stop mode.
 */
#include "internal.h"

#include <sched.h>
#include <time.h>

#define SPINS_BEFORE_YIELD 16u
#define YIELDS_BEFORE_SLEEP 1000u
#define STILL_READINGS 3u

bool ant_node_held_by(const ant_arena_t *arena, const ant_node_t *node)
{
    uint32_t n = __atomic_load_n(&arena->held_count, __ATOMIC_ACQUIRE);
    for (uint32_t i = 0; i < n && i < ANT_HELD_MAX; i++)
        if (__atomic_load_n(&arena->held[i], __ATOMIC_RELAXED) == node)
            return true;
    return false;
}

/*
 * A cache, or an arena relinking a neighbour, names the node in its `busy`
 * (or `held`) before it sets BUSY and clears it after, so a BUSY word that
 * stays the same (change count included) while nothing names the node
 * belongs to no thread at work. This thread's own cache does not count: it
 * names the node it is about to change before it finds the node BUSY.
 */
static bool another_thread_changes(const ant_node_t *node, uint64_t w3)
{
    uint64_t me = ant_thread_id();
    for (ant_cache_t *c = __atomic_load_n(&ant_heap_root.caches, __ATOMIC_ACQUIRE); c; c = c->next)
        if (__atomic_load_n(&c->busy, __ATOMIC_SEQ_CST) == node && __atomic_load_n(&c->thread, __ATOMIC_RELAXED) != me)
            return true;
    for (uint32_t i = 0; i < __atomic_load_n(&ant_heap_root.arena_count, __ATOMIC_ACQUIRE); i++) {
        const ant_arena_t *arena = ant_heap_root.arenas[i];
        if (__atomic_load_n(&arena->busy, __ATOMIC_SEQ_CST) == node || ant_node_held_by(arena, node))
            return true;
    }
    return __atomic_load_n(&node->w[3], __ATOMIC_SEQ_CST) != w3;
}

/* A node this thread holds for the change it is making under an arena's
 * lock: its check was sealed for the mark it will be let go with. */
static bool held_by_me(const ant_node_t *node, uint64_t w3, bool *ok)
{
    uint64_t me = ant_thread_id();
    for (uint32_t i = 0; i < __atomic_load_n(&ant_heap_root.arena_count, __ATOMIC_ACQUIRE); i++) {
        const ant_arena_t *arena = ant_heap_root.arenas[i];
        if (arena->journal.thread == me && arena->journal.op && ant_node_held_by(arena, node)) {
            *ok =
                (uint32_t)(w3 >> 32) == ant_head_check_as(ant_heap_root.secret, node, ant_released_mark((uint32_t)w3));
            return true;
        }
    }
    return false;
}

/* Waits until the node is not BUSY; false if no other thread is
 * changing it. */
static bool busy_wait(const ant_node_t *node)
{
    for (unsigned spins = 0;; spins++) {
        uint64_t w3 = __atomic_load_n(&node->w[3], __ATOMIC_ACQUIRE);
        if (!((uint32_t)w3 & ANT_MARK_BUSY))
            return true;
        if (spins < SPINS_BEFORE_YIELD) {
            ant_cpu_relax();
            continue;
        }
        if (!another_thread_changes(node, w3))
            return false;
        if (spins < SPINS_BEFORE_YIELD + YIELDS_BEFORE_SLEEP) {
            sched_yield();
        } else {
            struct timespec pause = {0, 100000};
            nanosleep(&pause, 0);
        }
    }
}

/*
 * The check of a node that failed it, or was BUSY, at first sight: judged
 * again once the node is still, from a reading that no change overlapped
 * (the last word, with its change count, the same before and after).
 */
bool ant_head_settled(const ant_node_t *node)
{
    bool sound;
    unsigned failed = 0;
    uint64_t first = __atomic_load_n(&node->w[3], __ATOMIC_ACQUIRE);
    if (((uint32_t)first & ANT_MARK_BUSY) && held_by_me(node, first, &sound))
        return sound;
    for (int tries = 0; tries < 1000; tries++) {
        if (!busy_wait(node))
            return false;
        uint64_t w3 = __atomic_load_n(&node->w[3], __ATOMIC_ACQUIRE);
        /* Another change began since the wait: wait for that one too. A
         * BUSY word read twice is not a still node. */
        if ((uint32_t)w3 & ANT_MARK_BUSY)
            continue;
        bool ok = w3 == ant_sealed(node, (uint32_t)w3);
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (__atomic_load_n(&node->w[3], __ATOMIC_RELAXED) != w3)
            continue;
        /* A word read the same twice can still hide changes in between:
         * 2^14 of them bring its change count round again. Damage fails
         * every reading; a reading torn that way does not fail again. */
        if (ok || ++failed == STILL_READINGS)
            return ok;
        sched_yield();
    }
    return false;
}

/* Takes a node's BUSY flag, waiting for its owner if need be; false if the
 * flag never clears. *w3 is the node's last word before. */
bool ant_node_hold(ant_node_t *node, uint64_t *w3)
{
    for (;;) {
        if (!busy_wait(node))
            return false;
        uint64_t now = __atomic_load_n(&node->w[3], __ATOMIC_RELAXED);
        if (!((uint32_t)now & ANT_MARK_BUSY) && ant_node_try_hold(node, now)) {
            *w3 = now;
            return true;
        }
    }
}
