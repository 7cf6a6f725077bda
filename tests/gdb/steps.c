/*
 * steps.c: every path of the allocator once, each between two markers, for
 * steps.py, which stops the program at every instruction between them and
 * checks the heap at each stop.
 *
 * Before the first path a used block is overflowed by one byte: every
 * check, at every stop, must find that and nothing else. The paths set up
 * the heap they need (free neighbours, a full cache bin, a region out of
 * room) outside the markers. Run with ANT_OPTIONS as steps.py sets them:
 * one arena, caches of 4 blocks a size, 64 KiB regions, a 512 MiB mmap
 * threshold, so that a region fills and a new one is made without touching
 * more than a few pages. With a quarantine (ANT_OPTIONS=quarantine=4k, run
 * as gdb.steps.quarantine) it takes the quarantine's paths instead.
 */
#include <ant/ant.h>
#include <ant/layout.h>

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* The markers: steps.py stops at path() and steps to path_end(). */
__attribute__((noinline)) void path(const char *name);
__attribute__((noinline)) void path_end(void);
__attribute__((noinline)) void path(const char *name)
{
    __asm__ volatile("" : : "r"(name) : "memory");
}
__attribute__((noinline)) void path_end(void)
{
    __asm__ volatile("" ::: "memory");
}

#define PATH(name, ...) \
    do {                \
        path(name);     \
        __VA_ARGS__;    \
        path_end();     \
    } while (0)

/* Blocks above the thread caches' largest go to the arena. */
#define ARENA_SIZE 1500
#define SMALL 100

/* The static library's root, for the options it started with. */
extern ant_root_t ant_root;

static void *keep[4096];
static unsigned kept;

/* A block the paths leave alone, holding its neighbours apart. */
static void *pin(size_t size)
{
    void *p = ant_malloc(size);
    if (kept < sizeof keep / sizeof keep[0])
        keep[kept++] = p;
    return p;
}

static int first_free(const ant_block_info_t *block, void *arg)
{
    if (block->state != ANT_BLOCK_FREE)
        return 0;
    *(size_t *)arg = block->size;
    return 1;
}

/* Fills every hole of the heap, lowest first: first fit takes the lowest
 * free block that fits, whole when it fits exactly (a malloc of a block's
 * size less its node and tail). After this, blocks are carved from the
 * wilderness one after the other, each right after the one before. */
static void fill_holes(void)
{
    size_t size;
    while (kept < sizeof keep / sizeof keep[0] && ant_walk(first_free, &size))
        pin(size - ANT_NODE_SIZE - ANT_TAIL_SIZE);
}

static void *other_thread_frees(void *arg)
{
    PATH("free from another thread, into its cache", ant_free(arg));
    void *big = ant_malloc(ARENA_SIZE);
    pin(ARENA_SIZE);
    PATH("free from another thread, to the arena", ant_free(big));
    for (int i = 3; i <= 5; i++)
        ant_free(ant_malloc(100 * i));
    /* Its cache, holding those, goes back when the thread ends. */
    path("thread exit");
    return 0;
}

/* A 4 KiB quarantine holds three blocks of QUARANTINED_SIZE: the fourth
 * freed lets the oldest go. */
#define QUARANTINED_SIZE 1000

static void quarantine_paths(void)
{
    fill_holes();
    void *a = ant_malloc(QUARANTINED_SIZE), *b = ant_malloc(QUARANTINED_SIZE);
    pin(64);
    void *more[3];
    for (int i = 0; i < 3; i++) {
        more[i] = ant_malloc(QUARANTINED_SIZE);
        pin(64);
    }
    PATH("free into the quarantine", ant_free(a));
    ant_free(b);
    ant_free(more[0]);
    PATH("free into the quarantine, the oldest leaving it", ant_free(more[1]));
    PATH("free into the quarantine, the oldest leaving it, merging", ant_free(more[2]));
    /* A block larger than the quarantine, at the top of the region: every
     * block leaves, itself last, back to the wilderness. */
    void *top = ant_malloc(5000);
    PATH("free into the quarantine, every block leaving it, the last to the wilderness", ant_free(top));
}

