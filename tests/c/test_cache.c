/*
 * test_cache.c: the thread caches, seen through the API. A small freed
 * block waits in its thread's cache, in state CACHED, and the thread's next
 * malloc of that size (or a little smaller) gets it back; each size has its
 * own bin of at most `cache` blocks (16 by default), and a full one sends
 * its older half back to the heap; big and aligned requests pass by; a
 * thread's cache goes back to the heap when the thread ends, whoever
 * allocated the blocks in it; and ant_check() agrees with all of it.
 */
#include "blocks.h"
#include "check.h"

#include <ant/ant.h>
#include <ant/layout.h>
#include <pthread.h>

struct tally {
    ant_block_state_t state;
    size_t n;
};

static int count_one(const ant_block_info_t *b, void *arg)
{
    struct tally *t = arg;
    t->n += b->state == t->state;
    return 0;
}

static size_t count_state(ant_block_state_t state)
{
    struct tally t = {state, 0};
    ant_walk(count_one, &t);
    return t.n;
}

static ant_stats_t stats(void)
{
    ant_stats_t s;
    ant_stats(&s);
    return s;
}

static void reuse(void)
{
    char *keep = ant_malloc(8);
    char *a = ant_malloc(100);
    ant_stats_t before = stats();
    ant_free(a);
    CHECK_EQ(state_of(a), ANT_BLOCK_CACHED);
    ant_stats_t after = stats();
    CHECK_EQ(after.cached_blocks, before.cached_blocks + 1);
    CHECK_EQ(after.used_blocks, before.used_blocks - 1);
    CHECK_EQ(after.requested_bytes, before.requested_bytes - 100);
    CHECK_EQ(after.frees, before.frees + 1);
    CHECK_EQ(ant_check(), 0);

    /* Same block size, same block; another size, another bin. */
    char *b = ant_malloc(90);
    CHECK(b == a);
    CHECK_EQ(state_of(b), ANT_BLOCK_USED);
    CHECK_EQ(ant_usable_size(b), 90);
    CHECK_EQ(stats().requested_bytes, before.requested_bytes - 10);
    char *c = ant_malloc(300);
    ant_free(b);
    char *d = ant_malloc(300);
    CHECK(d != b);
    CHECK_EQ(state_of(b), ANT_BLOCK_CACHED);
    CHECK_EQ(ant_check(), 0);
    ant_free(c);
    ant_free(d);
    ant_free(keep);
    CHECK_EQ(ant_check(), 0);
}

/* Blocks of one size, in the bin of that size. */
struct bin_count {
    size_t size;
    size_t n;
};

static int count_bin(const ant_block_info_t *b, void *arg)
{
    struct bin_count *c = arg;
    c->n += b->state == ANT_BLOCK_CACHED && b->size == c->size;
    return 0;
}

static size_t cached_of_size(size_t size)
{
    struct bin_count c = {size, 0};
    ant_walk(count_bin, &c);
    return c.n;
}

/* A bin holds at most 16 blocks; a full one sends its older half back to
 * the heap. Blocks come back last in, first out. */
static void limit(void)
{
    enum { N = 40, BLOCK = (ANT_NODE_SIZE + 500 + ANT_TAIL_SIZE + 15) & ~15 }; /* node, 500 bytes, tail */
    char *p[N];
    for (int i = 0; i < N; i++)
        p[i] = ant_malloc(500);
    char *fence = ant_malloc(8);
    for (int i = 0; i < N; i += 2) {
        ant_free(p[i]);
        CHECK(cached_of_size(BLOCK) <= 16);
        CHECK_EQ(stats().cached_blocks, count_state(ANT_BLOCK_CACHED));
    }
    /* 20 freed: 16 filled the bin, half went back, then 4 more. */
    CHECK_EQ(cached_of_size(BLOCK), 12);
    /* Those sent back are free, or merged into a free neighbour (no longer
     * a block of their own, state 0). */
    size_t states[4] = {0};
    for (int i = 0; i < N; i += 2)
        states[state_of(p[i])]++;
    CHECK(states[ANT_BLOCK_FREE] + states[0] > 0);
    CHECK_EQ(states[ANT_BLOCK_USED], 0);
    CHECK_EQ(ant_check(), 0);
    CHECK(ant_malloc(500) == p[N - 2]);
    for (int i = 1; i < N; i += 2)
        ant_free(p[i]);
    ant_free(fence);
    CHECK_EQ(ant_check(), 0);
}

/* A malloc whose bin is empty takes a block from one of the next two bins
 * up, 16 or 32 bytes bigger; three bins up is too far. */
static void sizes_up(void)
{
    enum { BLOCK = (ANT_NODE_SIZE + 232 + ANT_TAIL_SIZE + 15) & ~15 }; /* node, 232 bytes, tail */
    char *a = ant_malloc(232);
    char *fence = ant_malloc(8);
    for (size_t size = BLOCK - 48; size < BLOCK; size += 16)
        CHECK_EQ(cached_of_size(size), 0);
    ant_free(a);
    char *b = ant_malloc(200); /* a block 32 bytes smaller: two bins down */
    CHECK(b == a);
    CHECK_EQ(state_of(b), ANT_BLOCK_USED);
    CHECK_EQ(ant_usable_size(b), 200);
    CHECK_EQ(ant_check(), 0);
    ant_free(b);
    CHECK_EQ(cached_of_size(BLOCK), 1);
    char *c = ant_malloc(184); /* 48 bytes smaller: three bins down */
    CHECK(c != a);
    CHECK_EQ(state_of(a), ANT_BLOCK_CACHED);
    CHECK_EQ(ant_check(), 0);
    ant_free(c);
    ant_free(fence);
    CHECK_EQ(ant_check(), 0);
}

/* Too big for a cache, or aligned beyond 16: straight to the heap. */
static void passers_by(void)
{
    char *big = ant_malloc(2000);
    char *fence = ant_malloc(8);
    ant_free(big);
    CHECK_EQ(state_of(big), ANT_BLOCK_FREE);
    char *small = ant_malloc(100);
    ant_free(small);
    char *aligned = ant_aligned_alloc(64, 100);
    CHECK(aligned != small);
    CHECK_EQ((uintptr_t)aligned % 64, 0);
    ant_free(aligned);
    ant_free(fence);
    CHECK_EQ(ant_check(), 0);
}

/* A thread frees blocks the main thread allocated, and some of its own;
 * when it ends, its cache is empty and every block is free. */
static char *handed[12];

static void *worker(void *arg)
{
    (void)arg;
    char *own[12];
    for (int i = 0; i < 12; i++)
        own[i] = ant_malloc(64 + 16 * (size_t)i);
    for (int i = 0; i < 12; i++) {
        ant_free(handed[i]);
        ant_free(own[i]);
    }
    CHECK(count_state(ANT_BLOCK_CACHED) >= 24);
    return 0;
}

static void thread_end(void)
{
    for (int i = 0; i < 12; i++)
        handed[i] = ant_malloc(100 + 32 * (size_t)i);
    size_t cached = stats().cached_blocks;
    pthread_t t;
    CHECK(pthread_create(&t, 0, worker, 0) == 0);
    CHECK(pthread_join(t, 0) == 0);
    CHECK_EQ(stats().cached_blocks, cached);
    for (int i = 0; i < 12; i++)
        CHECK(state_of(handed[i]) != ANT_BLOCK_CACHED);
    CHECK_EQ(ant_check(), 0);
}

int main(void)
{
    reuse();
    limit();
    sizes_up();
    passers_by();
    thread_end();
    return 0;
}
