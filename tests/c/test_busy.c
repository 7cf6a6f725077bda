/*
 * test_busy.c: a node another thread is changing is judged once it is
 * still. One thread frees and allocates the same small block over and over
 * (its cache's fast path, which holds the node BUSY a few dozen
 * instructions at a time); another checks the heap all along, and the free
 * of the block's lower neighbour looks at it too. Neither may call the
 * busy block damaged.
 */
#include "check.h"

#include <ant/ant.h>
#include <pthread.h>
#include <time.h>

static int running = 1;

static void *hammer(void *arg)
{
    char *p = arg;
    ant_free(p);
    while (__atomic_load_n(&running, __ATOMIC_RELAXED)) {
        p = ant_malloc(100);
        CHECK(p != 0);
        ant_free(p);
    }
    return 0;
}

int main(void)
{
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    int rounds = 0;
    do {
        char *below = ant_malloc(2000); /* too big for a cache: freed under the lock */
        char *busy = ant_malloc(100);
        char *fence = ant_malloc(8);
        __atomic_store_n(&running, 1, __ATOMIC_RELAXED);
        pthread_t t;
        CHECK(pthread_create(&t, 0, hammer, busy) == 0);
        for (int i = 0; i < 200; i++)
            CHECK_EQ(ant_check(), 0);
        ant_free(below);
        __atomic_store_n(&running, 0, __ATOMIC_RELAXED);
        CHECK(pthread_join(t, 0) == 0);
        ant_free(fence);
        clock_gettime(CLOCK_MONOTONIC, &now);
        rounds++;
    } while (now.tv_sec - start.tv_sec < 2);
    CHECK(rounds > 0);
    CHECK_EQ(ant_check(), 0);
    return 0;
}
