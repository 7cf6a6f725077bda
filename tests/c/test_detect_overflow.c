/*
 * test_detect_overflow.c: writes past the end of a block and before its
 * start. A one-byte overflow hits the tail sentinel, found at free, at
 * realloc and by ant_check; one that runs on into the next node is found at
 * the free of either block, the upper one naming the lower as the culprit;
 * an underflow hits the node's head, its last word; a node copied from
 * another block is caught because the head is bound to its address; a
 * stray write into a node is caught before a split relinks it.
 */
#include "check.h"
#include "detect.h"

#include <ant/ant.h>
#include <ant/layout.h>
#include <signal.h>

static void one_byte(void)
{
    char *a = ant_malloc(24);
    ant_malloc(8);
    detect_expect_used(a);
    a[24] = 'x';
    ant_free(a);
}

/* Under on_error=report, realloc goes on as free does. */
static void one_byte_at_realloc(void)
{
    char *a = ant_malloc(100);
    ant_malloc(8);
    memset(a, 'a', 100);
    detect_expect_used(a);
    a[100] = 0;
    char *b = ant_realloc(a, 1000);
    CHECK(b != 0);
    for (int i = 0; i < 100; i++)
        CHECK_EQ(b[i], 'a');
    ant_free(b);
    CHECK_EQ(ant_check(), 0);
}

static void one_byte_at_check(void)
{
    char *a = ant_malloc(1);
    detect_expect_used(a);
    a[1] = 0;
    ant_check();
}

static void one_byte_big(void)
{
    char *a = ant_malloc(300000);
    detect_expect_used(a);
    a[300000] = 'x';
    ant_free(a);
}

/* The write runs from a over its tail and 8 bytes on into b's node, over
 * its size and below. */
#define INTO_NEXT ((ANT_NODE_SIZE + 24 + ANT_TAIL_SIZE + 15) / 16 * 16 - ANT_NODE_SIZE + 8)

static char *into_next(char **b)
{
    char *a = ant_malloc(24);
    *b = ant_malloc(24);
    ant_malloc(8);
    detect_expect_used(a);
    memset(a, 'x', INTO_NEXT);
    return a;
}

static void into_next_free_lower(void)
{
    char *b;
    char *a = into_next(&b);
    ant_free(a);
}

static void into_next_free_upper(void)
{
    char *a = ant_malloc(24);
    char *b = ant_malloc(24);
    ant_malloc(8);
    detect_expect_used(b);
    detect_expect_culprit(a);
    memset(a, 'x', INTO_NEXT);
    ant_free(b);
}

static void into_next_at_check(void)
{
    char *b;
    into_next(&b);
    ant_check();
}

static void underflow(void)
{
    unsigned char *a = ant_malloc(32);
    ant_malloc(8);
    detect_expect_used(a);
    a[-1] ^= 1;
    ant_free(a);
}

/* The block below is free, or cached: its poison is intact to its end, so
 * it did not run into this node; the block's own underflow did. */
static void underflow_above(void)
{
    unsigned char *below = ant_malloc(100);
    unsigned char *a = ant_malloc(32);
    ant_malloc(8);
    ant_free(below);
    detect_expect_used(a);
    a[-1] ^= 1;
    ant_free(a);
}

static void underflow_at_check(void)
{
    unsigned char *a = ant_malloc(32);
    ant_malloc(8);
    detect_expect_used(a);
    a[-3] ^= 0x40;
    ant_check();
}

static void copied_node(void)
{
    char *a = ant_malloc(32);
    char *b = ant_malloc(32);
    ant_malloc(8);
    detect_expect_address(b);
    memcpy(b - ANT_NODE_SIZE, a - ANT_NODE_SIZE, ANT_NODE_SIZE);
    ant_free(b);
}

/* A stray write into a node's size, met when the free block below is
 * split and the damaged node would be relinked: it must be reported there,
 * not resealed with its wrong size. */
static void stray_write_met_by_a_split(void)
{
    char *below = ant_malloc(400);
    char *n = ant_malloc(100);
    ant_malloc(8);
    ant_free(below);
    detect_expect_used(n);
    ((uint32_t *)(void *)(n - ANT_NODE_SIZE))[0] += 16;
    ant_malloc(100);
}

static const struct child_scenario scenarios[] = {
    {"one_byte", one_byte},
    {"one_byte_at_realloc", one_byte_at_realloc},
    {"one_byte_at_check", one_byte_at_check},
    {"one_byte_big", one_byte_big},
    {"into_next_free_lower", into_next_free_lower},
    {"into_next_free_upper", into_next_free_upper},
    {"into_next_at_check", into_next_at_check},
    {"underflow", underflow},
    {"underflow_above", underflow_above},
    {"underflow_at_check", underflow_at_check},
    {"copied_node", copied_node},
    {"stray_write_met_by_a_split", stray_write_met_by_a_split},
    {0, 0},
};

int main(int argc, char **argv)
{
    detect_enter(argc, argv, scenarios);
    const char *past_end = "the tail sentinel was overwritten: the program wrote past the end of block";
    const struct detection detections[] = {
        {"one_byte", 0, "overflow", 1, past_end},
        {"one_byte", "on_error=abort", "overflow", 1, past_end},
        {"one_byte_at_realloc", 0, "overflow", 1, past_end},
        {"one_byte_at_check", 0, "overflow", 1, past_end},
        {"one_byte_big", 0, "overflow", 1, past_end},
        {"into_next_free_lower", 0, "overflow", 1, past_end},
        {"into_next_free_upper", 0, "header", 1, "the block below ran past its end into this node: block"},
        /* ant_check reports every problem, then aborts. */
        {"into_next_at_check", 0, "overflow", 2, past_end},
        {"underflow", 0, "header", 1, "an underflow, a write just before the start of the mem of block"},
        {"underflow_above", 0, "header", 1, "an underflow, a write just before the start of the mem of block"},
        {"underflow_above", "cache=16", "header", 1, "an underflow, a write just before the start of the mem of block"},
        {"underflow_at_check", 0, "header", 1, "an underflow"},
        {"copied_node", 0, "header", 1, "the node was overwritten or forged"},
        {"stray_write_met_by_a_split", 0, "header", 1, "the node of a neighbouring block was overwritten: block"},
    };
    for (size_t i = 0; i < sizeof detections / sizeof detections[0]; i++)
        detect_check(&detections[i]);

    /* A bad on_error value leaves the default, abort, in force. */
    struct child_result r;
    child_run("one_byte", "on_error=maybe", &r);
    if (r.signal != SIGABRT || child_count_lines(r.err, "ant: ") - child_count_lines(r.err, "ant:   ") != 2 ||
        strncmp(r.err, "ant: ANT_OPTIONS: 'maybe' for on_error", 38) != 0 || !strstr(r.err, "\nant: overflow: ")) {
        child_show("one_byte", "on_error=maybe", &r);
        return 1;
    }
    return 0;
}
