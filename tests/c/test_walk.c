/*
 * test_walk.c: ant_walk reports every block once, in address order (the
 * regions' blocks tile without gaps, then the big blocks), with its state,
 * its serial (the Nth allocation of the process) and its site: the return
 * address inside the function that called the allocator.
 */
#include "check.h"

#include <ant/ant.h>
#include <dlfcn.h>

/* Exported (the test links with -rdynamic) so that dladdr names them. */
void *walk_site_one(size_t n);
void *walk_site_two(size_t n);

/* The empty asm keeps the call from becoming a tail call, which would
 * make the site this function's caller. */
__attribute__((noinline)) void *walk_site_one(size_t n)
{
    void *p = ant_malloc(n);
    __asm__ volatile("" ::: "memory");
    return p;
}

__attribute__((noinline)) void *walk_site_two(size_t n)
{
    void *p = ant_calloc(1, n);
    __asm__ volatile("" ::: "memory");
    return p;
}

#define MAX_ROWS 64

struct rows {
    size_t n;
    ant_block_info_t row[MAX_ROWS];
};

static int collect(const ant_block_info_t *block, void *arg)
{
    struct rows *rows = arg;
    CHECK(rows->n < MAX_ROWS);
    rows->row[rows->n++] = *block;
    return 0;
}

static const ant_block_info_t *find(const struct rows *rows, const void *mem)
{
    for (size_t i = 0; i < rows->n; i++)
        if (rows->row[i].mem == mem)
            return &rows->row[i];
    fprintf(stderr, "block %p not in the walk\n", mem);
    exit(1);
}

static void site_is_in(const ant_block_info_t *b, const char *function, uintptr_t address)
{
    Dl_info info;
    CHECK(dladdr(b->site, &info) != 0);
    CHECK(info.dli_sname != 0);
    if (strcmp(info.dli_sname, function) != 0) {
        fprintf(stderr, "site %p is in %s, expected %s\n", b->site, info.dli_sname, function);
        exit(1);
    }
    CHECK_EQ((uintptr_t)info.dli_saddr, address);
    CHECK((uintptr_t)b->site > address);
}

static int stop_at_third(const ant_block_info_t *block, void *arg)
{
    (void)block;
    int *calls = arg;
    return ++*calls == 3 ? 7 : 0;
}

int main(void)
{
    /* A fresh process: these are allocations 1 to 6. */
    void *a = walk_site_one(100);
    void *b = walk_site_two(200);
    void *c = walk_site_one(300);
    void *big1 = walk_site_two(400000);
    void *d = walk_site_one(50);
    void *big2 = walk_site_one(500000);
    ant_free(b);
    /* Allocation 7 reuses nothing: 5000 bytes fit in no free block. */
    void *e = walk_site_two(5000);

    struct rows rows = {0};
    CHECK_EQ(ant_walk(collect, &rows), 0);
    CHECK_EQ(rows.n, 7);

    const struct {
        void *mem;
        size_t requested;
        ant_block_state_t state;
        uint64_t serial;
        int big;
        const char *function;
        uintptr_t address;
    } want[] = {
        {a, 100, ANT_BLOCK_USED, 1, 0, "walk_site_one", (uintptr_t)walk_site_one},
        {b, 0, ANT_BLOCK_FREE, 2, 0, "walk_site_two", (uintptr_t)walk_site_two},
        {c, 300, ANT_BLOCK_USED, 3, 0, "walk_site_one", (uintptr_t)walk_site_one},
        {d, 50, ANT_BLOCK_USED, 5, 0, "walk_site_one", (uintptr_t)walk_site_one},
        {e, 5000, ANT_BLOCK_USED, 7, 0, "walk_site_two", (uintptr_t)walk_site_two},
        {big1, 400000, ANT_BLOCK_USED, 4, 1, "walk_site_two", (uintptr_t)walk_site_two},
        {big2, 500000, ANT_BLOCK_USED, 6, 1, "walk_site_one", (uintptr_t)walk_site_one},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const ant_block_info_t *r = find(&rows, want[i].mem);
        CHECK_EQ(r->requested, want[i].requested);
        CHECK_EQ(r->state, want[i].state);
        CHECK_EQ(r->serial, want[i].serial);
        CHECK_EQ(r->big, want[i].big);
        site_is_in(r, want[i].function, want[i].address);
    }

    /* Address order: the region's blocks tile it, the big ones follow. */
    size_t regular = 0;
    while (regular < rows.n && !rows.row[regular].big)
        regular++;
    CHECK_EQ(regular, 5);
    for (size_t i = 1; i < regular; i++)
        CHECK((char *)rows.row[i - 1].mem + rows.row[i - 1].size == (char *)rows.row[i].mem);
    for (size_t i = regular; i < rows.n; i++)
        CHECK(rows.row[i].big);
    CHECK((uintptr_t)rows.row[regular].mem < (uintptr_t)rows.row[regular + 1].mem);

    int calls = 0;
    CHECK_EQ(ant_walk(stop_at_third, &calls), 7);
    CHECK_EQ(calls, 3);

    /* A realloc in place is a new allocation: a new serial and site. */
    void *a2 = ant_realloc(a, 10);
    CHECK(a2 == a);
    rows.n = 0;
    ant_walk(collect, &rows);
    CHECK_EQ(find(&rows, a)->serial, 8);
    CHECK_EQ(find(&rows, a)->requested, 10);

    ant_free(a);
    ant_free(c);
    ant_free(d);
    ant_free(e);
    ant_free(big1);
    ant_free(big2);
    CHECK_EQ(ant_check(), 0);
    return 0;
}
