/*
 * test_busy_owner.c: a node another thread holds BUSY is waited for as
 * long as that thread takes, as a lock would be, and never called damaged
 * for taking long: its thread may be stopped at a breakpoint by a debugger
 * in non-stop mode, or the whole process by gcore for seconds.
 *
 * Here another thread's cache names a used block as the node it is
 * changing, and the block is BUSY, for two seconds; meanwhile the block
 * below it is freed and merged with a free one, which must change the busy
 * block's below. The free waits, then finishes, and the heap checks whole,
 * with nothing reported (a report would abort the test).
 */
#include "check.h"
#include "root.h"

#include <ant/ant.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#define BUSY_MARK ((uint64_t)ANT_FLAG_BUSY << 16)

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static ant_cache_t *its_cache;
static int stage;

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void wait_for(int want)
{
    pthread_mutex_lock(&lock);
    while (stage < want)
        pthread_cond_wait(&changed, &lock);
    pthread_mutex_unlock(&lock);
}

static void move_to(int next)
{
    pthread_mutex_lock(&lock);
    stage = next;
    pthread_cond_broadcast(&changed);
    pthread_mutex_unlock(&lock);
}

/* The cache a thread made by freeing a small block: the newest LIVE one
 * whose thread is `tid`. */
static ant_cache_t *cache_of(uint64_t tid)
{
    for (ant_cache_t *c = root()->caches; c; c = c->next)
        if (c->state == ANT_CACHE_LIVE && c->thread == tid)
            return c;
    return 0;
}

/* Ends the change begun in main two seconds later: the node's last word
 * as it was, then the cache names nothing. */
struct change {
    ant_node_t *node;
    uint64_t w3;
};

static void *end_change_later(void *arg)
{
    const struct change *c = arg;
    struct timespec two = {2, 0};
    nanosleep(&two, 0);
    __atomic_store_n(&c->node->w[3], c->w3, __ATOMIC_SEQ_CST);
    __atomic_store_n(&its_cache->busy, 0, __ATOMIC_SEQ_CST);
    return 0;
}

static void *owner(void *arg)
{
    (void)arg;
    ant_free(ant_malloc(40)); /* this thread's cache, so it may name a node */
    its_cache = cache_of((uint64_t)gettid());
    move_to(1);
    wait_for(2);
    return 0;
}

int main(void)
{
    /* Too big for a cache: freed under the lock, the second merging into
     * the first, which changes the busy block's below. */
    char *first = ant_malloc(2000);
    char *below = ant_malloc(2000);
    char *busy = ant_malloc(100);
    char *fence = ant_malloc(8);
    pthread_t t, ender;
    ant_free(first);
    CHECK(pthread_create(&t, 0, owner, 0) == 0);
    wait_for(1);
    CHECK(its_cache != 0);

    /* As the owner thread starts a change of the block: named in its
     * cache's busy, then BUSY. */
    struct change c = {(ant_node_t *)(void *)(busy - ANT_NODE_SIZE), 0};
    c.w3 = __atomic_load_n(&c.node->w[3], __ATOMIC_ACQUIRE);
    __atomic_store_n(&its_cache->busy, c.node, __ATOMIC_SEQ_CST);
    __atomic_store_n(&c.node->w[3], c.w3 | BUSY_MARK, __ATOMIC_SEQ_CST);
    double start = now();
    CHECK(pthread_create(&ender, 0, end_change_later, &c) == 0);

    ant_free(below);
    CHECK(now() - start >= 1.9);
    CHECK(pthread_join(ender, 0) == 0);
    CHECK_EQ(ant_check(), 0);

    move_to(2);
    CHECK(pthread_join(t, 0) == 0);
    ant_free(busy);
    ant_free(fence);
    CHECK_EQ(ant_check(), 0);
    return 0;
}