int main(void)
{
    unsigned char *victim = ant_malloc(40);
    pin(40);
    victim[40] = 'X';
    if (ant_root.quarantine) {
        quarantine_paths();
        PATH("ant_check() holding each block it checks", ant_check());
        puts("steps: done");
        return 0;
    }

    void *p, *q, *r;
    /* While the region holds no hole, a block is carved right after the
     * one before: the used block after r keeps it from growing. */
    r = ant_malloc(ARENA_SIZE);
    pin(64);
    PATH("realloc moving the block", r = ant_realloc(r, 2 * ARENA_SIZE));
    pin(64);

    p = ant_malloc(SMALL);
    PATH("free into the thread cache", ant_free(p));
    PATH("malloc from the thread cache", p = ant_malloc(SMALL));
    PATH("malloc through the arena, carving the wilderness", q = ant_malloc(ARENA_SIZE));
    pin(ARENA_SIZE);
    PATH("free through the arena", ant_free(q));
    PATH("malloc through the arena, splitting a free block", q = ant_malloc(200));
    PATH("calloc through the arena", r = ant_calloc(1, ARENA_SIZE - 300));
    PATH("calloc through the thread cache", ant_free(ant_calloc(2, 40)));
    ant_free(r);
    ant_free(q);

    /* below | x | above between used blocks, each freed in its turn; first
     * fit fills the holes again from their start. */
    fill_holes();
    void *below = ant_malloc(ARENA_SIZE), *x = ant_malloc(ARENA_SIZE), *above = ant_malloc(ARENA_SIZE);
    pin(64);
    ant_free(below);
    PATH("free merging with the free block below", ant_free(x));
    below = ant_malloc(ARENA_SIZE);
    x = ant_malloc(ARENA_SIZE);
    ant_free(above);
    PATH("free merging with the free block above", ant_free(x));
    x = ant_malloc(ARENA_SIZE);
    above = ant_malloc(ARENA_SIZE);
    ant_free(below);
    ant_free(above);
    PATH("free merging with both neighbours", ant_free(x));
    for (int i = 0; i < 3; i++)
        pin(ARENA_SIZE);

    fill_holes();
    q = ant_malloc(ARENA_SIZE);
    pin(ARENA_SIZE);
    PATH("realloc shrinking in place", q = ant_realloc(q, 600));
    PATH("realloc growing over its free neighbour", q = ant_realloc(q, ARENA_SIZE - 200));
    /* A hole that holds the block only past a lead to split off. */
    fill_holes();
    p = ant_malloc(3000);
    pin(64);
    ant_free(p);
    PATH("aligned_alloc splitting a lead block", p = ant_aligned_alloc(512, 700));
    ant_free(p);

    /* The wilderness: the last block grows into it, then goes back. */
    fill_holes();
    q = ant_malloc(ARENA_SIZE);
    PATH("realloc growing into the wilderness", q = ant_realloc(q, 3 * ARENA_SIZE));
    PATH("free of the last block, back to the wilderness", ant_free(q));

    /* 64 KiB regions: this one fills, grows in place, then a request that
     * cannot fit its 256 MiB of room takes a new region. */
    PATH("malloc growing the region", q = ant_malloc(100u << 10));
    PATH("malloc making a new region", r = ant_malloc(300u << 20));
    PATH("free of a whole region's only block, dropping the region", ant_free(r));
    ant_free(q);

    PATH("malloc of a big block", p = ant_malloc(600u << 20));
    PATH("realloc of a big block, moving its mapping", p = ant_realloc(p, 700u << 20));
    PATH("free of a big block", ant_free(p));

    /* A cache bin holds 4 blocks: the fifth free sends two back. */
    void *five[5];
    for (int i = 0; i < 5; i++)
        five[i] = ant_malloc(300);
    pin(300);
    for (int i = 0; i < 4; i++)
        ant_free(five[i]);
    PATH("free into a full cache bin, flushing half of it", ant_free(five[4]));

    p = ant_malloc(SMALL + 32);
    pthread_t t;
    pthread_create(&t, 0, other_thread_frees, p);
    pthread_join(t, 0);
    path_end();

    /* It finds the planted overflow, reports it and goes on
     * (on_error=report). */
    PATH("ant_check() holding each block it checks", ant_check());

    for (unsigned i = 0; i < kept; i++)
        if (keep[i] != victim)
            ant_free(keep[i]);
    puts("steps: done");
    return 0;
}
