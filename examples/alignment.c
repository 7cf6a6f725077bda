/*
 * alignment.c: why every mem is a multiple of 16, and what aligned_alloc
 * does for more.
 *
 * malloc's memory must suit any object the program may put there, so its
 * address must be a multiple of the strictest alignment of a fundamental
 * type: on x86-64 and AArch64 that is 16 bytes (long double, __int128,
 * max_align_t). Ant keeps its node 32 bytes long and every block a multiple
 * of 16, so a mem 16 bytes aligned is followed by a node, and a mem, that
 * are too. A request for more, such as ant_aligned_alloc(256, ...), finds a
 * free stretch and cuts a lead block off its front, just long enough that
 * the mem after it falls on a multiple of 256; the lead stays a free block.
 *
 * Offsets count from the start of the region, so the output is the same on
 * every run.
 */
/* setenv() is POSIX, not C11. */
#define _POSIX_C_SOURCE 200809L

#include <ant/ant.h>
#include <ant/layout.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define MAX_BLOCKS 16

struct view {
    ant_block_info_t blocks[MAX_BLOCKS];
    size_t count;
};

/* ant_walk() holds the heap's lock: the callback only copies. */
static int collect(const ant_block_info_t *block, void *arg)
{
    struct view *v = arg;
    if (v->count == MAX_BLOCKS)
        return 1;
    v->blocks[v->count++] = *block;
    return 0;
}

static const unsigned char *region_start;

static size_t offset_of(const void *mem)
{
    return (size_t)((const unsigned char *)mem - region_start);
}

static void *take(size_t size)
{
    void *mem = ant_malloc(size);
    if (!mem)
        exit(1);
    if (!region_start)
        region_start = (const unsigned char *)mem - ANT_NODE_SIZE - ANT_REGION_HEADER_SIZE;
    printf("  ant_malloc(%zu)%*s mem offset %4zu = 16 x %zu\n", size, size < 10 ? 2 : 1, "", offset_of(mem),
           offset_of(mem) / 16);
    return mem;
}

static void show(void)
{
    struct view v = {.count = 0};
    ant_walk(collect, &v);
    printf("\n  mem offset   size  requested  state\n");
    for (size_t i = 0; i < v.count; i++) {
        const ant_block_info_t *b = &v.blocks[i];
        printf("  %10zu  %5zu  %9zu  %s\n", offset_of(b->mem), b->size, b->requested,
               b->state == ANT_BLOCK_FREE ? "free" : "used");
    }
}

int main(void)
{
    /* Thread caches off, so that the freed lead shows as a free block. */
    setenv("ANT_OPTIONS", "fit=first:cache=0", 1);
    printf("The region starts at offset 0 with its %u-byte header; each node is %u bytes.\n", ANT_REGION_HEADER_SIZE,
           ANT_NODE_SIZE);
    printf("\nEvery mem is a multiple of 16, whatever the size asked for:\n");
    take(1);
    take(24);
    take(5);
    struct view before = {.count = 0};
    ant_walk(collect, &before);
    const ant_block_info_t *last = &before.blocks[before.count - 1];
    size_t wild_mem = offset_of(last->mem) + last->size;
    printf("\nant_aligned_alloc(256, 100): a block carved from the wilderness now would\n"
           "have its mem at %zu, not a multiple of 256. The first multiple with room for\n"
           "a free block (%u bytes at least) before it is %zu:\n",
           wild_mem, ANT_MIN_BLOCK, (wild_mem + ANT_MIN_BLOCK + 255) / 256 * 256);
    void *aligned = ant_aligned_alloc(256, 100);
    if (!aligned)
        return 1;
    printf("  ant_aligned_alloc(256, 100)  mem offset %zu = 256 x %zu\n", offset_of(aligned), offset_of(aligned) / 256);
    show();
    printf("\nThe free block of %zu bytes before it is the lead, cut off the front so\n"
           "that the mem after it is 256-aligned. It serves the next request that fits:\n",
           offset_of(aligned) - wild_mem);
    take(100);
    show();
    return 0;
}
