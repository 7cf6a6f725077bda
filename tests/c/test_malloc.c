/*
 * test_malloc.c: ant_malloc and ant_free. Every size from 0 to 4 KiB and a
 * few big ones, all live at once: each block is aligned, reports its
 * requested size, holds its own bytes without touching its neighbours', and
 * goes back to the heap on free.
 */
#include "check.h"

#include <ant/ant.h>

#define SMALL 4097
#define BIG_COUNT 4

static unsigned char pattern(size_t block, size_t i)
{
    return (unsigned char)(block * 31 + i * 7 + 1);
}

static void fill(unsigned char *p, size_t block, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = pattern(block, i);
}

static void verify(const unsigned char *p, size_t block, size_t n)
{
    for (size_t i = 0; i < n; i++)
        CHECK_EQ(p[i], pattern(block, i));
}

static void all_sizes_live_at_once(void)
{
    static unsigned char *blocks[SMALL + BIG_COUNT];
    static size_t sizes[SMALL + BIG_COUNT];
    for (size_t i = 0; i < SMALL; i++)
        sizes[i] = i;
    for (size_t i = 0; i < BIG_COUNT; i++)
        sizes[SMALL + i] = ((size_t)256 << 10) + i * 100000 + 3;
    for (size_t i = 0; i < SMALL + BIG_COUNT; i++) {
        blocks[i] = ant_malloc(sizes[i]);
        CHECK(blocks[i] != 0);
        CHECK_EQ((uintptr_t)blocks[i] % 16, 0);
        CHECK_EQ(ant_usable_size(blocks[i]), sizes[i]);
        fill(blocks[i], i, sizes[i]);
    }
    for (size_t i = 0; i < SMALL + BIG_COUNT; i++)
        verify(blocks[i], i, sizes[i]);
    CHECK_EQ(ant_check(), 0);

    ant_stats_t s;
    ant_stats(&s);
    CHECK_EQ(s.used_blocks, SMALL + BIG_COUNT);
    CHECK_EQ(s.big_blocks, BIG_COUNT);

    /* Every other block first, so the frees coalesce from both sides. */
    for (size_t i = 0; i < SMALL + BIG_COUNT; i += 2)
        ant_free(blocks[i]);
    for (size_t i = 1; i < SMALL + BIG_COUNT; i += 2)
        verify(blocks[i], i, sizes[i]);
    CHECK_EQ(ant_check(), 0);
    for (size_t i = 1; i < SMALL + BIG_COUNT; i += 2)
        ant_free(blocks[i]);
    CHECK_EQ(ant_check(), 0);
    ant_stats(&s);
    CHECK_EQ(s.used_blocks, 0);
    CHECK_EQ(s.requested_bytes, 0);
    CHECK_EQ(s.big_blocks, 0);
}

static void zero_bytes_are_distinct_blocks(void)
{
    void *a = ant_malloc(0);
    void *b = ant_malloc(0);
    CHECK(a != 0 && b != 0 && a != b);
    CHECK_EQ(ant_usable_size(a), 0);
    ant_free(a);
    ant_free(b);
}

static void free_of_null_does_nothing(void)
{
    ant_stats_t before, after;
    ant_stats(&before);
    ant_free(0);
    ant_stats(&after);
    CHECK(memcmp(&before, &after, sizeof before) == 0);
}

static void freed_block_is_reused(void)
{
    void *guard = ant_malloc(8);
    void *p = ant_malloc(100);
    void *fence = ant_malloc(8);
    ant_free(p);
    void *q = ant_malloc(100);
    CHECK(q == p);
    ant_free(q);
    ant_free(guard);
    ant_free(fence);
    CHECK_EQ(ant_check(), 0);
}

int main(void)
{
    free_of_null_does_nothing();
    zero_bytes_are_distinct_blocks();
    all_sizes_live_at_once();
    freed_block_is_reused();
    return 0;
}
