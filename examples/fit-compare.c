/*
 * fit-compare.c: the same requests under each fit policy, side by side.
 *
 * Options are read once, when a process starts Ant (a fork does too), so
 * each policy gets a program of its own: the parent runs itself again with
 * "--policy NAME" and ANT_OPTIONS set, that run replays the requests and
 * writes its numbers on one line to a pipe, and the parent prints them as a
 * table with a column per policy.
 *
 * The first rows replay the walkthrough (examples/first-fit.c): where f
 * lands in step 3 and n in step 5. The rest follow a long run of random
 * mallocs and frees from a fixed seed, so the output is the same on every
 * run.
 */
/* setenv(), fork() and pipe() are POSIX, not C11. */
#define _POSIX_C_SOURCE 200809L

#include <ant/ant.h>
#include <ant/layout.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define SLOTS 256
#define OPERATIONS 4000

static const char *const policies[] = {"first", "next", "best", "worst", "binned"};
#define POLICIES (sizeof policies / sizeof policies[0])

/* What one policy did: where f and n landed (a mem offset from the start
 * of the region, and how), then the heap after the random run. */
struct result {
    long f_offset, n_offset;
    char f_how, n_how; /* s: split a hole, w: took a hole whole, c: carved from the wilderness */
    size_t carved, holes, hole_bytes, largest, used, requested;
};

static const unsigned char *region_start;

static long offset_of(const void *mem)
{
    return (long)((const unsigned char *)mem - region_start);
}

/* A request, told as the walkthrough tells it: the hole it took, whole or
 * split, or the wilderness. */
static void *place(size_t size, long *offset, char *how)
{
    ant_stats_t before;
    ant_stats(&before);
    void *mem = ant_malloc(size);
    if (!mem)
        exit(1);
    ant_stats_t after;
    ant_stats(&after);
    *offset = offset_of(mem);
    if (after.wilderness_bytes < before.wilderness_bytes)
        *how = 'c';
    else
        *how = after.free_blocks == before.free_blocks ? 's' : 'w';
    return mem;
}

static void walkthrough(struct result *r)
{
    void *a = ant_malloc(100);
    if (!a)
        exit(1);
    region_start = (const unsigned char *)a - ANT_NODE_SIZE - ANT_REGION_HEADER_SIZE;
    void *b = ant_malloc(200);
    void *c = ant_malloc(100);
    void *d = ant_malloc(40);
    void *e = ant_malloc(100);
    ant_free(b);
    ant_free(d);
    void *f = place(40, &r->f_offset, &r->f_how);
    ant_free(c);
    ant_free(a);
    void *n = place(40, &r->n_offset, &r->n_how);
    ant_free(n);
    ant_free(f);
    ant_free(e);
}

/* Mostly small requests, some medium, a few of a few KiB: a typical mix. */
static size_t random_size(uint64_t *state)
{
    *state = *state * 6364136223846793005u + 1442695040888963407u;
    unsigned pick = (unsigned)(*state >> 33);
    unsigned kind = pick % 20;
    if (kind < 14)
        return 16 + pick / 20 % 113;
    if (kind < 19)
        return 128 + pick / 20 % 897;
    return 1024 + pick / 20 % 3073;
}

static void random_run(struct result *r)
{
    static void *live[SLOTS];
    uint64_t state = 1;
    for (int i = 0; i < OPERATIONS; i++) {
        size_t size = random_size(&state);
        size_t slot = (size_t)(state >> 40) % SLOTS;
        if (live[slot]) {
            ant_free(live[slot]);
            live[slot] = 0;
        } else if (!(live[slot] = ant_malloc(size))) {
            exit(1);
        }
    }
    ant_stats_t s;
    ant_stats(&s);
    r->carved = s.used_bytes + s.free_bytes;
    r->holes = s.free_blocks;
    r->hole_bytes = s.free_bytes;
    r->largest = s.largest_free;
    r->used = s.used_bytes;
    r->requested = s.requested_bytes;
}

static int run_policy(void)
{
    struct result r = {0};
    walkthrough(&r);
    random_run(&r);
    printf("%ld %c %ld %c %zu %zu %zu %zu %zu %zu\n", r.f_offset, r.f_how, r.n_offset, r.n_how, r.carved, r.holes,
           r.hole_bytes, r.largest, r.used, r.requested);
    return fflush(stdout) == 0 ? 0 : 1;
}

