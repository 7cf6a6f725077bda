/*
 * test_aligned.c: ant_aligned_alloc for every power of two from 8 to 4 MiB,
 * in regions and in big blocks, with sizes below, at and above the
 * alignment.
 */
#include "check.h"

#include <ant/ant.h>

static void fill_and_verify(unsigned char *p, size_t n, unsigned char seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(seed + i);
    for (size_t i = 0; i < n; i++)
        CHECK_EQ(p[i], (unsigned char)(seed + i));
}

static void every_alignment(void)
{
    for (size_t align = 8; align <= ((size_t)4 << 20); align <<= 1) {
        const size_t sizes[] = {0, 1, 24, align - 1, align, align + 1, 3 * align};
        void *blocks[sizeof sizes / sizeof sizes[0]];
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
            unsigned char *p = ant_aligned_alloc(align, sizes[i]);
            CHECK(p != 0);
            CHECK_EQ((uintptr_t)p % align, 0);
            CHECK_EQ((uintptr_t)p % 16, 0);
            CHECK_EQ(ant_usable_size(p), sizes[i]);
            fill_and_verify(p, sizes[i], (unsigned char)i);
            blocks[i] = p;
        }
        CHECK_EQ(ant_check(), 0);
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
            ant_free(blocks[i]);
        CHECK_EQ(ant_check(), 0);
    }
}

/*
 * The alignment is found by splitting a lead block off the front. When the
 * region's last block is a small free one, the aligned block is carved by
 * extending it over the wilderness, and the lead block then holds bytes that
 * were wilderness: they must be poison like any free mem.
 */
static void lead_block_from_the_wilderness(void)
{
    void *keep = ant_malloc(40);
    void *last = ant_malloc(40);
    ant_free(last);
    for (size_t align = 32; align <= 8192; align <<= 1) {
        void *p = ant_aligned_alloc(align, 16);
        CHECK(p != 0);
        CHECK_EQ((uintptr_t)p % align, 0);
        CHECK_EQ(ant_check(), 0);
        void *tail = ant_malloc(40);
        ant_free(tail);
        ant_free(p);
        CHECK_EQ(ant_check(), 0);
    }
    ant_free(keep);
    CHECK_EQ(ant_check(), 0);
}

int main(void)
{
    lead_block_from_the_wilderness();
    every_alignment();
    return 0;
}
