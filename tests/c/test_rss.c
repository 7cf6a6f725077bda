/*
 * test_rss.c: memory goes back to the OS. 200 MiB in blocks below the mmap
 * threshold (in regions) and 200 MiB in big blocks are allocated, touched
 * and freed, in several orders; each time the resident set must fall back
 * to near where it started. Freed region blocks merge into one free last
 * block whose pages are released; big blocks are unmapped.
 */
#include "check.h"

#include <ant/ant.h>
#include <unistd.h>

#define TOTAL ((size_t)200 << 20)
#define MAX_BLOCKS 4096

static size_t resident(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    CHECK(f != 0);
    unsigned long size, pages;
    CHECK(fscanf(f, "%lu %lu", &size, &pages) == 2);
    fclose(f);
    return (size_t)pages * (size_t)sysconf(_SC_PAGESIZE);
}

enum order { FORWARD, BACKWARD, SHUFFLED };

static void round_trip(size_t block, enum order order)
{
    static void *blocks[MAX_BLOCKS];
    size_t n = TOTAL / block;
    CHECK(n <= MAX_BLOCKS);
    size_t before = resident();
    for (size_t i = 0; i < n; i++) {
        blocks[i] = ant_malloc(block);
        CHECK(blocks[i] != 0);
        memset(blocks[i], (int)i, block);
    }
    size_t full = resident();
    CHECK(full >= before + TOTAL * 9 / 10);

    if (order == SHUFFLED) {
        uint64_t rng = 42;
        for (size_t i = n - 1; i > 0; i--) {
            rng = rng * 6364136223846793005ull + 1442695040888963407ull;
            size_t k = (size_t)(rng >> 33) % (i + 1);
            void *t = blocks[i];
            blocks[i] = blocks[k];
            blocks[k] = t;
        }
    }
    for (size_t i = 0; i < n; i++)
        ant_free(blocks[order == BACKWARD ? n - 1 - i : i]);
    size_t after = resident();
    if (after > before + TOTAL / 10) {
        fprintf(stderr, "blocks of %zu bytes: resident %zu MiB before, %zu MiB full, %zu MiB after the frees\n", block,
                before >> 20, full >> 20, after >> 20);
        exit(1);
    }
    CHECK_EQ(ant_check(), 0);
}

int main(void)
{
    const size_t in_regions = (size_t)100 << 10, big = (size_t)1 << 20;
    round_trip(in_regions, FORWARD);
    round_trip(in_regions, BACKWARD);
    round_trip(in_regions, SHUFFLED);
    round_trip(big, SHUFFLED);
    ant_stats_t s;
    ant_stats(&s);
    CHECK_EQ(s.used_blocks, 0);
    CHECK_EQ(s.big_blocks, 0);
    return 0;
}
