/*
 * bench_pair.c: the cost of one malloc/free pair, Ant against the C
 * library's malloc measured in the same run. A benchmark, not a test: it
 * prints numbers and asserts nothing about time.
 *
 * Usage: bench_pair [pairs]   (default 2,000,000 per size; fewer for large
 * sizes, whose every free poisons the whole block)
 */
#include <ant/ant.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

typedef void *(*alloc_fn)(size_t);
typedef void (*free_fn)(void *);

/* Called through volatile pointers, so the compiler cannot pair up and
 * remove the C library's malloc and free. */
static alloc_fn volatile libc_malloc = malloc;
static free_fn volatile libc_free = free;
static alloc_fn volatile ant_alloc = ant_malloc;
static free_fn volatile ant_release = ant_free;

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

/* Nanoseconds per pair, the best of three runs. A few blocks stay live so
 * that the pair does not always land on an empty heap. */
static double per_pair(alloc_fn a, free_fn f, size_t size, size_t pairs)
{
    double best = 0;
    for (int round = 0; round < 3; round++) {
        void *live[8];
        for (int i = 0; i < 8; i++)
            live[i] = a(size);
        double start = now();
        for (size_t i = 0; i < pairs; i++) {
            void *p = a(size);
            if (!p)
                abort();
            *(volatile char *)p = 1;
            f(p);
        }
        double ns = (now() - start) / (double)pairs;
        for (int i = 0; i < 8; i++)
            f(live[i]);
        if (round == 0 || ns < best)
            best = ns;
    }
    return best;
}

int main(int argc, char **argv)
{
    size_t pairs = argc > 1 ? strtoull(argv[1], 0, 10) : 2000000;
    const size_t sizes[] = {16, 64, 256, 1024, 4096, 65536};
    printf("%8s %10s %12s %12s %8s\n", "size", "pairs", "glibc ns", "ant ns", "ratio");
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t n = pairs;
        if (n > ((size_t)4 << 30) / sizes[i])
            n = ((size_t)4 << 30) / sizes[i];
        double libc = per_pair(libc_malloc, libc_free, sizes[i], n);
        double ant = per_pair(ant_alloc, ant_release, sizes[i], n);
        printf("%8zu %10zu %12.1f %12.1f %8.2f\n", sizes[i], n, libc, ant, ant / libc);
    }
    return 0;
}
