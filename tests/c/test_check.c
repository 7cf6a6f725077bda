/*
 * test_check.c: ant_check() finds nothing on a clean heap, whatever its
 * shape: before the first allocation, with blocks of every kind, with free
 * blocks between used ones, with big blocks only, and empty again.
 */
#include "check.h"

#include <ant/ant.h>

int main(void)
{
    CHECK_EQ(ant_check(), 0);

    void *blocks[1000];
    for (size_t i = 0; i < 1000; i++) {
        size_t size = (i * 7919) % 5000;
        blocks[i] = i % 3 == 0 ? ant_malloc(size) : i % 3 == 1 ? ant_calloc(1, size) : ant_aligned_alloc(64, size);
        CHECK(blocks[i] != 0);
    }
    CHECK_EQ(ant_check(), 0);
    for (size_t i = 0; i < 1000; i += 3)
        ant_free(blocks[i]);
    CHECK_EQ(ant_check(), 0);
    for (size_t i = 1; i < 1000; i += 3)
        blocks[i] = ant_realloc(blocks[i], 6000 - (i * 7919) % 5000);
    CHECK_EQ(ant_check(), 0);
    for (size_t i = 1; i < 1000; i++)
        if (i % 3)
            ant_free(blocks[i]);
    CHECK_EQ(ant_check(), 0);

    void *big[8];
    for (size_t i = 0; i < 8; i++)
        big[i] = ant_aligned_alloc((size_t)4096 << i, (size_t)300000 + i);
    CHECK_EQ(ant_check(), 0);
    for (size_t i = 0; i < 8; i++)
        ant_free(big[i]);
    CHECK_EQ(ant_check(), 0);
    return 0;
}