static int collect(const char *policy, struct result *r)
{
    int fds[2];
    if (pipe(fds) != 0)
        return -1;
    pid_t child = fork();
    if (child < 0)
        return -1;
    if (child == 0) {
        char options[64];
        snprintf(options, sizeof options, "fit=%s:cache=0", policy);
        setenv("ANT_OPTIONS", options, 1);
        if (dup2(fds[1], STDOUT_FILENO) < 0)
            _exit(1);
        execl("/proc/self/exe", "fit-compare", "--policy", (char *)0);
        _exit(1);
    }
    close(fds[1]);
    FILE *in = fdopen(fds[0], "r");
    int got = in ? fscanf(in, "%ld %c %ld %c %zu %zu %zu %zu %zu %zu", &r->f_offset, &r->f_how, &r->n_offset, &r->n_how,
                          &r->carved, &r->holes, &r->hole_bytes, &r->largest, &r->used, &r->requested)
                 : 0;
    if (in)
        fclose(in);
    int status;
    if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 0 || got != 10)
        return -1;
    return 0;
}

static void row_place(const char *label, const struct result *results, int n)
{
    printf("%-34s", label);
    for (size_t i = 0; i < POLICIES; i++) {
        const struct result *r = &results[i];
        char cell[32];
        char how = n ? r->n_how : r->f_how;
        snprintf(cell, sizeof cell, "%ld %s", n ? r->n_offset : r->f_offset,
                 how == 's'   ? "split"
                 : how == 'w' ? "whole"
                              : "new");
        printf(" %10s", cell);
    }
    printf("\n");
}

static void row_size(const char *label, const struct result *results, size_t offset)
{
    printf("%-34s", label);
    for (size_t i = 0; i < POLICIES; i++)
        printf(" %10zu", *(const size_t *)((const char *)&results[i] + offset));
    printf("\n");
}

/* Ratios in hundredths, printed without floating point so that every
 * machine prints the same digits. */
static void row_ratio(const char *label, const struct result *results, int internal)
{
    printf("%-34s", label);
    for (size_t i = 0; i < POLICIES; i++) {
        const struct result *r = &results[i];
        size_t part = internal ? r->used - r->requested : r->hole_bytes - r->largest;
        size_t whole = internal ? r->used : r->hole_bytes;
        size_t hundredths = whole ? (part * 100 + whole / 2) / whole : 0;
        printf(" %7zu.%02zu", hundredths / 100, hundredths % 100);
    }
    printf("\n");
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--policy") == 0)
        return run_policy();
    struct result results[POLICIES];
    for (size_t i = 0; i < POLICIES; i++) {
        if (collect(policies[i], &results[i]) != 0) {
            fprintf(stderr, "fit-compare: the run under fit=%s failed\n", policies[i]);
            return 1;
        }
    }
    printf("The same requests under each fit policy (ANT_OPTIONS=fit=NAME:cache=0).\n\n");
    printf("%-34s", "");
    for (size_t i = 0; i < POLICIES; i++)
        printf(" %10s", policies[i]);
    printf("\n\nThe walkthrough: mem offset of the block, and the hole it took\n");
    row_place("  step 3: f = ant_malloc(40)", results, 0);
    row_place("  step 5: n = ant_malloc(40)", results, 1);
    printf("\nAfter %d random mallocs and frees (16 B to 4 KiB, seed 1)\n", OPERATIONS);
    row_size("  bytes carved from the wilderness", results, offsetof(struct result, carved));
    row_size("  holes (free blocks)", results, offsetof(struct result, holes));
    row_size("  bytes in holes", results, offsetof(struct result, hole_bytes));
    row_size("  largest hole", results, offsetof(struct result, largest));
    row_ratio("  external fragmentation", results, 0);
    row_ratio("  internal fragmentation", results, 1);
    printf("\nsplit: the block took the front of a larger hole; whole: a hole of just its\n"
           "size; new: no hole was chosen and it was carved from the wilderness.\n"
           "External fragmentation: 1 - largest hole / bytes in holes. Internal: the\n"
           "bytes of used blocks beyond those requested (node, tail, padding), as a\n"
           "share of the used blocks' bytes.\n");
    return 0;
}
