/*
 * clean.c: every way a program meets Ant, done right: malloc, calloc,
 * realloc in place, moved and through big mappings, aligned blocks, the
 * usable size, thread caches and their threads' exits, a fork, and the
 * heap's own check, statistics and walk. Under memcheck, with Ant built
 * with ANT_VALGRIND, not one error may show: neither the program's nor
 * one inside Ant's records, which memcheck must not see the allocator
 * touch. Every byte a block holds is read and branched on, so a byte that
 * Ant left undefined, or made so, is an error too.
 */
#include <ant/ant.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define BIG ((size_t)1 << 20)

static int failures;

static void expect(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "clean: %s\n", what);
        failures++;
    }
}

/* A branch on every byte, which memcheck checks for definedness. */
static int all_are(const void *mem, size_t n, unsigned char value)
{
    const unsigned char *p = mem;
    int same = 1;
    for (size_t i = 0; i < n; i++)
        if (p[i] != value)
            same = 0;
    return same;
}

static void *churn(void *arg)
{
    unsigned seed = (unsigned)(uintptr_t)arg;
    void *held[64] = {0};
    size_t sizes[64] = {0};
    for (int i = 0; i < 3000; i++) {
        unsigned k = (unsigned)rand_r(&seed) % 64;
        if (held[k])
            expect(all_are(held[k], sizes[k], (unsigned char)k), "a thread's block changed");
        ant_free(held[k]);
        sizes[k] = 1 + (size_t)rand_r(&seed) % 900;
        held[k] = ant_malloc(sizes[k]);
        memset(held[k], (int)k, sizes[k]);
    }
    for (unsigned k = 0; k < 64; k++)
        ant_free(held[k]);
    return 0;
}

static void reallocs(void)
{
    unsigned char *p = ant_malloc(40);
    memset(p, 7, 40);
    /* In place, moved, into a big mapping, a bigger one, and back. */
    size_t sizes[] = {48, 40, 200, 3000, BIG, 2 * BIG, 3 * BIG, 5000, 24};
    size_t had = 40;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        p = ant_realloc(p, sizes[i]);
        size_t kept = had < sizes[i] ? had : sizes[i];
        expect(all_are(p, kept, 7), "realloc lost bytes");
        memset(p + kept, 7, sizes[i] - kept);
        had = sizes[i];
    }
    expect(ant_usable_size(p) == 24, "the usable size");
    ant_free(p);
    p = ant_realloc(0, 16);
    memset(p, 1, 16);
    expect(ant_realloc(p, 0) == 0, "realloc to 0 bytes");
}

static int count_block(const ant_block_info_t *info, void *arg)
{
    (void)info;
    ++*(size_t *)arg;
    return 0;
}

int main(void)
{
    void *small[100];
    for (int i = 0; i < 100; i++) {
        small[i] = ant_malloc((size_t)(i * 13 % 500));
        memset(small[i], i, (size_t)(i * 13 % 500));
    }
    for (int i = 0; i < 100; i += 2)
        ant_free(small[i]);

    char *zeros = ant_calloc(300, 3);
    char *big_zeros = ant_calloc(BIG, 2);
    expect(all_are(zeros, 900, 0) && all_are(big_zeros, 2 * BIG, 0), "calloc's bytes are not 0");

    size_t aligns[] = {64, 4096, (size_t)1 << 16, (size_t)1 << 21};
    for (size_t i = 0; i < sizeof aligns / sizeof aligns[0]; i++) {
        void *a = ant_aligned_alloc(aligns[i], 100);
        expect((uintptr_t)a % aligns[i] == 0, "an aligned block is not aligned");
        memset(a, 3, 100);
        ant_free(a);
    }

    reallocs();

    pthread_t threads[4];
    for (uintptr_t t = 0; t < 4; t++)
        pthread_create(&threads[t], 0, churn, (void *)(t + 1));
    for (int t = 0; t < 4; t++)
        pthread_join(threads[t], 0);

    pid_t child = fork();
    if (child == 0) {
        churn((void *)9);
        exit(failures);
    }
    int status = -1;
    waitpid(child, &status, 0);
    expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the forked child failed");

    ant_stats_t stats;
    ant_stats(&stats);
    size_t blocks = 0;
    ant_walk(count_block, &blocks);
    expect(stats.used_blocks > 0 && blocks >= stats.used_blocks, "stats and walk disagree");
    expect(ant_check() == 0, "ant_check found problems");

    for (int i = 1; i < 100; i += 2) {
        expect(all_are(small[i], (size_t)(i * 13 % 500), (unsigned char)i), "a block changed");
        ant_free(small[i]);
    }
    ant_free(zeros);
    ant_free(big_zeros);
    return failures;
}
