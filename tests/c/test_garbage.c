/*
 * test_garbage.c: frees of arbitrary addresses change nothing. Under
 * on_error=report, a child frees and reallocs thousands of 16-byte-aligned
 * addresses all over its regions (wilderness included) and its big blocks,
 * none of them a live block's mem: each must be reported, nothing may
 * crash, and the heap must be exactly as before, since a pointer is
 * validated before anything is written.
 */
#include "check.h"
#include "child.h"
#include "root.h"

#include <ant/ant.h>

#define LIVE 200
#define TRIES 20000

static const ant_region_t *first_of(const char *list)
{
    const ant_region_t *r;
    memcpy(&r, (const char *)root()->arenas[0] + field_offset(list), sizeof r);
    return r;
}

static int is_live(void *p, void *const *live)
{
    for (size_t i = 0; i < LIVE; i++)
        if (live[i] == p)
            return 1;
    return 0;
}

static void garbage(void)
{
    void *live[LIVE];
    for (size_t i = 0; i < LIVE; i++)
        live[i] = ant_malloc(i % 10 == 9 ? 300000 + i : i * 13);
    for (size_t i = 0; i < LIVE; i += 3)
        ant_free(live[i]);
    for (size_t i = 0; i < LIVE; i += 3)
        live[i] = 0;

    const ant_region_t *region = first_of("arena.regions");
    const ant_region_t *big = first_of("arena.bigs");
    ant_stats_t before, after;
    ant_stats(&before);
    uint64_t rng = 7;
    size_t reports = 0;
    for (size_t k = 0; k < TRIES; k++) {
        rng = rng * 6364136223846793005ull + 1442695040888963407ull;
        const ant_region_t *in = (k & 1) ? region : big;
        uintptr_t at = (uintptr_t)in + (uintptr_t)((rng >> 16) % in->length);
        void *p = (void *)(at & ~(uintptr_t)15);
        if (is_live(p, live))
            continue;
        CHECK_EQ(ant_usable_size(p), 0);
        if (k % 4 == 0)
            CHECK(ant_realloc(p, 10) == 0);
        else
            ant_free(p);
        reports++;
    }
    ant_stats(&after);
    CHECK(memcmp(&before, &after, sizeof before) == 0);
    CHECK_EQ(root()->last_error.count, reports);
    CHECK_EQ(ant_check(), 0);
    for (size_t i = 0; i < LIVE; i++)
        ant_free(live[i]);
    CHECK_EQ(ant_check(), 0);
    child_say("%zu reports\n", reports);
}

static const struct child_scenario scenarios[] = {{"garbage", garbage}, {0, 0}};

int main(int argc, char **argv)
{
    child_enter(argc, argv, scenarios);
    struct child_result r;
    child_run("garbage", "on_error=report", &r);
    size_t reports = 0;
    if (!r.exited || r.status != 0 || sscanf(r.out, "%zu reports", &reports) != 1 || reports < TRIES / 2) {
        child_show("garbage", "on_error=report", &r);
        return 1;
    }
    return 0;
}
