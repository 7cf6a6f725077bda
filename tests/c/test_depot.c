/*
 * test_depot.c: an arena's depot, seen through the API. A thread that
 * frees what another allocated leaves the older half of each full bin in
 * the depot, CACHED, no block merged; the allocating thread's next malloc
 * of that size takes half a bin's worth from there, no block split and no
 * new memory; a depot holds at most `depot` caches' worth of bytes; a
 * request no free block fits empties the depot into the bins first; damage
 * to a block in the depot is found by ant_check(); and ant_check() agrees
 * with all of it. Run with arenas=1:cache=16:cache_bytes=4k:depot=2: the
 * depot holds 8 KiB, 56 blocks of 144 bytes.
 */
#include "blocks.h"
#include "check.h"

#include <ant/ant.h>
#include <ant/layout.h>
#include <pthread.h>
#include <stdbool.h>

enum { N = 100, REQUEST = 100, BLOCK = (ANT_NODE_SIZE + REQUEST + ANT_TAIL_SIZE + 15) & ~15, DEPOT = 8192 / BLOCK };

static char *blocks[N];

struct tally {
    ant_block_state_t state;
    size_t size, n;
    const void *any;
};

static int count_one(const ant_block_info_t *b, void *arg)
{
    struct tally *t = arg;
    if (b->state == t->state && (!t->size || b->size == t->size)) {
        t->n++;
        t->any = b->mem;
    }
    return 0;
}

static struct tally count(ant_block_state_t state, size_t size)
{
    struct tally t = {state, size, 0, 0};
    ant_walk(count_one, &t);
    return t;
}

static ant_stats_t stats(void)
{
    ant_stats_t s;
    ant_stats(&s);
    return s;
}

static void *free_range(void *arg)
{
    const int *range = arg;
    for (int i = range[0]; i < range[1]; i++)
        ant_free(blocks[i]);
    return 0;
}

/* Another thread frees blocks[from, to) and ends, its cache going back to
 * the arena: what stays CACHED is in the depot. */
static void consumer_frees(int from, int to)
{
    int range[2] = {from, to};
    pthread_t t;
    CHECK(pthread_create(&t, 0, free_range, range) == 0);
    CHECK(pthread_join(t, 0) == 0);
}

static bool is_one_of(const void *mem, int from, int to)
{
    for (int i = from; i < to; i++)
        if (blocks[i] == mem)
            return true;
    return false;
}

int main(void)
{
    for (int i = 0; i < N; i++)
        blocks[i] = ant_malloc(REQUEST);
    char *fence = ant_malloc(8);

    /* 100 frees: each full bin (16) sends 8 on; the depot takes 56 (two
     * caches' worth of bytes), the arena the rest. */
    consumer_frees(0, N);
    struct tally depot = count(ANT_BLOCK_CACHED, BLOCK);
    CHECK_EQ(depot.n, DEPOT);
    CHECK_EQ(stats().cached_blocks, DEPOT);
    CHECK(is_one_of(depot.any, 0, N));
    CHECK_EQ(ant_check(), 0);

    /* The next malloc of that size comes from the depot, with seven more
     * into this thread's cache: nothing split, nothing new. */
    ant_stats_t before = stats();
    char *again = ant_malloc(REQUEST);
    CHECK(is_one_of(again, 0, N));
    ant_stats_t after = stats();
    CHECK_EQ(after.cached_blocks, DEPOT - 1);
    CHECK_EQ(after.wilderness_bytes, before.wilderness_bytes);
    CHECK_EQ(after.mapped_bytes, before.mapped_bytes);
    CHECK_EQ(after.free_blocks, before.free_blocks);
    CHECK_EQ(ant_check(), 0);
    for (int i = 0; i < 7; i++)
        CHECK(is_one_of(ant_malloc(REQUEST - 8), 0, N));
    CHECK_EQ(stats().cached_blocks, DEPOT - 8);
    CHECK_EQ(ant_check(), 0);

    /* Poison changed in a block in the depot: a write through a dangling
     * pointer, which ant_check() finds there. */
    depot = count(ANT_BLOCK_CACHED, BLOCK);
    unsigned char *uaf = (unsigned char *)(uintptr_t)depot.any + ANT_POISON_OFFSET + 3;
    unsigned char was = *uaf;
    *uaf = (unsigned char)~was;
    CHECK_EQ(ant_check(), 1);
    *uaf = was;
    CHECK_EQ(ant_check(), 0);

    /* A request no free block fits: the depot goes back to the bins first,
     * its blocks free or merged. */
    char *large = ant_malloc(64 << 10);
    CHECK(large != 0);
    CHECK_EQ(count(ANT_BLOCK_CACHED, 0).n, 0);
    CHECK_EQ(stats().cached_blocks, 0);
    CHECK_EQ(ant_check(), 0);

    ant_free(large);
    ant_free(again);
    ant_free(fence);
    CHECK_EQ(ant_check(), 0);
    return 0;
}
