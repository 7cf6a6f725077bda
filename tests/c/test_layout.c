/*
 * test_layout.c: the exact block list after each step of a scripted
 * sequence, as umm_malloc's check_blocks does: allocate, split, free,
 * coalesce [free, used, free] into one free block, the wilderness shrinking
 * under a growing last block and growing back when a large free last block
 * is trimmed, and a lead block split off for alignment.
 *
 * Rows are (offset of the mem from the first block's mem, block size,
 * requested size, state). The region is page-aligned and its first mem sits
 * after the region header and one node, so alignments below a page are
 * fixed by the script too. Default options: binned fit, 1 MiB regions,
 * 128 KiB trim threshold.
 */
#include "check.h"

#include <ant/ant.h>
#include <ant/layout.h>
#include <unistd.h>

#define U ANT_BLOCK_USED
#define F ANT_BLOCK_FREE
#define MAX_ROWS 16
#define REGION_SPACE (((size_t)1 << 20) - ANT_REGION_HEADER_SIZE)

struct row {
    size_t offset, size, requested;
    ant_block_state_t state;
};

struct table {
    size_t n;
    struct row row[MAX_ROWS];
};

static unsigned char *first_mem;

static int collect(const ant_block_info_t *b, void *arg)
{
    struct table *t = arg;
    CHECK(t->n < MAX_ROWS);
    t->row[t->n++] = (struct row){(size_t)((unsigned char *)b->mem - first_mem), b->size, b->requested, b->state};
    return 0;
}

static void print(const char *title, const struct table *t)
{
    fprintf(stderr, "%s\n", title);
    for (size_t i = 0; i < t->n; i++)
        fprintf(stderr, "  {%zu, %zu, %zu, %s}\n", t->row[i].offset, t->row[i].size, t->row[i].requested,
                t->row[i].state == U ? "U" : "F");
}

/* `used` is the bytes of blocks in the region: the wilderness is the rest. */
static void expect(int line, size_t used, size_t n, const struct row *want)
{
    struct table got = {0};
    ant_walk(collect, &got);
    int same = got.n == n;
    for (size_t i = 0; same && i < n; i++)
        same = got.row[i].offset == want[i].offset && got.row[i].size == want[i].size &&
               got.row[i].requested == want[i].requested && got.row[i].state == want[i].state;
    if (!same) {
        struct table w = {.n = n};
        memcpy(w.row, want, n * sizeof *want);
        fprintf(stderr, "%s:%d: the block list differs\n", __FILE__, line);
        print("expected:", &w);
        print("found:", &got);
        exit(1);
    }
    ant_stats_t s;
    ant_stats(&s);
    CHECK_EQ(s.wilderness_bytes, REGION_SPACE - used);
    CHECK_EQ(ant_check(), 0);
}

#define EXPECT(used, ...)                                              \
    do {                                                               \
        const struct row want_[] = {__VA_ARGS__};                      \
        expect(__LINE__, used, sizeof want_ / sizeof want_[0], want_); \
    } while (0)

#define EXPECT_EMPTY(used)                          \
    do {                                            \
        const struct row none_[1] = {{0, 0, 0, F}}; \
        expect(__LINE__, used, 0, none_);           \
    } while (0)

int main(void)
{
    char *a = ant_malloc(100);
    first_mem = (unsigned char *)a;
    CHECK_EQ((uintptr_t)first_mem % (uintptr_t)sysconf(_SC_PAGESIZE), ANT_REGION_HEADER_SIZE + ANT_NODE_SIZE);
    char *b = ant_malloc(200);
    char *c = ant_malloc(50);
    char *d = ant_malloc(300);
    EXPECT(832, {0, 144, 100, U}, {144, 240, 200, U}, {384, 96, 50, U}, {480, 352, 300, U});

    ant_free(b);
    EXPECT(832, {0, 144, 100, U}, {144, 240, 0, F}, {384, 96, 50, U}, {480, 352, 300, U});

    /* A free last block below the trim threshold stays a block. */
    ant_free(d);
    EXPECT(832, {0, 144, 100, U}, {144, 240, 0, F}, {384, 96, 50, U}, {480, 352, 0, F});

    /* [free, used, free]: freeing the middle leaves one free block. */
    ant_free(c);
    EXPECT(832, {0, 144, 100, U}, {144, 688, 0, F});

    /* Splitting: the front serves the request, the rest stays free. */
    char *e = ant_malloc(40);
    EXPECT(832, {0, 144, 100, U}, {144, 80, 40, U}, {224, 608, 0, F});

    /* Nothing free is big enough: the free last block grows over the
     * wilderness, which shrinks by the difference. */
    char *f = ant_malloc(1000);
    EXPECT(1264, {0, 144, 100, U}, {144, 80, 40, U}, {224, 1040, 1000, U});

    /* A large free last block goes back to the wilderness. */
    char *g = ant_malloc(200000);
    EXPECT(201312, {0, 144, 100, U}, {144, 80, 40, U}, {224, 1040, 1000, U}, {1264, 200048, 200000, U});
    ant_free(g);
    EXPECT(1264, {0, 144, 100, U}, {144, 80, 40, U}, {224, 1040, 1000, U});

    char *h = ant_malloc(1000);
    ant_free(h);
    EXPECT(2304, {0, 144, 100, U}, {144, 80, 40, U}, {224, 1040, 1000, U}, {1264, 1040, 0, F});
    ant_free(f);
    EXPECT(2304, {0, 144, 100, U}, {144, 80, 40, U}, {224, 2080, 0, F});

    /* 256-byte alignment: mem 224 is first mem + 224 = page + 336, so the
     * next 256-aligned mem with room for a free block in front is page +
     * 512, offset 400; the lead block is 176 bytes, the rest splits off. */
    char *p = ant_aligned_alloc(256, 64);
    CHECK_EQ((uintptr_t)p % 256, 0);
    EXPECT(2304, {0, 144, 100, U}, {144, 80, 40, U}, {224, 176, 0, F}, {400, 112, 64, U}, {512, 1792, 0, F});
    ant_free(p);
    EXPECT(2304, {0, 144, 100, U}, {144, 80, 40, U}, {224, 2080, 0, F});

    ant_free(e);
    ant_free(a);
    EXPECT(2304, {0, 2304, 0, F});

    /* A large free block not at the end stays, until the block above it is
     * freed: then all of it merges and goes back to the wilderness. */
    char *x = ant_malloc(150000);
    char *y = ant_malloc(16);
    EXPECT(150112, {0, 150048, 150000, U}, {150048, 64, 16, U});
    ant_free(x);
    EXPECT(150112, {0, 150048, 0, F}, {150048, 64, 16, U});
    ant_free(y);
    EXPECT_EMPTY(0);
    return 0;
}
