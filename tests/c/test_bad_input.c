/*
 * test_bad_input.c: requests no allocator can meet and arguments that are
 * wrong. Sizes past PTRDIFF_MAX and a calloc whose product overflows give
 * NULL with ENOMEM; a realloc that fails leaves the old block as it was;
 * an alignment that is not a power of two gives NULL with EINVAL; freeing
 * NULL does nothing. The heap is sound afterwards.
 */
#include "check.h"

#include <ant/ant.h>
#include <errno.h>

#define NO_MEMORY(call)          \
    do {                         \
        errno = 0;               \
        CHECK((call) == 0);      \
        CHECK_EQ(errno, ENOMEM); \
    } while (0)

#define BAD_ARGUMENT(call)       \
    do {                         \
        errno = 0;               \
        CHECK((call) == 0);      \
        CHECK_EQ(errno, EINVAL); \
    } while (0)

static void intact(const unsigned char *p, size_t n)
{
    CHECK_EQ(ant_usable_size(p), n);
    for (size_t i = 0; i < n; i++)
        CHECK_EQ(p[i], (unsigned char)i);
}

int main(void)
{
    const size_t past_ptrdiff = (size_t)PTRDIFF_MAX + 1;
    ant_stats_t before, after;
    ant_stats(&before);

    NO_MEMORY(ant_malloc(SIZE_MAX));
    NO_MEMORY(ant_malloc(SIZE_MAX - 4096));
    NO_MEMORY(ant_malloc(past_ptrdiff));
    NO_MEMORY(ant_malloc((size_t)PTRDIFF_MAX));
    NO_MEMORY(ant_calloc(SIZE_MAX, 1));
    NO_MEMORY(ant_calloc(SIZE_MAX / 2 + 1, 2));
    NO_MEMORY(ant_calloc(2, SIZE_MAX / 2 + 1));
    NO_MEMORY(ant_calloc((size_t)1 << 32, (size_t)1 << 32));
    NO_MEMORY(ant_calloc(past_ptrdiff, 1));
    NO_MEMORY(ant_aligned_alloc(16, SIZE_MAX));
    NO_MEMORY(ant_aligned_alloc(4096, past_ptrdiff));
    NO_MEMORY(ant_aligned_alloc(past_ptrdiff, 16));
    NO_MEMORY(ant_realloc(0, SIZE_MAX));

    BAD_ARGUMENT(ant_aligned_alloc(0, 16));
    BAD_ARGUMENT(ant_aligned_alloc(3, 16));
    BAD_ARGUMENT(ant_aligned_alloc(24, 16));
    BAD_ARGUMENT(ant_aligned_alloc(48, 100));
    BAD_ARGUMENT(ant_aligned_alloc(SIZE_MAX, 16));

    ant_stats(&after);
    CHECK_EQ(after.used_blocks, before.used_blocks);
    CHECK_EQ(after.allocations, before.allocations);

    unsigned char *p = ant_malloc(100);
    for (size_t i = 0; i < 100; i++)
        p[i] = (unsigned char)i;
    NO_MEMORY(ant_realloc(p, SIZE_MAX));
    intact(p, 100);
    NO_MEMORY(ant_realloc(p, past_ptrdiff));
    intact(p, 100);
    unsigned char *big = ant_malloc(300000);
    for (size_t i = 0; i < 100; i++)
        big[i] = (unsigned char)i;
    NO_MEMORY(ant_realloc(big, SIZE_MAX));
    CHECK_EQ(ant_usable_size(big), 300000);
    for (size_t i = 0; i < 100; i++)
        CHECK_EQ(big[i], (unsigned char)i);

    ant_stats(&before);
    ant_free(0);
    ant_stats(&after);
    CHECK(memcmp(&before, &after, sizeof before) == 0);
    CHECK_EQ(ant_usable_size(0), 0);

    ant_free(p);
    ant_free(big);
    CHECK_EQ(ant_check(), 0);
    return 0;
}
