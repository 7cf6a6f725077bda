/*
 * test_growth.c: a region grows in place. A heap region is mapped with
 * address space held after it, inaccessible and kept out of core files, so
 * that the arena keeps one region that grows instead of many that never
 * merge (os.c). Under an address-space limit nothing is held, and the heap
 * still grows, in new regions if it must.
 */
#include "check.h"
#include "child.h"

#include <ant/ant.h>
#include <sys/resource.h>

#define BLOCK ((size_t)128 << 10) /* below the mmap threshold: in a region */
#define BLOCKS 512                /* 64 MiB */

/* The mapping of /proc/self/smaps holding addr: its end, its permissions
 * and whether its VmFlags say "dd" (not dumped). */
struct mapping {
    uintptr_t start, end;
    char perms[5];
    int dont_dump;
};

static int find_mapping(uintptr_t addr, struct mapping *out)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    CHECK(f != 0);
    char line[512];
    int found = 0;
    while (fgets(line, sizeof line, f)) {
        uintptr_t start, end;
        char perms[5];
        if (sscanf(line, "%lx-%lx %4s", &start, &end, perms) == 3 && strchr(line, ' ')) {
            if (found)
                break;
            if (addr >= start && addr < end) {
                *out = (struct mapping){start, end, "", 0};
                memcpy(out->perms, perms, sizeof perms);
                found = 1;
            }
        } else if (found && strncmp(line, "VmFlags:", 8) == 0) {
            out->dont_dump = strstr(line, " dd") != 0;
        }
    }
    fclose(f);
    return found;
}

static void **fill(void)
{
    static void *blocks[BLOCKS];
    for (size_t i = 0; i < BLOCKS; i++) {
        blocks[i] = ant_malloc(BLOCK);
        CHECK(blocks[i] != 0);
        memset(blocks[i], (int)i, BLOCK);
    }
    return blocks;
}

static void empty(void **blocks)
{
    for (size_t i = 0; i < BLOCKS; i++)
        ant_free(blocks[i]);
    CHECK_EQ(ant_check(), 0);
}

static void grows_in_place(void)
{
    void **blocks = fill();
    ant_stats_t s;
    ant_stats(&s);
    CHECK_EQ(s.regions, 1);
    CHECK(s.mapped_bytes >= (size_t)BLOCKS * BLOCK);

    /* The region is dumped; what is held after it is neither readable nor
     * dumped. */
    struct mapping region, held;
    CHECK(find_mapping((uintptr_t)blocks[0], &region));
    CHECK_EQ(strcmp(region.perms, "rw-p"), 0);
    CHECK_EQ(region.dont_dump, 0);
    CHECK(find_mapping(region.end, &held));
    CHECK_EQ(strcmp(held.perms, "---p"), 0);
    CHECK_EQ(held.dont_dump, 1);
    empty(blocks);
}

/* With RLIMIT_AS set before the first region, no address space is held. */
static void limited(void)
{
    struct rlimit limit = {(rlim_t)8 << 30, (rlim_t)8 << 30};
    CHECK(setrlimit(RLIMIT_AS, &limit) == 0);
    void **blocks = fill();
    struct mapping region, after;
    CHECK(find_mapping((uintptr_t)blocks[0], &region));
    CHECK(!find_mapping(region.end, &after) || strcmp(after.perms, "---p") != 0 || !after.dont_dump);
    empty(blocks);
    child_say("ok\n");
}

static const struct child_scenario scenarios[] = {
    {"limited", limited},
    {0, 0},
};

int main(int argc, char **argv)
{
    child_enter(argc, argv, scenarios);
    grows_in_place();
#if defined(__SANITIZE_ADDRESS__)
    /* AddressSanitizer's shadow memory cannot live under an address-space
     * limit: the limited case runs in the other builds. */
    printf("limited: not run under AddressSanitizer\n");
    return 0;
#else
    struct child_result r;
    child_run("limited", 0, &r);
    if (!r.exited || r.status != 0 || !strstr(r.out, "ok")) {
        child_show("limited", 0, &r);
        return 1;
    }
    return 0;
#endif
}
