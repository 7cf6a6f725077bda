/*
 * thread-caches.c: where freed blocks wait when threads allocate.
 *
 * A free of a small block does not go back to the heap at once: it waits in
 * the freeing thread's cache, in state CACHED, and that thread's next malloc
 * of the same size takes it back without a lock. Threads also get arenas of
 * their own, so two threads seldom wait for each other; a block always goes
 * back to the arena it came from, whichever thread frees it.
 *
 * Two workers each build and tear down a list of small records, one of them
 * also freeing records the other made. Then, with both workers parked, the
 * program prints every block with its arena and state, and stops on SIGTRAP
 * for gdb:
 *
 *   gdb -ex run -ex ant-heap -ex 'ant-walk --cached' -ex ant-check ./thread-caches
 *
 * ant-heap lists each thread's cache with the thread's id as gdb's `info
 * threads` shows it (LWP); ant-walk --cached, the blocks waiting there.
 * Without gdb the SIGTRAP is ignored and the program ends normally.
 */
#include <ant/ant.h>

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define RECORDS 12

struct record {
    struct record *next;
    char name[40];
};

static struct record *made_by_first;
static pthread_barrier_t built, torn_down, done;

static struct record *build(const char *who, int count)
{
    struct record *list = 0;
    for (int i = 0; i < count; i++) {
        struct record *r = ant_malloc(sizeof *r);
        snprintf(r->name, sizeof r->name, "%s record %d", who, i);
        r->next = list;
        list = r;
    }
    return list;
}

static void tear_down(struct record *list)
{
    while (list) {
        struct record *next = list->next;
        ant_free(list);
        list = next;
    }
}

static void *first(void *arg)
{
    (void)arg;
    printf("first worker:  thread %ld\n", (long)syscall(SYS_gettid));
    made_by_first = build("first", RECORDS);
    tear_down(build("first's scratch", 4));
    pthread_barrier_wait(&built);
    pthread_barrier_wait(&torn_down);
    pthread_barrier_wait(&done);
    return 0;
}

static void *second(void *arg)
{
    (void)arg;
    pthread_barrier_wait(&built);
    printf("second worker: thread %ld\n", (long)syscall(SYS_gettid));
    struct record *own = build("second", RECORDS / 2);
    tear_down(made_by_first); /* blocks of the first worker's arena */
    tear_down(own);
    pthread_barrier_wait(&torn_down);
    pthread_barrier_wait(&done);
    return 0;
}

static int show(const ant_block_info_t *b, void *arg)
{
    static const char *states[] = {"?", "used", "free", "cached"};
    (void)arg;
    printf("  mem %p  %5zu bytes  arena %u  %s\n", b->mem, b->size, b->arena, states[b->state <= 3 ? b->state : 0]);
    return 0;
}

int main(void)
{
    /* The first thread to allocate gets arena 0, the next ones the next
     * arenas in turn, as many as ANT_OPTIONS=arenas=N allows (by default
     * one per CPU). Three, one a thread, unless ANT_OPTIONS says otherwise:
     * the same picture on any machine. */
    setenv("ANT_OPTIONS", "arenas=3", 0);
    char *title = ant_malloc(32);
    strcpy(title, "records of two threads");
    pthread_t workers[2];
    pthread_barrier_init(&built, 0, 2);
    pthread_barrier_init(&torn_down, 0, 3);
    pthread_barrier_init(&done, 0, 3);
    pthread_create(&workers[0], 0, first, 0);
    pthread_create(&workers[1], 0, second, 0);
    pthread_barrier_wait(&torn_down);

    ant_stats_t s;
    ant_stats(&s);
    printf("%zu used, %zu free and %zu cached blocks:\n", s.used_blocks, s.free_blocks, s.cached_blocks);
    ant_walk(show, 0);
    fflush(stdout);

    /* Both workers are parked, each with its cache: gdb looks now. */
    signal(SIGTRAP, SIG_IGN);
    raise(SIGTRAP);

    pthread_barrier_wait(&done);
    pthread_join(workers[0], 0);
    pthread_join(workers[1], 0);
    ant_stats(&s);
    printf("after the workers ended: %zu cached blocks\n", s.cached_blocks);
    ant_free(title);
    return ant_check() != 0;
}
