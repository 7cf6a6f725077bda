/*
 * test_stats.c: ant_stats gives exact numbers. A scripted sequence from an
 * empty heap, each step's expected counters worked out from the layout's
 * constants: a block is its node, the request and the tail rounded up to
 * 16; a big block's mapping is its header, node, tail and 16 bytes of
 * slack rounded up to a page. Default options: 1 MiB regions, 256 KiB mmap
 * threshold, 128 KiB trim threshold, until a big block is freed.
 */
#include "check.h"

#include <ant/ant.h>
#include <ant/layout.h>
#include <unistd.h>

#define REGION ((size_t)1 << 20)

static size_t block(size_t request)
{
    return (ANT_NODE_SIZE + request + ANT_TAIL_SIZE + ANT_ALIGN - 1) & ~(size_t)(ANT_ALIGN - 1);
}

static size_t big_mapping(size_t request)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t n = ANT_REGION_HEADER_SIZE + ANT_NODE_SIZE + request + ANT_TAIL_SIZE + ANT_ALIGN;
    return (n + page - 1) / page * page;
}

#define FIELD(name)                                                                                          \
    do {                                                                                                     \
        if (got.name != want.name) {                                                                         \
            fprintf(stderr, "%s:%d: %s is %zu, expected %zu\n", __FILE__, line, #name, got.name, want.name); \
            bad = 1;                                                                                         \
        }                                                                                                    \
    } while (0)

static void expect(int line, ant_stats_t want)
{
    ant_stats_t got;
    ant_stats(&got);
    int bad = 0;
    FIELD(requested_bytes);
    FIELD(used_bytes);
    FIELD(free_bytes);
    FIELD(wilderness_bytes);
    FIELD(mapped_bytes);
    FIELD(used_blocks);
    FIELD(free_blocks);
    FIELD(largest_free);
    FIELD(regions);
    FIELD(big_blocks);
    FIELD(allocations);
    FIELD(frees);
    if (bad)
        exit(1);
    CHECK_EQ(ant_check(), 0);
}

#define EXPECT(...) expect(__LINE__, (ant_stats_t){__VA_ARGS__})

int main(void)
{
    EXPECT(0);

    char *a = ant_malloc(100);
    size_t region = REGION - ANT_REGION_HEADER_SIZE;
    EXPECT(.requested_bytes = 100, .used_bytes = block(100), .wilderness_bytes = region - block(100),
           .mapped_bytes = REGION, .used_blocks = 1, .regions = 1, .allocations = 1);

    char *b = ant_malloc(300000);
    EXPECT(.requested_bytes = 300100, .used_bytes = block(100) + block(300000), .wilderness_bytes = region - block(100),
           .mapped_bytes = REGION + big_mapping(300000), .used_blocks = 2, .regions = 1, .big_blocks = 1,
           .allocations = 2);

    char *c = ant_calloc(10, 10);
    char *d = ant_malloc(1000);
    size_t carved = 2 * block(100) + block(1000);
    EXPECT(.requested_bytes = 301200, .used_bytes = carved + block(300000), .wilderness_bytes = region - carved,
           .mapped_bytes = REGION + big_mapping(300000), .used_blocks = 4, .regions = 1, .big_blocks = 1,
           .allocations = 4);

    ant_free(a);
    EXPECT(.requested_bytes = 301100, .used_bytes = block(100) + block(1000) + block(300000), .free_bytes = block(100),
           .wilderness_bytes = region - carved, .mapped_bytes = REGION + big_mapping(300000), .used_blocks = 3,
           .free_blocks = 1, .largest_free = block(100), .regions = 1, .big_blocks = 1, .allocations = 4, .frees = 1);

    /* Shrinking in place: too little is left over to split off. */
    c = ant_realloc(c, 50);
    EXPECT(.requested_bytes = 301050, .used_bytes = block(100) + block(1000) + block(300000), .free_bytes = block(100),
           .wilderness_bytes = region - carved, .mapped_bytes = REGION + big_mapping(300000), .used_blocks = 3,
           .free_blocks = 1, .largest_free = block(100), .regions = 1, .big_blocks = 1, .allocations = 5, .frees = 2);

    /* Growing past the used block above: c moves to the wilderness and its
     * old block merges with a's below it. */
    c = ant_realloc(c, 200);
    carved += block(200);
    EXPECT(.requested_bytes = 301200, .used_bytes = block(200) + block(1000) + block(300000),
           .free_bytes = 2 * block(100), .wilderness_bytes = region - carved,
           .mapped_bytes = REGION + big_mapping(300000), .used_blocks = 3, .free_blocks = 1,
           .largest_free = 2 * block(100), .regions = 1, .big_blocks = 1, .allocations = 6, .frees = 3);

    ant_free(b);
    ant_free(d);
    EXPECT(.requested_bytes = 200, .used_bytes = block(200), .free_bytes = carved - block(200),
           .wilderness_bytes = region - carved, .mapped_bytes = REGION, .used_blocks = 1, .free_blocks = 1,
           .largest_free = carved - block(200), .regions = 1, .allocations = 6, .frees = 5);

    /* The last block, freed: everything merges into one free block, too
     * small to go back to the wilderness. */
    ant_free(c);
    EXPECT(.free_bytes = carved, .wilderness_bytes = region - carved, .mapped_bytes = REGION, .free_blocks = 1,
           .largest_free = carved, .regions = 1, .allocations = 6, .frees = 6);

    /* A large request extends that free last block over the wilderness.
     * Freed, it stays a free block: since big block b was freed, the mmap
     * threshold is 300001 and the trim threshold twice that. */
    char *e = ant_malloc(200000);
    EXPECT(.requested_bytes = 200000, .used_bytes = block(200000), .wilderness_bytes = region - block(200000),
           .mapped_bytes = REGION, .used_blocks = 1, .regions = 1, .allocations = 7, .frees = 6);
    ant_free(e);
    EXPECT(.free_bytes = block(200000), .wilderness_bytes = region - block(200000), .mapped_bytes = REGION,
           .free_blocks = 1, .largest_free = block(200000), .regions = 1, .allocations = 7, .frees = 7);

    /* A request of b's size now comes from the region, not a mapping. */
    char *g = ant_malloc(300000);
    EXPECT(.requested_bytes = 300000, .used_bytes = block(300000), .wilderness_bytes = region - block(300000),
           .mapped_bytes = REGION, .used_blocks = 1, .regions = 1, .allocations = 8, .frees = 7);
    ant_free(g);
    EXPECT(.free_bytes = block(300000), .wilderness_bytes = region - block(300000), .mapped_bytes = REGION,
           .free_blocks = 1, .largest_free = block(300000), .regions = 1, .allocations = 8, .frees = 8);

    /* More than a region holds: the region grows (in place or by a second
     * mapping), and all of it is counted. */
    char *f[6];
    for (int i = 0; i < 6; i++)
        f[i] = ant_malloc(200000);
    ant_stats_t s;
    ant_stats(&s);
    CHECK_EQ(s.used_blocks, 6);
    CHECK_EQ(s.used_bytes, 6 * block(200000));
    CHECK(s.mapped_bytes >= 2 * REGION);
    CHECK_EQ(s.mapped_bytes, s.regions * ANT_REGION_HEADER_SIZE + s.used_bytes + s.wilderness_bytes);
    for (int i = 0; i < 6; i++)
        ant_free(f[i]);
    /* Free blocks below the raised trim threshold stay, each in its region. */
    ant_stats(&s);
    CHECK_EQ(s.used_blocks, 0);
    CHECK(s.free_blocks <= s.regions);
    CHECK_EQ(s.mapped_bytes, s.regions * ANT_REGION_HEADER_SIZE + s.free_bytes + s.wilderness_bytes);
    CHECK_EQ(s.allocations, 14);
    CHECK_EQ(s.frees, 14);
    CHECK_EQ(ant_check(), 0);
    return 0;
}
