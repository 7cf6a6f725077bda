/*
 * mistakes.c: bugs that Ant alone does not catch at the access, one per
 * argument, for memcheck to name when Ant is built with ANT_VALGRIND.
 *
 *   read-after-free   a read of a freed block's byte
 *   big-after-free    the same in a freed big block (its own mapping)
 *   leak              a block whose last pointer is dropped
 *   realloc-uninit    a branch on bytes a realloc moved but nobody wrote
 */
#include <ant/ant.h>

#include <stdio.h>
#include <string.h>

static volatile unsigned char sink;

static void read_after_free(size_t size)
{
    unsigned char *p = ant_malloc(size);
    memset(p, 1, size);
    ant_free(p);
    sink = p[8]; /* the bug */
}

static __attribute__((noinline)) void lose(void)
{
    char *p = ant_malloc(48);
    memset(p, 2, 48);
    sink = (unsigned char)p[1];
} /* the bug: p is gone, the block is not freed */

static void realloc_uninit(void)
{
    unsigned char *p = ant_malloc(32);
    memset(p, 3, 16); /* bytes 16..31 are never written */
    p = ant_realloc(p, (size_t)1 << 20);
    if (p[20] == 3) /* the bug */
        puts("byte 20 happens to be 3");
    ant_free(p);
}

int main(int argc, char **argv)
{
    const char *bug = argc > 1 ? argv[1] : "";
    if (!strcmp(bug, "read-after-free"))
        read_after_free(64);
    else if (!strcmp(bug, "big-after-free"))
        read_after_free((size_t)1 << 20);
    else if (!strcmp(bug, "leak"))
        lose();
    else if (!strcmp(bug, "realloc-uninit"))
        realloc_uninit();
    else {
        fprintf(stderr, "usage: mistakes read-after-free|big-after-free|leak|realloc-uninit\n");
        return 2;
    }
    return 0;
}
