/*
 * test_fit.c: each fit policy picks the block it promises. Free blocks L
 * (240 bytes), then F1, F2, F3 (144 bytes each), separated by used guards,
 * freed in that order; then a = malloc(100) (a 144-byte block),
 * b = malloc(100), free(a), c = malloc(100):
 *
 *   first   a = L   (lowest that fits)     b = F1    c = L  (lowest again)
 *   next    a = L                          b = F1    c = F2 (resumes at F1)
 *   best    a = F1  (first exact fit)      b = F2    c = F1
 *   worst   a = L   (largest)              b = F1    c = L  (whole again)
 *   binned  a = F3  (newest in the bin)    b = F2    c = F3
 *
 * Worst fit agrees with first fit there, since the largest block is also
 * the lowest. A second scenario puts it last: holes S (144 bytes), M (240)
 * and B (400) from low to high, and a = malloc(100): first, next and best
 * fit take S, worst fit takes B.
 */
#include "check.h"
#include "child.h"

#include <ant/ant.h>

static const char *name_of(void *p, void *const *blocks, const char *const *names)
{
    for (int i = 0; names[i]; i++)
        if (blocks[i] == p)
            return names[i];
    return "?";
}

static void choose(void)
{
    static const char *const names[] = {"L", "F1", "F2", "F3", 0};
    void *blocks[4];
    blocks[0] = ant_malloc(200);
    void *guards[4];
    guards[0] = ant_malloc(8);
    for (int i = 1; i < 4; i++) {
        blocks[i] = ant_malloc(100);
        guards[i] = ant_malloc(8);
    }
    for (int i = 0; i < 4; i++)
        ant_free(blocks[i]);
    void *a = ant_malloc(100);
    void *b = ant_malloc(100);
    ant_free(a);
    void *c = ant_malloc(100);
    child_say("a=%s b=%s c=%s\n", name_of(a, blocks, names), name_of(b, blocks, names), name_of(c, blocks, names));
    ant_free(b);
    ant_free(c);
    for (int i = 0; i < 4; i++)
        ant_free(guards[i]);
    CHECK_EQ(ant_check(), 0);
}

static void largest(void)
{
    static const char *const names[] = {"S", "M", "B", 0};
    static const size_t sizes[] = {100, 200, 360};
    void *blocks[3], *guards[3];
    for (int i = 0; i < 3; i++) {
        blocks[i] = ant_malloc(sizes[i]);
        guards[i] = ant_malloc(8);
    }
    for (int i = 0; i < 3; i++)
        ant_free(blocks[i]);
    void *a = ant_malloc(100);
    child_say("a=%s\n", name_of(a, blocks, names));
    ant_free(a);
    for (int i = 0; i < 3; i++)
        ant_free(guards[i]);
    CHECK_EQ(ant_check(), 0);
}

static void policy(void)
{
    child_say("%d\n", (int)ant_fit_policy());
}

static const struct child_scenario scenarios[] = {{"choose", choose}, {"largest", largest}, {"policy", policy}, {0, 0}};

static void expect_in(const char *scenario, const char *options, const char *want)
{
    struct child_result r;
    child_run(scenario, options, &r);
    if (!r.exited || r.status != 0 || strcmp(r.out, want) != 0 || r.err[0]) {
        child_show(scenario, options, &r);
        fprintf(stderr, "expected: %s", want);
        exit(1);
    }
}

int main(int argc, char **argv)
{
    child_enter(argc, argv, scenarios);
    expect_in("choose", "fit=first", "a=L b=F1 c=L\n");
    expect_in("choose", "fit=next", "a=L b=F1 c=F2\n");
    expect_in("choose", "fit=best", "a=F1 b=F2 c=F1\n");
    expect_in("choose", "fit=worst", "a=L b=F1 c=L\n");
    expect_in("choose", "fit=binned", "a=F3 b=F2 c=F3\n");
    expect_in("largest", "fit=first", "a=S\n");
    expect_in("largest", "fit=next", "a=S\n");
    expect_in("largest", "fit=best", "a=S\n");
    expect_in("largest", "fit=worst", "a=B\n");
    /* What a program is told is the policy that serves it. */
    expect_in("policy", 0, "3\n");
    expect_in("policy", "fit=first", "0\n");
    expect_in("policy", "fit=next", "1\n");
    expect_in("policy", "fit=best", "2\n");
    expect_in("policy", "fit=worst", "4\n");
    expect_in("policy", "fit=first:fit=worst", "4\n");
    return 0;
}
