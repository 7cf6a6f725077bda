/*
 * test_arenas.c: threads spread over arenas. With arenas=4 the main thread
 * has arena 0 and each new thread the next one in turn; a block goes back
 * to the arena it came from whichever thread frees or reallocates it; big
 * blocks too; and ant_check() and ant_stats() see every arena.
 */
#include "blocks.h"
#include "check.h"

#include <ant/ant.h>
#include <pthread.h>

#define BLOCKS 64

static ant_block_info_t info_of(const void *mem)
{
    ant_block_info_t info = block_at(mem);
    CHECK(info.state != 0);
    return info;
}

static void *made[3][BLOCKS];

/* Blocks too big for a thread cache, and one big block. */
static void *make(void *arg)
{
    void **mine = arg;
    for (int i = 0; i < BLOCKS - 1; i++)
        mine[i] = ant_malloc(2000 + 16 * (size_t)i);
    mine[BLOCKS - 1] = ant_malloc(1 << 20);
    return 0;
}

int main(void)
{
    void *own = ant_malloc(2000);
    CHECK_EQ(info_of(own).arena, 0);
    for (int t = 0; t < 3; t++) {
        pthread_t thread;
        CHECK(pthread_create(&thread, 0, make, made[t]) == 0);
        CHECK(pthread_join(thread, 0) == 0);
        for (int i = 0; i < BLOCKS; i++)
            CHECK_EQ(info_of(made[t][i]).arena, (unsigned)t + 1);
    }
    ant_stats_t s;
    ant_stats(&s);
    CHECK_EQ(s.big_blocks, 3);
    CHECK_EQ(ant_check(), 0);

    /* Freed and reallocated by the main thread, in arena 0: each block
     * stays with, or goes back to, its own arena. */
    for (int t = 0; t < 3; t++) {
        for (int i = 0; i < BLOCKS; i += 2)
            ant_free(made[t][i]);
        for (int i = 1; i < BLOCKS - 1; i += 4) {
            made[t][i] = ant_realloc(made[t][i], 6000);
            CHECK(made[t][i] != 0);
            CHECK_EQ(info_of(made[t][i]).arena, (unsigned)t + 1);
        }
        CHECK_EQ(info_of(made[t][1]).state, ANT_BLOCK_USED);
    }
    CHECK_EQ(ant_check(), 0);
    for (int t = 0; t < 3; t++)
        for (int i = 1; i < BLOCKS; i += 2)
            ant_free(made[t][i]);
    ant_free(own);
    ant_stats(&s);
    CHECK_EQ(s.used_blocks, 0);
    CHECK_EQ(s.big_blocks, 0);
    CHECK_EQ(ant_check(), 0);
    return 0;
}
