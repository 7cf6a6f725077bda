/*
 * test_cache_bytes.c: a thread's cache holds at most cache_bytes of blocks
 * (8 KiB here, eight blocks of 1 KiB) whatever the count of each bin: a
 * free that would pass it first sends the older half of its bin back to the
 * heap, and goes to the heap itself if that leaves no room.
 */
#include "blocks.h"
#include "check.h"

#include <ant/ant.h>
#include <ant/layout.h>

enum { N = 24, BLOCK = 1024, REQUEST = BLOCK - ANT_NODE_SIZE - ANT_TAIL_SIZE, LIMIT = 8192 };

static ant_stats_t stats(void)
{
    ant_stats_t s;
    ant_stats(&s);
    return s;
}

int main(void)
{
    char *p[N];
    for (int i = 0; i < N; i++)
        p[i] = ant_malloc(REQUEST);
    char *fence = ant_malloc(8);
    size_t most = 0;
    for (int i = 0; i < N; i++) {
        ant_free(p[i]);
        ant_stats_t s = stats();
        CHECK(s.cached_bytes <= LIMIT);
        CHECK_EQ(s.cached_bytes, s.cached_blocks * BLOCK);
        if (s.cached_blocks > most)
            most = s.cached_blocks;
    }
    /* Eight fill the cache; each ninth sends four back and stays. */
    CHECK_EQ(most, LIMIT / BLOCK);
    CHECK_EQ(stats().cached_blocks, LIMIT / BLOCK);
    CHECK_EQ(ant_check(), 0);

    /* A block of another size finds the cache full and its own bin empty,
     * with nothing to send back: it goes to the heap, free at once (or
     * merged into a free neighbour). */
    char *other = ant_malloc(100);
    ant_free(other);
    CHECK(state_of(other) != ANT_BLOCK_CACHED);
    CHECK_EQ(stats().cached_blocks, LIMIT / BLOCK);
    CHECK_EQ(ant_check(), 0);
    ant_free(fence);
    CHECK_EQ(ant_check(), 0);
    return 0;
}
