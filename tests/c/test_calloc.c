/*
 * test_calloc.c: ant_calloc hands out zeros, also where the block reuses
 * dirty memory and where it is a big block of its own.
 */
#include "check.h"

#include <ant/ant.h>

static void all_zero(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        CHECK_EQ(p[i], 0);
}

static void zeros_over_dirty_memory(void)
{
    const size_t sizes[] = {1, 16, 100, 1000, 5000, 100000};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t n = sizes[i];
        void *guard = ant_malloc(8);
        unsigned char *dirty = ant_malloc(n);
        CHECK(dirty != 0);
        memset(dirty, 0xff, n);
        ant_free(dirty);
        unsigned char *p = ant_calloc(n, 1);
        CHECK(p != 0);
        CHECK_EQ(ant_usable_size(p), n);
        all_zero(p, n);
        ant_free(p);
        ant_free(guard);
    }
}

static void zeros_in_a_big_block(void)
{
    size_t n = (size_t)1 << 20;
    unsigned char *p = ant_calloc(n / 8, 8);
    CHECK(p != 0);
    all_zero(p, n);
    memset(p, 0xee, n);
    ant_free(p);
    p = ant_calloc(n, 1);
    CHECK(p != 0);
    all_zero(p, n);
    ant_free(p);
}

static void zero_counts(void)
{
    void *a = ant_calloc(0, 16);
    void *b = ant_calloc(16, 0);
    CHECK(a != 0 && b != 0 && a != b);
    CHECK_EQ(ant_usable_size(a), 0);
    ant_free(a);
    ant_free(b);
}

static void product_is_the_size(void)
{
    unsigned char *p = ant_calloc(7, 13);
    CHECK(p != 0);
    CHECK_EQ(ant_usable_size(p), 91);
    all_zero(p, 91);
    ant_free(p);
}

int main(void)
{
    zeros_over_dirty_memory();
    zeros_in_a_big_block();
    zero_counts();
    product_is_the_size();
    CHECK_EQ(ant_check(), 0);
    return 0;
}
