/*
 * test_options.c: every option of ANT_OPTIONS, and malformed entries.
 *
 * Options are read once at start-up, so each case runs a child whose probe
 * measures what the allocator actually does: the fit policy and
 * poison_check from the root, region_size from the first mapping, and
 * mmap_threshold and trim_threshold by binary search for the smallest
 * request that gets a mapping of its own and the smallest free last block
 * that goes back to the wilderness. A bad entry must print exactly one line that
 * starts with "ant: ANT_OPTIONS" and leave every default as it was.
 */
#include "check.h"
#include "child.h"

#include <ant/ant.h>
#include "root.h"

#define SEARCH_LIMIT ((size_t)64 << 20)

static ant_stats_t stats(void)
{
    ant_stats_t s;
    ant_stats(&s);
    return s;
}

static size_t request_for_block(size_t block)
{
    return block - ANT_NODE_SIZE - ANT_TAIL_SIZE;
}

enum fate { STAYS, TRIMMED, MAPPED };

/* Big blocks the probes made stay live until the probing is over: freeing
 * one would raise both thresholds (the dynamic rule of big.c) and move
 * what is being measured. */
static void *kept[256];
static size_t kept_count;

static void keep(void *p)
{
    CHECK(kept_count < sizeof kept / sizeof kept[0]);
    kept[kept_count++] = p;
}

static void free_kept(void)
{
    while (kept_count)
        ant_free(kept[--kept_count]);
}

/*
 * What becomes of a last block of `block` bytes when it is freed. One that
 * stays is a free last block, smaller than any later probe of the binary
 * search, so the next probe extends it and is again the region's last
 * block; one that is trimmed or mapped leaves the region as it was.
 */
static enum fate fate(size_t block)
{
    size_t bigs = stats().big_blocks;
    void *p = ant_malloc(request_for_block(block));
    if (stats().big_blocks > bigs) {
        keep(p);
        return MAPPED;
    }
    /* A trimmed block may take its whole region along, so its bytes are
     * followed into the free bytes rather than into the wilderness. */
    size_t before = stats().free_bytes;
    ant_free(p);
    return stats().free_bytes >= before + block ? STAYS : TRIMMED;
}

/* The smallest block trimmed when freed; 0 if every block big enough to
 * be trimmed gets a mapping of its own instead. */
static size_t smallest_trimmed(void)
{
    size_t lo = ANT_MIN_BLOCK, hi = SEARCH_LIMIT;
    enum fate at_hi = fate(hi);
    while (hi - lo > ANT_ALIGN) {
        size_t mid = (lo + (hi - lo) / 2) & ~(size_t)(ANT_ALIGN - 1);
        enum fate f = fate(mid);
        if (f == STAYS) {
            lo = mid;
        } else {
            hi = mid;
            at_hi = f;
        }
    }
    return at_hi == TRIMMED ? hi : 0;
}

static int mapped_alone(size_t request)
{
    size_t bigs = stats().big_blocks;
    void *p = ant_malloc(request);
    int big = stats().big_blocks > bigs;
    if (big)
        keep(p);
    else
        ant_free(p);
    return big;
}

static size_t smallest_mapped_alone(void)
{
    size_t lo = 0, hi = SEARCH_LIMIT;
    if (!mapped_alone(hi))
        return 0;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (mapped_alone(mid))
            hi = mid;
        else
            lo = mid;
    }
    return hi;
}

static void probe(void)
{
    void *below = ant_malloc(16);
    CHECK(below != 0);
    size_t region_size = stats().mapped_bytes;
    size_t trim_threshold = smallest_trimmed();
    size_t mmap_threshold = smallest_mapped_alone();
    free_kept();
    ant_free(below);
    CHECK_EQ(ant_check(), 0);
    child_say("fit=%u poison_check=%zu region_size=%zu mmap_threshold=%zu trim_threshold=%zu\n", root()->fit,
              (size_t)root()->poison_check, region_size, mmap_threshold, trim_threshold);
}

/* A region size larger than the OS will map in one piece still serves
 * requests, from smaller regions. */
static void huge_region(void)
{
    void *blocks[100];
    for (int i = 0; i < 100; i++) {
        blocks[i] = ant_malloc((size_t)i * 1000);
        CHECK(blocks[i] != 0);
    }
    for (int i = 0; i < 100; i++)
        ant_free(blocks[i]);
    CHECK_EQ(ant_check(), 0);
    child_say("ok\n");
}

/* Options are read at start-up, not again. */
static void read_once(void)
{
    ant_free(ant_malloc(1));
    setenv("ANT_OPTIONS", "fit=first", 1);
    ant_free(ant_malloc(1));
    child_say("fit=%u\n", root()->fit);
}

static const struct child_scenario scenarios[] = {
    {"probe", probe}, {"huge_region", huge_region}, {"read_once", read_once}, {0, 0}};

#define DEFAULTS "fit=3 poison_check=4096 region_size=1048576 mmap_threshold=262144 trim_threshold=131072\n"

static void expect_probe(const char *options, const char *want, const char *warning)
{
    struct child_result r;
    child_run("probe", options, &r);
    int ok = r.exited && r.status == 0 && strcmp(r.out, want) == 0;
    if (warning)
        ok = ok && child_count_lines(r.err, "") == 1 && child_count_lines(r.err, "ant: ANT_OPTIONS") == 1 &&
             strstr(r.err, warning) != 0;
    else
        ok = ok && r.err[0] == 0;
    if (!ok) {
        child_show("probe", options, &r);
        fprintf(stderr, "expected stdout: %sexpected stderr: %s\n", want,
                warning ? "one ANT_OPTIONS line naming the entry" : "nothing");
        exit(1);
    }
}

