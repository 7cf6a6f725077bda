/*
 * million.c: a heap of a million blocks for the debugger to walk. Allocates
 * them with the ant_* API, frees every fourth (no two free blocks touch,
 * so none coalesce and the walk meets exactly a million), and stops with
 * SIGTRAP for gdb to write a core. Run under gdb only: outside it the trap
 * ends the program.
 *
 * Usage: million [blocks]
 */
#define _POSIX_C_SOURCE 200809L
#include "workload.h"

#include <ant/ant.h>

#include <signal.h>
#include <string.h>

/* A function of its own, so a breakpoint could stop here too. */
__attribute__((noinline)) static void stop_for_gdb(void)
{
    raise(SIGTRAP);
}

int main(int argc, char **argv)
{
    size_t blocks = scale_arg(argc, argv, 1000000);
    unsigned char **mem = must(ant_malloc(blocks * sizeof *mem), "million");
    rng_t rng = {0x5eed0006};
    for (size_t i = 0; i < blocks; i++) {
        size_t n = rng_range(&rng, 16, 128);
        mem[i] = must(ant_malloc(n), "million");
        memset(mem[i], (int)(i & 0xff), n);
    }
    for (size_t i = 0; i < blocks; i += 4)
        ant_free(mem[i]);
    ant_stats_t stats;
    ant_stats(&stats);
    printf("million: %zu used, %zu free blocks\n", stats.used_blocks, stats.free_blocks);
    fflush(stdout);
    stop_for_gdb();
    return 0;
}
