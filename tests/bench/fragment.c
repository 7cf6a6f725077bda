/*
 * fragment.c: swiss cheese. Each round allocates many small blocks, frees
 * every other one, leaving holes pinned apart by the survivors, then asks
 * for larger blocks that fit no hole, and frees those. The survivors live
 * on, so the holes of every round stay. Its number to watch is the peak
 * resident memory: an allocator that reuses the holes and the larger
 * blocks' space in later rounds needs little more than the survivors.
 *
 * Usage: fragment [small blocks per round]
 */
#include "workload.h"

#include <string.h>

#define ROUNDS 6

int main(int argc, char **argv)
{
    size_t per_round = scale_arg(argc, argv, 250000);
    size_t large_count = per_round / 16;
    unsigned char **small = must(calloc(per_round * ROUNDS, sizeof *small), "fragment");
    unsigned char **large = must(calloc(large_count, sizeof *large), "fragment");
    size_t survivors = 0;
    rng_t rng = {0x5eed0004};
    uint64_t sum = 0;

    for (int round = 0; round < ROUNDS; round++) {
        size_t first = survivors;
        for (size_t i = 0; i < per_round; i++) {
            size_t n = rng_range(&rng, 16, 64);
            unsigned char *p = must(malloc(n), "fragment");
            memset(p, (int)n, n);
            small[first + i] = p;
        }
        /* Every other block goes: the holes, each between two survivors. */
        for (size_t i = 0; i < per_round; i++) {
            if (i % 2) {
                free(small[first + i]);
            } else {
                small[survivors++] = small[first + i];
            }
        }
        for (size_t i = 0; i < large_count; i++) {
            size_t n = rng_range(&rng, 512, 4096);
            large[i] = must(malloc(n), "fragment");
            memset(large[i], (int)(i & 0xff), n);
        }
        for (size_t i = 0; i < large_count; i++) {
            sum = mix(sum, large[i][0]);
            free(large[i]);
        }
    }
    for (size_t i = 0; i < survivors; i++) {
        unsigned char n = small[i][0];
        if (n < 16 || n > 64 || small[i][n - 1] != n)
            corrupt("fragment", i);
        sum = mix(sum, n);
        free(small[i]);
    }
    free(small);
    free(large);
    print_checksum("fragment", sum);
    return 0;
}
