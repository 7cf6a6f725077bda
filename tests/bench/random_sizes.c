/*
 * random_sizes.c: one thread, blocks of random sizes over a wide range, a
 * live set that grows and shrinks, frees in random order: the pattern of
 * mimalloc-bench's alloc-test, cfrac and espresso, single-threaded rows
 * where Ant is well behind glibc.
 *
 * A size is drawn from classes (8 << k, 16 << k] for k = 0..14, class k
 * with probability 2^-(k+1) (the last takes what is left), uniform within
 * it: half the blocks are 9-16 bytes, fifteen in sixteen at most 128, one
 * in 512 over 4 KiB, up to 256 KiB (97 bytes on average); every class
 * holds about the same share of the bytes. The number of live blocks
 * follows a triangle wave between LOW and HIGH, each wave PERIOD
 * operations long; an operation allocates or frees, three times in four
 * towards the wave. A free takes a live block at random. Every block is
 * filled (up to 4 KiB; past that one byte a page) and its ends checked
 * when freed.
 *
 * Usage: random_sizes [operations]
 */
#include "workload.h"

#include <string.h>

#define CLASSES 15
#define LOW 1000
#define HIGH 100000
#define PERIOD 2000000

static size_t pick_size(rng_t *rng)
{
    uint64_t r = rng_next(rng);
    unsigned k = (unsigned)__builtin_ctzll((r & ((1ull << (CLASSES - 1)) - 1)) | (1ull << (CLASSES - 1)));
    size_t base = (size_t)8 << k;
    return base + 1 + (size_t)((r >> 16) % base);
}

/* The live set's target after `op` operations. */
static size_t target(size_t op)
{
    size_t phase = op % PERIOD, half = PERIOD / 2;
    size_t up = phase < half ? phase : PERIOD - phase;
    return LOW + (HIGH - LOW) * up / half;
}

static void fill(unsigned char *p, size_t n, unsigned char tag)
{
    memcpy(p, &n, sizeof n); /* n is 9 at least */
    if (n <= 4096) {
        memset(p + sizeof n, tag, n - sizeof n);
    } else {
        for (size_t at = 4096; at < n; at += 4096)
            p[at] = tag;
        memset(p + sizeof n, tag, 4096 - sizeof n);
    }
    p[n - 1] = tag;
}

int main(int argc, char **argv)
{
    size_t operations = scale_arg(argc, argv, 10000000);
    unsigned char **live = must(malloc(HIGH * 2 * sizeof *live), "random_sizes");
    size_t *sizes = must(malloc(HIGH * 2 * sizeof *sizes), "random_sizes");
    size_t count = 0;
    rng_t rng = {0x5eed0006};
    uint64_t sum = 0;

    for (size_t i = 0; i < operations; i++) {
        uint64_t r = rng_next(&rng);
        int grow = count < target(i);
        int allocate = (r & 3) ? grow : !grow;
        if (count == 0)
            allocate = 1;
        if (count == HIGH * 2)
            allocate = 0;
        if (allocate) {
            size_t n = pick_size(&rng);
            unsigned char *p = must(malloc(n), "random_sizes");
            fill(p, n, (unsigned char)(i & 0xff));
            live[count] = p;
            sizes[count] = n;
            count++;
        } else {
            size_t at = (size_t)((r >> 2) % count);
            unsigned char *p = live[at];
            size_t n = sizes[at], stored;
            memcpy(&stored, p, sizeof n);
            if (stored != n || p[sizeof n] != p[n - 1])
                corrupt("random_sizes", i);
            sum = mix(sum, n + p[n - 1]);
            free(p);
            live[at] = live[--count];
            sizes[at] = sizes[count];
        }
    }
    for (size_t at = 0; at < count; at++) {
        sum = mix(sum, sizes[at] + live[at][sizes[at] - 1]);
        free(live[at]);
    }
    free(live);
    free(sizes);
    print_checksum("random_sizes", sum);
    return 0;
}
