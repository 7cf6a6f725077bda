/*
 * underflow.c: a write just before the start of a block, here a 1-based
 * value used as a 0-based index.
 *
 * The four bytes before the mem are the end of the block's node: its head
 * sentinel, placed last so that an underflow hits it first. ant_free()
 * finds the head no longer matches while the node's links and size still
 * agree with its neighbours, reports "ant: header: ..." naming an
 * underflow, and aborts.
 */
#include <ant/ant.h>

#include <stdio.h>

int main(void)
{
    static const int rolls[] = {3, 6, 1, 0, 6}; /* a die shows 1..6, but 0 slipped in */
    int *counts = ant_calloc(6, sizeof *counts);
    for (size_t i = 0; i < sizeof rolls / sizeof rolls[0]; i++)
        counts[rolls[i] - 1]++; /* the bug: roll 0 increments counts[-1] */
    printf("sixes: %d\n", counts[5]);
    ant_free(counts);
    return 0;
}
