/*
 * big_blocks.c: blocks of 2-8 MiB allocated, touched one byte per page,
 * and freed, over and over, four alive at a time (image buffers, file
 * contents read whole). The time is mostly page faults: an allocator that
 * keeps freed big blocks mapped hands back pages already present; one that
 * maps every block afresh pays a fault and a zeroed page per touch.
 *
 * Usage: big_blocks [blocks]
 */
#include "workload.h"

#define LIVE 4
#define PAGE 4096

static uint64_t release(unsigned char *p, size_t n, uint64_t sum)
{
    /* The first and last page written are enough to tell a block that
     * lost its contents. */
    if (p[0] != (unsigned char)n || p[(n - 1) / PAGE * PAGE] != (unsigned char)(n >> 8))
        corrupt("big_blocks", n);
    sum = mix(sum, n);
    free(p);
    return sum;
}

int main(int argc, char **argv)
{
    size_t blocks = scale_arg(argc, argv, 1000);
    unsigned char *live[LIVE] = {0};
    size_t sizes[LIVE] = {0};
    rng_t rng = {0x5eed0005};
    uint64_t sum = 0;

    for (size_t i = 0; i < blocks; i++) {
        size_t slot = rng_range(&rng, 0, LIVE - 1);
        if (live[slot])
            sum = release(live[slot], sizes[slot], sum);
        /* Not a multiple of the page, as real sizes rarely are. */
        size_t n = rng_range(&rng, 2u << 20, 8u << 20);
        unsigned char *p = must(malloc(n), "big_blocks");
        for (size_t at = 0; at < n; at += PAGE)
            p[at] = (unsigned char)(n >> 8);
        p[0] = (unsigned char)n;
        live[slot] = p;
        sizes[slot] = n;
    }
    for (size_t slot = 0; slot < LIVE; slot++)
        if (live[slot])
            sum = release(live[slot], sizes[slot], sum);
    print_checksum("big_blocks", sum);
    return 0;
}
