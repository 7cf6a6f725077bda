/*
 * quarantine.c: a heap with blocks in the quarantine, for the debugger
 * (tests/gdb/quarantine_e2e.py). Run with ANT_OPTIONS=quarantine=1m. It
 * frees every other of forty blocks, prints the mem of each block it
 * freed, and, given "damage", writes through a dangling pointer into the
 * poison of one of them, which nothing reuses; then it stops in
 * at_the_heap() for the debugger.
 */
#include <ant/ant.h>
#include <stdio.h>
#include <string.h>

#define BLOCKS 40

static char *volatile blocks[BLOCKS];

void at_the_heap(void);

__attribute__((noinline)) void at_the_heap(void)
{
    __asm__ volatile("" ::: "memory");
}

int main(int argc, char **argv)
{
    for (int i = 0; i < BLOCKS; i++)
        blocks[i] = ant_malloc(100 + 16 * (size_t)i);
    for (int i = 0; i < BLOCKS; i += 2) {
        ant_free(blocks[i]);
        printf("quarantined 0x%lx\n", (unsigned long)(size_t)blocks[i]);
    }
    if (argc > 1 && strcmp(argv[1], "damage") == 0) {
        blocks[10][60] = 'x';
        printf("damaged 0x%lx\n", (unsigned long)(size_t)blocks[10]);
    }
    fflush(stdout);
    at_the_heap();
    return 0;
}
