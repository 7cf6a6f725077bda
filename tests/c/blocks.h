/*
 * blocks.h: what the API's walk says of one block, for tests that watch a
 * block change state.
 */
#ifndef ANT_TEST_BLOCKS_H
#define ANT_TEST_BLOCKS_H

#include <ant/ant.h>
#include <stdint.h>

static inline int block_at_visit(const ant_block_info_t *b, void *arg)
{
    ant_block_info_t *want = arg;
    if (b->mem != want->mem)
        return 0;
    *want = *b;
    return 1;
}

/* The walk's row for the block whose mem is `mem`; its state is 0 if no
 * block starts there (it was merged into a neighbour, say). */
static inline ant_block_info_t block_at(const void *mem)
{
    ant_block_info_t info = {.mem = (void *)(uintptr_t)mem};
    ant_walk(block_at_visit, &info);
    return info;
}

static inline ant_block_state_t state_of(const void *mem)
{
    return block_at(mem).state;
}

#endif
