/*
 * test_damage.c: a damaged heap gives reports, never a crash. Each child
 * flips a few random bits anywhere among its blocks (nodes, data, poison,
 * free links), then runs ant_check(), thousands of mallocs, reallocs and
 * frees, and ant_check() again. Under on_error=report it must get to the
 * end and exit 0; under the default it may also end in the allocator's
 * abort, but never in SIGSEGV, SIGBUS or a hang. Every node change is
 * guarded by its head sentinel, so damage is reported where it is met
 * instead of being followed, or resealed into fields that look valid.
 */
#include "check.h"
#include "child.h"
#include "root.h"

#include <ant/ant.h>
#include <signal.h>

#define LIVE 300
#define SEEDS 100

static uint64_t rng;

static uint64_t random64(void)
{
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return rng >> 17;
}

static size_t random_size(void)
{
    return random64() % 50 == 0 ? 300000 + random64() % 100000 : random64() % 700;
}

static const ant_region_t *first_region(void)
{
    for (uint32_t i = 0; i < root()->field_count; i++) {
        if (strcmp(root()->fields[i].name, "arena.regions") == 0) {
            const ant_region_t *r;
            memcpy(&r, (const char *)root()->arenas[0] + root()->fields[i].offset, sizeof r);
            return r;
        }
    }
    exit(2);
}

static void damage(void)
{
    rng = strtoull(getenv("ANT_DAMAGE_SEED"), 0, 10);
    void *live[LIVE];
    for (size_t i = 0; i < LIVE; i++)
        live[i] = i % 7 ? ant_malloc(random_size()) : ant_aligned_alloc(64, random_size());
    for (size_t i = 0; i < LIVE; i += 2) {
        ant_free(live[i]);
        live[i] = 0;
    }

    const ant_region_t *r = first_region();
    unsigned char *lo = (unsigned char *)r + ANT_REGION_HEADER_SIZE;
    size_t span = (size_t)((unsigned char *)(uintptr_t)r->wilderness - lo);
    for (uint64_t flips = 1 + random64() % 8; flips; flips--)
        lo[random64() % span] ^= (unsigned char)(1u << random64() % 8);

    ant_check();
    for (int k = 0; k < 3000; k++) {
        size_t i = random64() % LIVE;
        if (!live[i])
            live[i] = ant_malloc(random_size());
        else if (k % 3)
            live[i] = ant_realloc(live[i], random_size() + 1);
        else {
            ant_free(live[i]);
            live[i] = 0;
        }
    }
    ant_check();
    for (size_t i = 0; i < LIVE; i++)
        ant_free(live[i]);
    ant_check();
    child_say("ok\n");
}

static const struct child_scenario scenarios[] = {{"damage", damage}, {0, 0}};

static void run(unsigned seed, const char *options, int may_abort)
{
    char text[32];
    snprintf(text, sizeof text, "%u", seed);
    setenv("ANT_DAMAGE_SEED", text, 1);
    struct child_result r;
    child_run("damage", options, &r);
    int finished = r.exited && r.status == 0 && strcmp(r.out, "ok\n") == 0;
    if (!finished && !(may_abort && r.signal == SIGABRT)) {
        fprintf(stderr, "seed %u: replay with ANT_DAMAGE_SEED=%u %s --child damage\n", seed, seed, "test_damage");
        child_show("damage", options, &r);
        exit(1);
    }
}

int main(int argc, char **argv)
{
    child_enter(argc, argv, scenarios);
    static const char *const reporting[] = {"on_error=report:fit=binned", "on_error=report:fit=first",
                                            "on_error=report:fit=next", "on_error=report:fit=best"};
    for (unsigned seed = 1; seed <= SEEDS; seed++) {
        run(seed, reporting[seed % 4], 0);
        run(seed, 0, 1);
    }
    return 0;
}
