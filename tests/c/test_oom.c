/*
 * test_oom.c: when the OS refuses memory, the allocator returns NULL with
 * ENOMEM rather than crash, and the heap still works. A child limits its
 * address space to what it uses plus 64 MiB, then asks for more than that
 * at once, and for region-sized and big blocks until they run out.
 */
#include "check.h"
#include "child.h"

#include <ant/ant.h>
#include <errno.h>
#include <sys/resource.h>
#include <unistd.h>

#define HEADROOM ((size_t)64 << 20)
#define MAX_BLOCKS 4096

static size_t address_space(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    CHECK(f != 0);
    unsigned long pages;
    CHECK(fscanf(f, "%lu", &pages) == 1);
    fclose(f);
    return (size_t)pages * (size_t)sysconf(_SC_PAGESIZE);
}

/* Allocates blocks of `size` until the allocator says no. */
static size_t exhaust(void **blocks, size_t size)
{
    size_t n = 0;
    for (;;) {
        CHECK(n < MAX_BLOCKS);
        errno = 0;
        void *p = ant_malloc(size);
        if (!p)
            break;
        memset(p, 0x3c, 64);
        blocks[n++] = p;
    }
    CHECK_EQ(errno, ENOMEM);
    CHECK(n > 0);
    CHECK_EQ(ant_check(), 0);
    return n;
}

static void limited(void)
{
    static void *blocks[MAX_BLOCKS];
    unsigned char *keep = ant_malloc(100);
    memset(keep, 7, 100);
    struct rlimit limit = {address_space() + HEADROOM, address_space() + HEADROOM};
    CHECK(setrlimit(RLIMIT_AS, &limit) == 0);

    errno = 0;
    CHECK(ant_malloc((size_t)1 << 30) == 0);
    CHECK_EQ(errno, ENOMEM);
    errno = 0;
    CHECK(ant_aligned_alloc(4096, (size_t)512 << 20) == 0);
    CHECK_EQ(errno, ENOMEM);
    errno = 0;
    CHECK(ant_realloc(keep, (size_t)1 << 30) == 0);
    CHECK_EQ(errno, ENOMEM);
    for (size_t i = 0; i < 100; i++)
        CHECK_EQ(keep[i], 7);

    /* Region-sized blocks: the regions grow until the OS says no. */
    size_t n = exhaust(blocks, (size_t)200 << 10);
    for (size_t i = 0; i < n; i++)
        ant_free(blocks[i]);
    CHECK_EQ(ant_check(), 0);

    n = exhaust(blocks, (size_t)1 << 20);
    for (size_t i = 0; i < n; i++)
        ant_free(blocks[i]);
    CHECK_EQ(ant_check(), 0);

    for (size_t i = 0; i < 1000; i++) {
        blocks[i] = ant_malloc(i);
        CHECK(blocks[i] != 0);
    }
    for (size_t i = 0; i < 1000; i++)
        ant_free(blocks[i]);
    ant_free(keep);
    CHECK_EQ(ant_check(), 0);
    child_say("ok\n");
}

static const struct child_scenario scenarios[] = {{"limited", limited}, {0, 0}};

int main(int argc, char **argv)
{
    child_enter(argc, argv, scenarios);
#if defined(__SANITIZE_ADDRESS__)
    /* AddressSanitizer's shadow memory cannot live under an address-space
     * limit. */
    printf("skipped: AddressSanitizer\n");
    return 77;
#else
    struct child_result r;
    child_run("limited", 0, &r);
    if (!r.exited || r.status != 0 || strcmp(r.out, "ok\n") != 0 || r.err[0]) {
        child_show("limited", 0, &r);
        return 1;
    }
    return 0;
#endif
}
