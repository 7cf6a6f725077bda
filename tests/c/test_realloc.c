/*
 * test_realloc.c: ant_realloc in each of its ways: from NULL, to zero, in
 * place (shrinking, over a free neighbour, over the wilderness), by moving,
 * and across the mmap threshold both ways. The bytes that both sizes hold
 * always survive.
 */
#include "check.h"

#include <ant/ant.h>

static void fill(unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(seed + i * 13);
}

static void verify(const unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        CHECK_EQ(p[i], (unsigned char)(seed + i * 13));
}

static size_t used_blocks(void)
{
    ant_stats_t s;
    ant_stats(&s);
    return s.used_blocks;
}

/* Run first: the heap is empty, so the block is the region's last. */
static void grows_over_the_wilderness(void)
{
    unsigned char *p = ant_malloc(100);
    fill(p, 100, 1);
    unsigned char *q = ant_realloc(p, 10000);
    CHECK(q == p);
    CHECK_EQ(ant_usable_size(q), 10000);
    verify(q, 100, 1);
    ant_free(q);
}

static void from_null_and_to_zero(void)
{
    size_t before = used_blocks();
    unsigned char *p = ant_realloc(0, 50);
    CHECK(p != 0);
    CHECK_EQ(ant_usable_size(p), 50);
    CHECK_EQ(used_blocks(), before + 1);
    CHECK(ant_realloc(p, 0) == 0);
    CHECK_EQ(used_blocks(), before);
}

static void shrinks_in_place(void)
{
    unsigned char *p = ant_malloc(1000);
    void *guard = ant_malloc(8);
    fill(p, 1000, 2);
    ant_stats_t before, after;
    ant_stats(&before);
    unsigned char *q = ant_realloc(p, 100);
    CHECK(q == p);
    CHECK_EQ(ant_usable_size(q), 100);
    verify(q, 100, 2);
    ant_stats(&after);
    CHECK_EQ(after.free_blocks, before.free_blocks + 1);
    ant_free(q);
    ant_free(guard);
}

/* The boundary with the free neighbour moves up, and what is left of the
 * neighbour stays one free block; growth that would leave less than a
 * block takes all of it. */
static void grows_over_a_free_neighbour(void)
{
    unsigned char *p = ant_malloc(100);
    void *next = ant_malloc(500);
    void *guard = ant_malloc(8);
    fill(p, 100, 3);
    ant_free(next);
    ant_stats_t before, after;
    ant_stats(&before);
    unsigned char *q = ant_realloc(p, 400);
    CHECK(q == p);
    CHECK_EQ(ant_usable_size(q), 400);
    verify(q, 100, 3);
    ant_stats(&after);
    CHECK_EQ(after.free_blocks, before.free_blocks);
    CHECK_EQ(after.free_bytes, before.free_bytes - 304);
    CHECK_EQ(ant_check(), 0);

    q = ant_realloc(q, 640);
    CHECK(q == p);
    verify(q, 100, 3);
    ant_stats(&after);
    CHECK_EQ(after.free_blocks, before.free_blocks - 1);
    CHECK_EQ(ant_check(), 0);
    ant_free(q);
    ant_free(guard);
}

static void moves_when_blocked(void)
{
    unsigned char *p = ant_malloc(100);
    void *guard = ant_malloc(8);
    fill(p, 100, 4);
    unsigned char *q = ant_realloc(p, 1000);
    CHECK(q != 0 && q != p);
    CHECK_EQ(ant_usable_size(q), 1000);
    verify(q, 100, 4);
    CHECK_EQ(ant_usable_size(p), 0);
    ant_free(q);
    ant_free(guard);
}

static void across_the_mmap_threshold(void)
{
    ant_stats_t s;
    unsigned char *p = ant_malloc(1000);
    fill(p, 1000, 5);
    p = ant_realloc(p, (size_t)1 << 20);
    CHECK(p != 0);
    ant_stats(&s);
    CHECK_EQ(s.big_blocks, 1);
    verify(p, 1000, 5);
    fill(p, (size_t)1 << 20, 6);
    p = ant_realloc(p, (size_t)4 << 20);
    CHECK(p != 0);
    CHECK_EQ(ant_usable_size(p), (size_t)4 << 20);
    verify(p, (size_t)1 << 20, 6);
    p = ant_realloc(p, 300000);
    CHECK(p != 0);
    CHECK_EQ(ant_usable_size(p), 300000);
    verify(p, 300000, 6);
    ant_stats(&s);
    CHECK_EQ(s.big_blocks, 1);
    p = ant_realloc(p, 2000);
    CHECK(p != 0);
    verify(p, 2000, 6);
    ant_stats(&s);
    CHECK_EQ(s.big_blocks, 0);
    ant_free(p);
}

static void aligned_blocks_keep_their_bytes(void)
{
    unsigned char *p = ant_aligned_alloc(4096, 100);
    fill(p, 100, 7);
    p = ant_realloc(p, 5000);
    CHECK(p != 0);
    verify(p, 100, 7);
    ant_free(p);

    p = ant_aligned_alloc((size_t)1 << 20, 300000);
    CHECK(p != 0);
    fill(p, 300000, 8);
    p = ant_realloc(p, 600000);
    CHECK(p != 0);
    verify(p, 300000, 8);
    ant_free(p);
}

int main(void)
{
    grows_over_the_wilderness();
    from_null_and_to_zero();
    shrinks_in_place();
    grows_over_a_free_neighbour();
    moves_when_blocked();
    across_the_mmap_threshold();
    aligned_blocks_keep_their_bytes();
    CHECK_EQ(ant_check(), 0);
    CHECK_EQ(used_blocks(), 0);
    return 0;
}
