/*
 * test_detect_cache.c: damage to blocks waiting in a thread cache. A second
 * free of a cached block is a double free; a write through a dangling
 * pointer into a cached block's poison or its cache links is found when
 * the cache hands the block out again and by ant_check; a cached block's
 * node overwritten is found on the way out; an overflow is found by the
 * free that would have cached the block.
 */
#include "check.h"
#include "detect.h"

#include <ant/ant.h>
#include <stdint.h>
#include <string.h>

static void twice(void)
{
    char *p = detect_freed(100);
    ant_free(p);
}

static void poison_at_malloc(void)
{
    char *p = detect_freed(100);
    p[40] = 1;
    ant_malloc(100);
}

/* Going on after it (on_error=report), the cache has let the bin go and
 * its counters say so: nothing more to report. */
static void poison_at_malloc_then_check(void)
{
    char *p = detect_freed(100);
    p[40] = 1;
    ant_malloc(100);
    CHECK_EQ(ant_check(), 0);
}

static void link_at_malloc(void)
{
    char *p = detect_freed(100);
    memset(p, 0x41, 8);
    ant_malloc(100);
}

static void owner_at_malloc(void)
{
    char *p = detect_freed(100);
    p[9] ^= 1;
    ant_malloc(100);
}

/* The damaged block is sent back to the heap with half its bin before any
 * malloc takes it: the send-off looks at its links first. */
static void link_at_flush(void)
{
    char *more[20];
    for (int i = 0; i < 20; i++)
        more[i] = ant_malloc(100);
    char *p = detect_freed(100);
    memset(p, 0x41, 8);
    for (int i = 0; i < 20; i++)
        ant_free(more[i]);
}

static void node_at_malloc(void)
{
    char *p = detect_freed(100);
    p[-3] ^= 0x10;
    ant_malloc(100);
}

static void poison_at_check(void)
{
    char *p = detect_freed(200);
    p[150] = 0;
    ant_check();
}

/* The used block below a cached one runs over its node: the list leading
 * there is intact, and only the overflow and the node are reported. */
static void destroyed_at_check(void)
{
    ant_malloc(8);
    char *u = ant_malloc(24);
    char *q = ant_malloc(24);
    char *p = ant_malloc(24);
    ant_malloc(8);
    ant_free(q);
    ant_free(p);
    detect_expect_used(u);
    memset(u + 24, 'A', (size_t)(q - u) - 24);
    ant_check();
}

static void overflow_at_free(void)
{
    ant_malloc(8);
    char *p = ant_malloc(100);
    ant_malloc(8);
    detect_expect_used(p);
    p[100] = 'x';
    ant_free(p);
}

static const struct child_scenario scenarios[] = {
    {"twice", twice},
    {"poison_at_malloc", poison_at_malloc},
    {"poison_at_malloc_then_check", poison_at_malloc_then_check},
    {"link_at_malloc", link_at_malloc},
    {"owner_at_malloc", owner_at_malloc},
    {"link_at_flush", link_at_flush},
    {"node_at_malloc", node_at_malloc},
    {"poison_at_check", poison_at_check},
    {"overflow_at_free", overflow_at_free},
    {"destroyed_at_check", destroyed_at_check},
    {0, 0},
};

int main(int argc, char **argv)
{
    detect_enter(argc, argv, scenarios);
    const struct detection detections[] = {
        {"twice", 0, "double-free", 1, "already free (kept in a thread cache): cached block"},
        {"poison_at_malloc", 0, "use-after-free", 1,
         "poison changed, a write through a dangling pointer, in cached block"},
        {"poison_at_malloc_then_check", 0, "use-after-free", 1, "poison changed"},
        {"link_at_malloc", 0, "use-after-free", 1, "a thread-cache link changed"},
        {"owner_at_malloc", 0, "use-after-free", 1, "a thread-cache link changed"},
        {"link_at_flush", 0, "use-after-free", 1,
         "a thread-cache link changed, a write through a dangling pointer, in cached block"},
        {"node_at_malloc", 0, "header", 1, "the node of a block in a thread cache was overwritten"},
        {"poison_at_check", 0, "use-after-free", 1,
         "poison changed, a write through a dangling pointer, in cached block"},
        {"overflow_at_free", 0, "overflow", 1, "the program wrote past the end of block"},
        {"destroyed_at_check", 0, "overflow", 2, "the program wrote past the end of block"},
    };
    for (size_t i = 0; i < sizeof detections / sizeof detections[0]; i++)
        detect_check(&detections[i]);
    return 0;
}
