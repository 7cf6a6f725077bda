/*
 * arena.c: arenas and their locks.
 *
 * One arena serves every thread for now; the root keeps an array of arena
 * pointers so that a debugger reading a core needs no thread-local storage
 * to find them all.
 */
#include "internal.h"

#include <string.h>

static ant_arena_t first_arena = {.lock = PTHREAD_MUTEX_INITIALIZER};

ant_arena_t *ant_arena_at(uint32_t index)
{
    return index == 0 ? &first_arena : 0;
}

ant_arena_t *ant_arena_for_thread(void)
{
    return &first_arena;
}

void ant_arena_setup(ant_arena_t *arena, uint32_t index)
{
    arena->index = index;
    arena->mmap_threshold = ant_opt.mmap_threshold;
    arena->trim_threshold = ant_opt.trim_threshold;
    ant_heap_root.arenas[index] = arena;
    if (ant_heap_root.arena_count <= index)
        ant_heap_root.arena_count = index + 1;
}

void ant_lock(ant_arena_t *arena)
{
    pthread_mutex_lock(&arena->lock);
}

void ant_unlock(ant_arena_t *arena)
{
    pthread_mutex_unlock(&arena->lock);
}

void ant_lock_all(void)
{
    for (uint32_t i = 0; i < ant_heap_root.arena_count; i++)
        ant_lock(ant_heap_root.arenas[i]);
}

void ant_unlock_all(void)
{
    for (uint32_t i = ant_heap_root.arena_count; i-- > 0;)
        ant_unlock(ant_heap_root.arenas[i]);
}

/*
 * fork() copies only the calling thread. Holding every arena lock across it
 * means no other thread can be half way through a heap update at the moment
 * of the copy, so the child's heap is whole and its locks can be released.
 * Start-up is finished first: an arena that another thread was setting up
 * would otherwise come to life, unlocked, between the locking and the copy,
 * and a child copied in the middle of start-up would wait forever for the
 * thread doing it.
 */
static void before_fork(void)
{
    ant_ensure_init();
    ant_lock_all();
    ant_cache_fork_prepare();
}

static void parent_after_fork(void)
{
    ant_cache_fork_parent();
    ant_unlock_all();
}

static void child_after_fork(void)
{
    for (uint32_t i = 0; i < ant_heap_root.arena_count; i++)
        pthread_mutex_init(&ant_heap_root.arenas[i]->lock, 0);
    ant_cache_fork_child();
}

/*
 * Registered when the library is loaded, before the program can start a
 * thread: registered at start-up instead, a fork could come between another
 * thread's first lock and the registration and copy a held lock into the
 * child. In the drop-in, registering may call malloc, which is ready for it.
 */
__attribute__((constructor)) static void install_fork_handlers(void)
{
    pthread_atfork(before_fork, parent_after_fork, child_after_fork);
}
