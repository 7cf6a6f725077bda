/*
 * workload.h: what every benchmark workload shares. A workload is a plain
 * malloc/free program: it knows nothing of the allocator under it, draws
 * from a fixed-seed generator, and prints a checksum of the bytes it read
 * back, never of addresses, so every allocator must print the same line.
 */
#ifndef ANT_BENCH_WORKLOAD_H
#define ANT_BENCH_WORKLOAD_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* xorshift64*: fast enough not to weigh on the allocator's share of the
 * time, and the same sequence on every machine. */
typedef struct {
    uint64_t state;
} rng_t;

static inline uint64_t rng_next(rng_t *r)
{
    r->state ^= r->state >> 12;
    r->state ^= r->state << 25;
    r->state ^= r->state >> 27;
    return r->state * 0x2545f4914f6cdd1dull;
}

/* A value in [lo, hi]; the slight modulo bias does not matter here. */
static inline size_t rng_range(rng_t *r, size_t lo, size_t hi)
{
    return lo + (size_t)(rng_next(r) % (hi - lo + 1));
}

static inline uint64_t mix(uint64_t sum, uint64_t value)
{
    return (sum ^ value) * 0x100000001b3ull;
}

/* A workload's scale: its first argument when given, so a quick run can be
 * asked for by hand, else the default the benchmark was tuned with. */
static inline size_t scale_arg(int argc, char **argv, size_t fallback)
{
    if (argc > 1) {
        size_t n = strtoull(argv[1], 0, 10);
        if (n)
            return n;
    }
    return fallback;
}

static inline void *must(void *p, const char *what)
{
    if (!p) {
        fprintf(stderr, "%s: out of memory\n", what);
        exit(2);
    }
    return p;
}

/* Bytes read back are not the bytes written: the allocator under us lost
 * or moved data. Exits, so the benchmark shows the run as failed. */
static inline void corrupt(const char *what, size_t where)
{
    fprintf(stderr, "%s: data read back differs at %zu\n", what, where);
    exit(3);
}

static inline void print_checksum(const char *name, uint64_t sum)
{
    printf("%s checksum %016llx\n", name, (unsigned long long)sum);
}

#endif
