/*
 * test_quarantine.c: ANT_OPTIONS=quarantine=BYTES holds freed blocks back
 * from reuse, and checks their poison whole when they leave (or at exit),
 * so that a write after free is reported even when nothing reuses the
 * block; and a
 * free block going back to the wilderness has its poison checked first,
 * quarantine or not.
 */
#include "blocks.h"
#include "check.h"
#include "detect.h"
#include "root.h"

#include <ant/ant.h>
#include <inttypes.h>
#include <string.h>

static uint64_t arena_field(const char *name)
{
    uint64_t v;
    memcpy(&v, (const char *)root()->arenas[0] + field_offset(name), sizeof v);
    return v;
}

/* The return address a site stands for: itself, or its call stack's
 * first frame (layout.h, "Call stacks"). */
static uint64_t site_address(uint64_t site)
{
    if (!(site & ANT_SITE_STACK))
        return site;
    const struct ant_stack *stack =
        (const void *)((const char *)root()->stacks + (site & ~ANT_SITE_STACK & ANT_SITE_MASK) * 8);
    return stack->frames[0];
}

/* The report names who freed the block, as its record says. */
static void expect_freed_site(const char *mem)
{
    uint64_t site;
    memcpy(&site, mem + 16, sizeof site);
    child_say("expect: , freed at 0x%" PRIx64 " (\n", site_address(site & ANT_SITE_MASK));
}

/* Frees enough blocks of another size that the oldest leave. */
static void push_out(size_t bytes)
{
    for (size_t freed = 0; freed <= bytes; freed += 3000)
        ant_free(ant_malloc(3000 - ANT_NODE_SIZE - ANT_TAIL_SIZE - 16));
}

/* Nothing reuses the block: its size is asked for never again. */
static void written_then_let_go(void)
{
    char *p = detect_freed(1500);
    expect_freed_site(p);
    child_say("expect: at byte 1200 of its mem\n");
    p[1200] = 1;
    push_out(64 << 10);
    child_say("not reported\n");
}

/* Still held when the process exits. */
static void written_then_exit(void)
{
    char *p = detect_freed(1500);
    p[1400] = 1;
}

static void written_then_checked(void)
{
    char *p = detect_freed(1500);
    p[40] = 1;
    ant_check();
}

/* The second of three quarantined blocks names another as the one before. */
static void link_written_then_checked(void)
{
    char *a = ant_malloc(200), *b = ant_malloc(200), *c = ant_malloc(200);
    ant_malloc(8);
    ant_free(a);
    ant_free(b);
    ant_free(c);
    detect_expect_free(b);
    ((char **)(void *)b)[1] = c - ANT_NODE_SIZE;
    ant_check();
}

static void freed_twice(void)
{
    char *p = detect_freed(300);
    ant_free(p);
}

/* Without a quarantine: `p`, free in a bin, merges with the block above
 * it as that is freed, and the two go back to the wilderness. */
static void written_then_reclaimed(void)
{
    char *p = ant_malloc(150000);
    char *q = ant_malloc(100);
    ant_free(p);
    detect_expect_free(p);
    expect_freed_site(p);
    p[100000] = 1;
    ant_free(q);
    child_say("not reported\n");
}

static const struct child_scenario scenarios[] = {
    {"written_then_let_go", written_then_let_go},
    {"written_then_exit", written_then_exit},
    {"written_then_checked", written_then_checked},
    {"link_written_then_checked", link_written_then_checked},
    {"freed_twice", freed_twice},
    {"written_then_reclaimed", written_then_reclaimed},
    {0, 0},
};

/* Held back: a block freed is not handed out again while the quarantine
 * has room, then is, once pushed out; the list and counts agree with a
 * walk, and ant_check finds nothing. */
static void holds_then_lets_go(void)
{
    char *p = ant_malloc(500);
    ant_malloc(8);
    ant_free(p);
    CHECK_EQ(state_of(p), ANT_BLOCK_QUARANTINED);
    CHECK_EQ(arena_field("arena.quarantine_head"), (uint64_t)(uintptr_t)(p - ANT_NODE_SIZE));
    CHECK_EQ(arena_field("arena.quarantine_blocks"), 1);
    CHECK_EQ(arena_field("arena.quarantine_bytes"), block_at(p).size);
    char *q = ant_malloc(500);
    CHECK(q != p);
    CHECK_EQ(ant_check(), 0);
    push_out(64 << 10);
    CHECK(state_of(p) != ANT_BLOCK_QUARANTINED);
    CHECK(arena_field("arena.quarantine_bytes") <= 64 << 10);
    CHECK(arena_field("arena.quarantine_blocks") > 0);
    CHECK_EQ(ant_check(), 0);
    ant_free(q);
    CHECK_EQ(ant_check(), 0);
}

int main(int argc, char **argv)
{
    detect_enter(argc, argv, scenarios);
    holds_then_lets_go();
    const char *quarantined = "poison changed, a write through a dangling pointer, in quarantined block";
    const struct detection detections[] = {
        {"written_then_let_go", "quarantine=64k", "use-after-free", 1, quarantined},
        {"written_then_exit", "quarantine=64k", "use-after-free", 1, quarantined},
        {"written_then_checked", "quarantine=64k", "use-after-free", 1, quarantined},
        {"link_written_then_checked", "quarantine=64k", "use-after-free", 1,
         "a quarantine link changed, a write through a dangling pointer, in quarantined block"},
        {"freed_twice", "quarantine=64k", "double-free", 1, "a block that is already free (held in the quarantine)"},
        {"written_then_reclaimed", "cache=0", "use-after-free", 1,
         "poison changed, a write through a dangling pointer, in free block"},
    };
    for (size_t i = 0; i < sizeof detections / sizeof detections[0]; i++)
        detect_check(&detections[i]);

    /* The same writes go unseen without a quarantine, and when poison_check=0
     * asks for no poison checks. */
    const char *unseen[][2] = {{"written_then_let_go", "cache=0"},
                               {"written_then_reclaimed", "cache=0:poison_check=0"}};
    for (size_t i = 0; i < 2; i++) {
        struct child_result r;
        child_run(unseen[i][0], unseen[i][1], &r);
        if (!r.exited || r.status != 0 || r.err[0] || !strstr(r.out, "not reported\n")) {
            child_show(unseen[i][0], unseen[i][1], &r);
            return 1;
        }
    }
    return 0;
}
