/*
 * dropin.c: the C library's malloc family served by Ant's drop-in, built
 * with ANT_VALGRIND and kept by memcheck's
 * --soname-synonyms=somalloc=nouserintercepts. Every function is used as
 * it should be, then two bugs: a read through the pointer a moving
 * realloc left behind, and a string strdup made that is never freed.
 * memcheck must name those two and nothing else.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile char sink;

static void fill(void *mem, size_t n)
{
    if (!mem) {
        fprintf(stderr, "dropin: out of memory\n");
        exit(2);
    }
    memset(mem, 'x', n);
}

int main(void)
{
    void *blocks[9];
    blocks[0] = malloc(100);
    fill(blocks[0], 100);
    blocks[1] = calloc(10, 10);
    fill(blocks[1], 100);
    blocks[2] = reallocarray(0, 10, 30);
    fill(blocks[2], 300);
    if (posix_memalign(&blocks[3], 256, 100))
        blocks[3] = 0;
    fill(blocks[3], 100);
    blocks[4] = aligned_alloc(64, 128);
    fill(blocks[4], 128);
    blocks[5] = memalign(32, 100);
    fill(blocks[5], 100);
    blocks[6] = valloc(100);
    fill(blocks[6], 100);
    blocks[7] = pvalloc(100);
    fill(blocks[7], malloc_usable_size(blocks[7]));
    blocks[8] = realloc(blocks[0], (size_t)2 << 20);
    blocks[0] = 0;
    fill(blocks[8], (size_t)2 << 20);
    for (int i = 0; i < 9; i++)
        free(blocks[i]);

    char *moving = malloc(24);
    fill(moving, 24);
    /* Out of the compiler's sight, which would refuse the bug. */
    char *volatile stale = moving;
    char *moved = realloc(moving, 4000);
    sink = stale[3]; /* the bug: the realloc freed it */
    free(moved);

    char *copy = strdup("a string nobody frees");
    sink = copy[0];
    copy = 0; /* the bug: the last pointer to it is gone */
    return 0;
}
