/*
 * test_model.c: the allocator against a model, under the fit policy that
 * ANT_OPTIONS names (CTest runs it once per policy).
 *
 * A million random operations (malloc, calloc, aligned_alloc, realloc
 * growing and shrinking, free) on a table of slots. The model is the table:
 * each live block is filled with a pattern derived from its id, so its
 * expected bytes can be regenerated at any time, and every byte is checked
 * when the block is freed or reallocated and, for all live blocks, at
 * intervals, along with ant_check(), the counters of ant_stats() and the
 * order and contents of ant_walk(). Sizes
 * run from 0 to a few KiB, with rare big ones above the mmap threshold. At
 * the end everything is freed in one of three orders and the heap must be
 * empty.
 *
 * The seed is printed first; ANT_MODEL_SEED replays a run and
 * ANT_MODEL_OPS changes its length.
 */
#include "check.h"

#include <ant/ant.h>
#include <inttypes.h>

#define SLOTS 3000
#define CHECK_EVERY 50000
#define DEFAULT_SEED 12345
#define DEFAULT_OPS 1000000

struct slot {
    unsigned char *p;
    size_t size;
    size_t align;
    uint64_t id;
};

static struct slot slots[SLOTS];
static uint64_t rng;
static uint64_t next_id = 1;
static uint64_t op; /* the operation under way, for failure messages */

/* splitmix64: small, fast, and the same sequence on every platform. */
static uint64_t random64(void)
{
    uint64_t z = (rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static size_t below(size_t n)
{
    return (size_t)(random64() % n);
}

static size_t random_size(void)
{
    size_t r = below(100000);
    if (r < 65000)
        return below(129);
    if (r < 90000)
        return 129 + below(896);
    if (r < 99960)
        return 1025 + below(7 * 1024);
    return ((size_t)256 << 10) + below((size_t)768 << 10);
}

static unsigned char pattern(uint64_t id, size_t i)
{
    return (unsigned char)((id * 0x9e3779b1u) ^ (i * 0x2bu) ^ (i >> 9));
}

static void fill(unsigned char *p, uint64_t id, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++)
        p[i] = pattern(id, i);
}

static void verify(const struct slot *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s->p[i] != pattern(s->id, i)) {
            fprintf(stderr, "operation %" PRIu64 ": block %" PRIu64 " (%zu bytes at %p) differs at byte %zu\n", op,
                    s->id, s->size, (void *)s->p, i);
            exit(1);
        }
    }
}

static void placed(struct slot *s, unsigned char *p, size_t size, size_t align)
{
    CHECK(p != 0);
    CHECK_EQ((uintptr_t)p % align, 0);
    s->p = p;
    s->size = size;
    s->align = align;
    s->id = next_id++;
}

static void allocate(struct slot *s)
{
    size_t size = random_size();
    size_t r = below(100);
    if (r < 70) {
        placed(s, ant_malloc(size), size, 16);
    } else if (r < 85) {
        unsigned char *p = ant_calloc(1, size);
        CHECK(p != 0);
        for (size_t i = 0; i < size; i++)
            CHECK_EQ(p[i], 0);
        placed(s, p, size, 16);
    } else {
        size_t align = (size_t)32 << below(8);
        placed(s, ant_aligned_alloc(align, size), size, align);
    }
    fill(s->p, s->id, 0, size);
}

static void reallocate(struct slot *s)
{
    size_t size = random_size();
    verify(s, s->size);
    unsigned char *p = ant_realloc(s->p, size);
    if (size == 0) {
        CHECK(p == 0);
        s->p = 0;
        return;
    }
    CHECK(p != 0);
    CHECK_EQ((uintptr_t)p % 16, 0);
    size_t kept = size < s->size ? size : s->size;
    s->p = p;
    verify(s, kept);
    s->size = size;
    s->align = 16;
    fill(p, s->id, kept, size);
}

static void release(struct slot *s)
{
    verify(s, s->size);
    ant_free(s->p);
    s->p = 0;
}

struct walked {
    size_t used, requested, largest_free;
    uintptr_t last;
    int in_bigs;
};

/* Blocks come in address order: the regions' first, then the big ones. */
static int tally(const ant_block_info_t *b, void *arg)
{
    struct walked *w = arg;
    if (b->big && !w->in_bigs) {
        w->in_bigs = 1;
        w->last = 0;
    }
    CHECK(b->big == w->in_bigs);
    CHECK((uintptr_t)b->mem > w->last);
    w->last = (uintptr_t)b->mem;
    if (b->state == ANT_BLOCK_USED) {
        w->used++;
        w->requested += b->requested;
    } else if (b->size > w->largest_free) {
        w->largest_free = b->size;
    }
    return 0;
}

static void audit(void)
{
    size_t live = 0, requested = 0;
    for (size_t i = 0; i < SLOTS; i++) {
        if (!slots[i].p)
            continue;
        verify(&slots[i], slots[i].size);
        CHECK_EQ(ant_usable_size(slots[i].p), slots[i].size);
        live++;
        requested += slots[i].size;
    }
    if (ant_check() != 0) {
        fprintf(stderr, "operation %" PRIu64 ": ant_check found problems\n", op);
        exit(1);
    }
    ant_stats_t st;
    ant_stats(&st);
    CHECK_EQ(st.used_blocks, live);
    CHECK_EQ(st.requested_bytes, requested);
    struct walked w = {0};
    CHECK_EQ(ant_walk(tally, &w), 0);
    CHECK_EQ(w.used, live);
    CHECK_EQ(w.requested, requested);
    CHECK_EQ(w.largest_free, st.largest_free);
}

static uint64_t env_number(const char *name, uint64_t fallback)
{
    const char *text = getenv(name);
    return text && *text ? strtoull(text, 0, 10) : fallback;
}

int main(void)
{
    uint64_t seed = env_number("ANT_MODEL_SEED", DEFAULT_SEED);
    uint64_t ops = env_number("ANT_MODEL_OPS", DEFAULT_OPS);
    const char *options = getenv("ANT_OPTIONS");
    printf("seed %" PRIu64 "; replay with ANT_MODEL_SEED=%" PRIu64 " (ANT_OPTIONS=%s, %" PRIu64 " operations)\n", seed,
           seed, options ? options : "", ops);
    fflush(stdout);
    rng = seed;

    for (op = 0; op < ops; op++) {
        struct slot *s = &slots[below(SLOTS)];
        if (!s->p) {
            allocate(s);
        } else {
            size_t r = below(100);
            if (r < 50)
                release(s);
            else if (r < 85)
                reallocate(s);
            else
                CHECK_EQ(ant_usable_size(s->p), s->size);
        }
        if ((op + 1) % CHECK_EVERY == 0)
            audit();
    }
    audit();

    /* The last frees in forward, reverse or random order, by the seed. */
    size_t order = (size_t)(seed % 3);
    for (size_t k = 0; k < SLOTS; k++) {
        size_t i = order == 0 ? k : order == 1 ? SLOTS - 1 - k : below(SLOTS);
        if (slots[i].p)
            release(&slots[i]);
    }
    for (size_t i = 0; i < SLOTS; i++)
        if (slots[i].p)
            release(&slots[i]);
    ant_stats_t st;
    ant_stats(&st);
    CHECK_EQ(st.used_blocks, 0);
    CHECK_EQ(st.big_blocks, 0);
    CHECK_EQ(ant_check(), 0);
    printf("done: %" PRIu64 " operations, %" PRIu64 " blocks, %zu allocations\n", ops, next_id - 1, st.allocations);
    return 0;
}
