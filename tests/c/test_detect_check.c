/*
 * test_detect_check.c: every rule of ant_check() beyond the sentinels. The
 * damage here keeps every check valid (the test reseals the node it changes
 * with the root's secret, as only a bug inside the allocator could), so
 * what ant_check() must see is the broken relation itself: a size that
 * disagrees with where the next node is (I6), a below that disagrees with
 * the block below (I4), a request larger than its block (I6), a last
 * block that does not end at the wilderness (I7), two free neighbours
 * (I8), counters that disagree with the blocks (I10), a state that is
 * neither used nor free (I11).
 */
#include "check.h"
#include "detect.h"
#include "root.h"

#include <ant/ant.h>

static ant_node_t *node_of(void *mem)
{
    return (ant_node_t *)(void *)((char *)mem - ANT_NODE_SIZE);
}

static void reseal(ant_node_t *n)
{
    n->check = ant_head_check(root()->secret, n);
}

static void size_disagrees(void)
{
    char *a = ant_malloc(100);
    ant_malloc(100);
    detect_expect_used(a);
    node_of(a)->size += ANT_ALIGN;
    reseal(node_of(a));
    ant_check();
}

static void below_disagrees(void)
{
    ant_malloc(100);
    char *b = ant_malloc(100);
    ant_malloc(100);
    detect_expect_used(b);
    node_of(b)->below += ANT_ALIGN;
    reseal(node_of(b));
    ant_check();
}

static void request_too_large(void)
{
    char *a = ant_malloc(100);
    ant_malloc(100);
    detect_expect_address(a);
    node_of(a)->requested = node_of(a)->size;
    reseal(node_of(a));
    ant_check();
}

static void last_block_short_of_the_wilderness(void)
{
    ant_malloc(8);
    char *x = ant_malloc(1000);
    ant_free(x);
    node_of(x)->size -= ANT_ALIGN;
    reseal(node_of(x));
    detect_expect_free(x);
    ant_check();
}

static void free_neighbours(void)
{
    char *a = ant_malloc(100);
    char *b = ant_malloc(100);
    ant_malloc(8);
    ant_free(a);
    ant_node_t *n = node_of(b);
    n->state = ANT_STATE_FREE;
    reseal(n);
    memset(b, 0, ANT_FREE_LINKS_SIZE);
    struct ant_freed freed = {.check = ant_freed_check(root()->secret, n, 0, 0)};
    memcpy(b + ANT_FREE_LINKS_SIZE, &freed, sizeof freed);
    memset(b + ANT_POISON_OFFSET, ANT_POISON, n->size - ANT_MIN_BLOCK);
    detect_expect_free(b);
    ant_check();
}

static void counters_disagree(void)
{
    ant_malloc(100);
    char *arena = (char *)root()->arenas[0];
    for (uint32_t i = 0; i < root()->field_count; i++)
        if (strcmp(root()->fields[i].name, "arena.used_blocks") == 0)
            (*(uint64_t *)(void *)(arena + root()->fields[i].offset))++;
    ant_check();
}

static void unknown_state(void)
{
    ant_malloc(100);
    char *b = ant_malloc(100);
    ant_malloc(100);
    detect_expect_used(b);
    node_of(b)->state = 'J';
    reseal(node_of(b));
    ant_check();
}

static const struct child_scenario scenarios[] = {
    {"size_disagrees", size_disagrees},
    {"below_disagrees", below_disagrees},
    {"request_too_large", request_too_large},
    {"last_block_short_of_the_wilderness", last_block_short_of_the_wilderness},
    {"free_neighbours", free_neighbours},
    {"counters_disagree", counters_disagree},
    {"unknown_state", unknown_state},
    {0, 0},
};

int main(int argc, char **argv)
{
    detect_enter(argc, argv, scenarios);
    const struct detection detections[] = {
        {"size_disagrees", 0, "size", 1, "a size that disagrees with where the next node is, at block"},
        {"below_disagrees", 0, "link", 1, "a below that disagrees with the block below, at block"},
        {"request_too_large", 0, "size", 1, "a size that does not fit its region or its request"},
        {"last_block_short_of_the_wilderness", 0, "size", 1, "a last block that does not end at the wilderness"},
        {"free_neighbours", 0, "coalesce", 1, "two free neighbours, never merged, at free block"},
        {"counters_disagree", 0, "accounting", 1, "the arena's counters disagree with its blocks"},
        {"unknown_state", 0, "state", 1, "a node in no known state"},
    };
    for (size_t i = 0; i < sizeof detections / sizeof detections[0]; i++)
        detect_check(&detections[i]);
    return 0;
}