int main(int argc, char **argv)
{
    child_enter(argc, argv, scenarios);

    expect_probe(0, DEFAULTS, 0);
    expect_probe("", DEFAULTS, 0);

    expect_probe("fit=first",
                 "fit=0 poison_check=4096 region_size=1048576 mmap_threshold=262144 "
                 "trim_threshold=131072\n",
                 0);
    expect_probe("fit=next",
                 "fit=1 poison_check=4096 region_size=1048576 mmap_threshold=262144 "
                 "trim_threshold=131072\n",
                 0);
    expect_probe("fit=best",
                 "fit=2 poison_check=4096 region_size=1048576 mmap_threshold=262144 "
                 "trim_threshold=131072\n",
                 0);
    expect_probe("fit=worst",
                 "fit=4 poison_check=4096 region_size=1048576 mmap_threshold=262144 "
                 "trim_threshold=131072\n",
                 0);
    expect_probe("fit=binned", DEFAULTS, 0);
    /* Nothing reaches the trim threshold once blocks that large are mapped. */
    expect_probe("mmap_threshold=64K",
                 "fit=3 poison_check=4096 region_size=1048576 mmap_threshold=65536 "
                 "trim_threshold=0\n",
                 0);
    expect_probe("mmap_threshold=1m:trim_threshold=512k",
                 "fit=3 poison_check=4096 region_size=1048576 "
                 "mmap_threshold=1048576 trim_threshold=524288\n",
                 0);
    expect_probe("trim_threshold=8k",
                 "fit=3 poison_check=4096 region_size=1048576 mmap_threshold=262144 "
                 "trim_threshold=8192\n",
                 0);
    expect_probe("trim_threshold=5000",
                 "fit=3 poison_check=4096 region_size=1048576 mmap_threshold=262144 "
                 "trim_threshold=5008\n",
                 0);
    expect_probe("region_size=256k",
                 "fit=3 poison_check=4096 region_size=262144 mmap_threshold=262144 "
                 "trim_threshold=131072\n",
                 0);
    expect_probe("region_size=4m",
                 "fit=3 poison_check=4096 region_size=4194304 mmap_threshold=262144 "
                 "trim_threshold=131072\n",
                 0);
    expect_probe("poison_check=0",
                 "fit=3 poison_check=0 region_size=1048576 mmap_threshold=262144 "
                 "trim_threshold=131072\n",
                 0);
    expect_probe("poison_check=1g",
                 "fit=3 poison_check=1073741824 region_size=1048576 mmap_threshold=262144 "
                 "trim_threshold=131072\n",
                 0);
    expect_probe("fit=best:mmap_threshold=2m:trim_threshold=16k:region_size=128k:poison_check=64:on_error=report",
                 "fit=2 poison_check=64 region_size=131072 mmap_threshold=2097152 trim_threshold=16384\n", 0);
    expect_probe("cache_bytes=64k:cache=8", DEFAULTS, 0);
    expect_probe("::fit=first:",
                 "fit=0 poison_check=4096 region_size=1048576 mmap_threshold=262144 "
                 "trim_threshold=131072\n",
                 0);

    /* Each malformed entry: one line naming it, and the defaults hold. */
    expect_probe("colour=red", DEFAULTS, "unknown key 'colour'");
    expect_probe("=5", DEFAULTS, "unknown key ''");
    expect_probe("fit", DEFAULTS, "'fit' is not key=value");
    expect_probe("fit=random", DEFAULTS, "'random' for fit");
    expect_probe("fit=", DEFAULTS, "'' for fit");
    expect_probe("on_error=maybe", DEFAULTS, "'maybe' for on_error");
    expect_probe("mmap_threshold=1k", DEFAULTS, "'1k' for mmap_threshold");
    expect_probe("mmap_threshold=2t", DEFAULTS, "'2t' for mmap_threshold");
    expect_probe("mmap_threshold=99999999999999999999999", DEFAULTS, "for mmap_threshold");
    expect_probe("trim_threshold=12q", DEFAULTS, "'12q' for trim_threshold");
    expect_probe("trim_threshold=-4096", DEFAULTS, "'-4096' for trim_threshold");
    expect_probe("region_size=32k", DEFAULTS, "'32k' for region_size");
    expect_probe("region_size=k", DEFAULTS, "'k' for region_size");
    expect_probe("poison_check=", DEFAULTS, "'' for poison_check");
    expect_probe("poison_check=2t", DEFAULTS, "'2t' for poison_check");
    expect_probe("cache_bytes=1k", DEFAULTS, "'1k' for cache_bytes");
    expect_probe("cache_bytes=2g", DEFAULTS, "'2g' for cache_bytes");

    /* A bad entry among good ones spoils only itself. */
    expect_probe("fit=first:bogus:trim_threshold=8k",
                 "fit=0 poison_check=4096 region_size=1048576 "
                 "mmap_threshold=262144 trim_threshold=8192\n",
                 "'bogus'");

    struct child_result r;
    child_run("huge_region", "region_size=1t", &r);
    if (!r.exited || r.status != 0 || strcmp(r.out, "ok\n") != 0 || r.err[0]) {
        child_show("huge_region", "region_size=1t", &r);
        exit(1);
    }

    child_run("read_once", 0, &r);
    if (!r.exited || r.status != 0 || strcmp(r.out, "fit=3\n") != 0) {
        child_show("read_once", 0, &r);
        exit(1);
    }
    return 0;
}
