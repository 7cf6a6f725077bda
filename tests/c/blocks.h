/*
 * blocks.h: what the API's walk says of one block, for tests that watch a
 * block change state.
 */
#ifndef ANT_TEST_BLOCKS_H
#define ANT_TEST_BLOCKS_H

#include <ant/ant.h>

struct found_state {
    const void *mem;
    ant_block_state_t state;
};

static inline int found_state_visit(const ant_block_info_t *b, void *arg)
{
    struct found_state *f = arg;
    if (b->mem == f->mem)
        f->state = b->state;
    return 0;
}

/* The state of the block whose mem is `mem`; 0 if no block starts there
 * (it was merged into a neighbour, say). */
static inline ant_block_state_t state_of(const void *mem)
{
    struct found_state f = {mem, 0};
    ant_walk(found_state_visit, &f);
    return f.state;
}

#endif
