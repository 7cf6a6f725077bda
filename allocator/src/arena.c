/*
 * arena.c: arenas and their locks.
 *
 * Threads are spread over up to `arenas` arenas (ANT_OPTIONS), each with
 * its own lock, regions and bins, so that two threads seldom wait for each
 * other: a thread keeps the arena it was first given, in turn. A block
 * goes back to the arena it came from, whichever thread frees it. The root
 * keeps an array of arena pointers so that a debugger reading a core needs
 * no thread-local storage to find them all.
 */
#include "internal.h"
#include "valgrind.h"

#include <string.h>
#include <unistd.h>

/* Untouched, an arena costs no memory: these pages stay unmapped zeros
 * until a thread is given the arena. */
static ant_arena_t arenas[ANT_MAX_ARENAS];
static pthread_mutex_t making = PTHREAD_MUTEX_INITIALIZER;
static uint32_t next_turn;
static __thread ant_arena_t *my_arena __attribute__((tls_model("initial-exec")));

ant_arena_t *ant_arena_at(uint32_t index)
{
    return index < __atomic_load_n(&ant_heap_root.arena_count, __ATOMIC_ACQUIRE) ? &arenas[index] : 0;
}

/*
 * The arena count the options ask for: by default one per CPU. The thread
 * caches keep most frees off the locks, and every arena holds free memory
 * the others cannot use: with six threads on two CPUs, a producer and
 * consumer program peaked at 7.7 MB with four arenas, 5.7 MB with two and
 * 4.0 MB with one (glibc 4.8 MB), and ran no slower with fewer.
 */
static uint32_t arena_limit(void)
{
    size_t n = ant_opt.arenas;
    if (!n) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        n = cpus > 0 ? (size_t)cpus : 1;
    }
    return n > ANT_MAX_ARENAS ? ANT_MAX_ARENAS : (uint32_t)n;
}

static ant_arena_t *give_arena(void)
{
    uint32_t index = __atomic_fetch_add(&next_turn, 1, __ATOMIC_RELAXED) % arena_limit();
    pthread_mutex_lock(&making);
    while (ant_heap_root.arena_count <= index)
        ant_arena_setup(&arenas[ant_heap_root.arena_count], ant_heap_root.arena_count);
    pthread_mutex_unlock(&making);
    return &arenas[index];
}

ant_arena_t *ant_arena_for_thread(void)
{
    ant_arena_t *a = my_arena;
    if (ANT_UNLIKELY(!a))
        a = my_arena = give_arena();
    return a;
}

/*
 * The arena a block belongs to: by the spans without a lock, else by
 * asking each arena under its lock. For a pointer no arena holds, the
 * caller's own, whose validation then reports it.
 */
ant_arena_t *ant_arena_owning(const void *mem)
{
    int index = ant_span_arena(mem);
    if (index >= 0 && ant_arena_at((uint32_t)index))
        return &arenas[index];
    uint32_t count = __atomic_load_n(&ant_heap_root.arena_count, __ATOMIC_ACQUIRE);
    for (uint32_t i = 0; i < count; i++) {
        ant_lock(&arenas[i]);
        bool holds = ant_region_of(&arenas[i], mem) || ant_big_of(&arenas[i], mem);
        ant_unlock(&arenas[i]);
        if (holds)
            return &arenas[i];
    }
    return ant_arena_for_thread();
}

/* Publishes a new arena: set up, then pointed to, then counted. */
void ant_arena_setup(ant_arena_t *arena, uint32_t index)
{
    pthread_mutex_init(&arena->lock, 0);
    arena->index = index;
    arena->journal.capacity = ANT_JOURNAL_WORDS;
    /* It names the last block changed: under memcheck, no pointer the
     * program holds. */
    ant_vg_hide(&arena->journal, sizeof arena->journal);
    arena->mmap_threshold = ant_opt.mmap_threshold;
    arena->trim_threshold = ant_opt.trim_threshold;
    arena->depot = ant_opt.cache && ant_opt.depot ? ant_cache_new_depot() : 0;
    ant_heap_root.arenas[index] = arena;
    __atomic_store_n(&ant_heap_root.arena_count, index + 1, __ATOMIC_RELEASE);
}

/*
 * Work under an arena lock lasts well under a microsecond, while sleeping on
 * a taken lock and being woken again costs system calls and context
 * switches. So a thread that finds the lock taken tries again a while
 * first, pausing between tries: in the cross_thread benchmark, where one
 * thread frees into the arena another allocates from, that cut the wall
 * time from 1.9 s to 1.2 s. With one CPU the holder cannot run while we
 * spin, so there is no spinning.
 */
#define SPIN_TRIES 100
#define SPIN_PAUSES 4

static int spin_tries(void)
{
    static int tries = -1;
    int n = __atomic_load_n(&tries, __ATOMIC_RELAXED);
    if (n < 0) {
        n = sysconf(_SC_NPROCESSORS_ONLN) > 1 ? SPIN_TRIES : 0;
        __atomic_store_n(&tries, n, __ATOMIC_RELAXED);
    }
    return n;
}

void ant_lock(ant_arena_t *arena)
{
    if (ANT_LIKELY(pthread_mutex_trylock(&arena->lock) == 0))
        return;
    for (int i = spin_tries(); i > 0; i--) {
        for (int k = 0; k < SPIN_PAUSES; k++)
            ant_cpu_relax();
        if (pthread_mutex_trylock(&arena->lock) == 0)
            return;
    }
    pthread_mutex_lock(&arena->lock);
}

/* The lock holder says what it is about to change, and who it is. */
void ant_lock_for(ant_arena_t *arena, uint32_t op)
{
    ant_lock(arena);
    arena->journal.thread = ant_thread_id();
    arena->journal.step = 0;
    arena->journal.op = op;
}

/* A change ends whole: its records go before the lock. */
void ant_unlock(ant_arena_t *arena)
{
    ant_journal_commit(arena);
    arena->journal.op = 0;
    arena->journal.step = 0;
    pthread_mutex_unlock(&arena->lock);
}

/* Every arena, and no new one until ant_unlock_all(): a walk over
 * arena_count then sees only locked arenas. */
void ant_lock_all(void)
{
    pthread_mutex_lock(&making);
    for (uint32_t i = 0; i < ant_heap_root.arena_count; i++)
        ant_lock(ant_heap_root.arenas[i]);
}

void ant_unlock_all(void)
{
    for (uint32_t i = ant_heap_root.arena_count; i-- > 0;)
        ant_unlock(ant_heap_root.arenas[i]);
    pthread_mutex_unlock(&making);
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
    ant_quiet_begin();
    ant_ensure_init();
    ant_lock_all();
    ant_cache_fork_prepare();
    ant_quiet_end();
}

static void parent_after_fork(void)
{
    ant_quiet_begin();
    ant_cache_fork_parent();
    ant_unlock_all();
    ant_quiet_end();
}

static void child_after_fork(void)
{
    ant_quiet_begin();
    ant_os_fork_child();
    ant_journal_fork_child();
    ant_stacks_fork_child();
    ant_stack_fork_child();
    pthread_mutex_init(&making, 0);
    for (uint32_t i = 0; i < ant_heap_root.arena_count; i++)
        pthread_mutex_init(&ant_heap_root.arenas[i]->lock, 0);
    ant_cache_fork_child();
    ant_quiet_end();
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
