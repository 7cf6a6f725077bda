/*
 * test_detect_uaf.c: writes through a dangling pointer. They land in a
 * free block's poison or in the free-list links kept at the start of its
 * mem, and are found when malloc hands the block out again and by
 * ant_check. Reuse checks only the first poison_check bytes of poison;
 * ant_check checks all of them.
 */
#include "blocks.h"
#include "check.h"
#include "detect.h"
#include "root.h"

#include <ant/ant.h>
#include <signal.h>
#include <sys/mman.h>

static void poison_at_malloc(void)
{
    char *p = detect_freed(100);
    p[40] = 1;
    ant_malloc(100);
}

static void poison_at_calloc(void)
{
    char *p = detect_freed(100);
    p[99] = 0;
    ant_calloc(10, 10);
}

static void poison_at_check(void)
{
    char *p = detect_freed(100);
    p[20] = 1;
    ant_check();
}

static void next_link_at_malloc(void)
{
    static _Alignas(16) char elsewhere[128];
    char *p = detect_freed(100);
    ((char **)(void *)p)[0] = elsewhere;
    ant_malloc(100);
}

static void prev_link_at_malloc(void)
{
    char *p = detect_freed(100);
    ((char **)(void *)p)[1] = p;
    ant_malloc(100);
}

static void link_at_check(void)
{
    char *p = detect_freed(100);
    ((uintptr_t *)(void *)p)[0] ^= 0x10;
    ant_check();
}

/*
 * A link that points at the last bytes of the region: following it would
 * read a node past the end of the mapping. A page that cannot be read is
 * placed right after the region: the kernel puts a new mapping at the top
 * of the highest gap that fits, so a gap of exactly a region's size just
 * below a reserved page is where the first region goes. Where something
 * else got there first (AddressSanitizer maps memory of its own), the page
 * is asked for at the region's end; if that is taken too, the report is
 * still checked, the crash merely could not have happened.
 */
static void link_to_region_end(void)
{
    size_t region_size = (size_t)1 << 20, page = 4096;
    char *reserved = mmap(0, region_size + page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(reserved != MAP_FAILED);
    CHECK(munmap(reserved, region_size) == 0);
    char *p = detect_freed(100);
    const char *arena = (const char *)root()->arenas[0];
    const ant_region_t *region;
    memcpy(&region, arena + field_offset("arena.regions"), sizeof region);
    char *end = (char *)(uintptr_t)region + region->length;
    if (end != reserved + region_size)
        mmap(end, page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    ((char **)(void *)p)[0] = end - ANT_ALIGN;
    ant_malloc(100);
}

/* The binned fit looks for a block one size class up, so the freed block
 * is reused by a smaller request. */
static void poison_beyond_the_check(void)
{
    char *p = detect_freed(10000);
    p[8000] = 1;
    CHECK(ant_malloc(8000) == p);
}

static void poison_beyond_the_check_at_check(void)
{
    char *p = detect_freed(10000);
    p[8000] = 1;
    ant_check();
}

/* Blocks too big for the thread cache: `b` is freed to the heap, between
 * `a` and a pinning block, and `a` grows in place over the front of it. */
static void grow_over_freed(char **a, char **b)
{
    *a = ant_malloc(2000);
    *b = ant_malloc(2000);
    ant_malloc(8);
    ant_free(*b);
}

/* Growth hands the bytes it takes from the free neighbour to the program:
 * their poison is checked first. */
static void poison_at_realloc_growth(void)
{
    char *a, *b;
    grow_over_freed(&a, &b);
    detect_expect_free(b);
    b[100] = 1;
    ant_realloc(a, 2500);
}

/* What growth leaves of the neighbour keeps its poison, damage included,
 * and remembers the neighbour's last owner, not the growing block's. */
static void poison_kept_past_realloc_growth(void)
{
    char *a, *b;
    grow_over_freed(&a, &b);
    uint64_t b_serial = block_at(b).serial;
    b[1500] = 1;
    CHECK(ant_realloc(a, 2500) == a);
    /* a's block went from 2080 bytes to 2576: the rest starts 496 bytes
     * into what was b's block. */
    char *rest = b + 496;
    CHECK_EQ(block_at(rest).state, ANT_BLOCK_FREE);
    CHECK_EQ(block_at(rest).serial, b_serial);
    detect_expect_free(rest);
    child_say("expect: at byte %d of its mem\n", 1500 - 496);
    ant_check();
}

static const struct child_scenario scenarios[] = {
    {"poison_at_malloc", poison_at_malloc},
    {"poison_at_calloc", poison_at_calloc},
    {"poison_at_check", poison_at_check},
    {"next_link_at_malloc", next_link_at_malloc},
    {"prev_link_at_malloc", prev_link_at_malloc},
    {"link_at_check", link_at_check},
    {"link_to_region_end", link_to_region_end},
    {"poison_beyond_the_check", poison_beyond_the_check},
    {"poison_beyond_the_check_at_check", poison_beyond_the_check_at_check},
    {"poison_at_realloc_growth", poison_at_realloc_growth},
    {"poison_kept_past_realloc_growth", poison_kept_past_realloc_growth},
    {0, 0},
};

int main(int argc, char **argv)
{
    detect_enter(argc, argv, scenarios);
    const char *poison = "poison changed, a write through a dangling pointer, in free block";
    const char *link = "a free-list link changed, a write through a dangling pointer, in free block";
    const struct detection detections[] = {
        {"poison_at_malloc", 0, "use-after-free", 1, poison},
        {"poison_at_calloc", 0, "use-after-free", 1, poison},
        {"poison_at_check", 0, "use-after-free", 1, poison},
        {"next_link_at_malloc", 0, "use-after-free", 1, link},
        {"prev_link_at_malloc", 0, "use-after-free", 1, link},
        {"link_at_check", 0, "use-after-free", 1, link},
        {"link_to_region_end", 0, "use-after-free", 1, link},
        {"poison_beyond_the_check", "poison_check=16k", "use-after-free", 1, poison},
        {"poison_beyond_the_check_at_check", 0, "use-after-free", 1, poison},
        {"poison_at_realloc_growth", 0, "use-after-free", 1, poison},
        {"poison_kept_past_realloc_growth", 0, "use-after-free", 1, poison},
    };
    for (size_t i = 0; i < sizeof detections / sizeof detections[0]; i++)
        detect_check(&detections[i]);

    /* With the default poison_check of 4096 bytes, a write 8000 bytes in
     * goes unseen when the block is reused. */
    struct child_result r;
    child_run("poison_beyond_the_check", 0, &r);
    if (!r.exited || r.status != 0 || r.err[0]) {
        child_show("poison_beyond_the_check", 0, &r);
        return 1;
    }
    return 0;
}
