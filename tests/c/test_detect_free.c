/*
 * test_detect_free.c: frees of pointers that are not live blocks. A second
 * free of a block, also once it has merged with a free neighbour, is a
 * double free; a pointer Ant never returned (the stack, a static, the C
 * library's malloc, the inside of a block, the wilderness, a big block
 * already unmapped) is an invalid free. Each is reported before anything
 * is written, so the heap stays sound.
 */
#include "check.h"
#include "detect.h"

#include <ant/ant.h>
#include <ant/layout.h>

static void twice(void)
{
    ant_malloc(8);
    char *p = ant_malloc(100);
    ant_malloc(8);
    ant_free(p);
    detect_expect_free(p);
    ant_free(p);
}

/* Freed, then merged into the free block below it: its node is poison now,
 * and the pointer lies inside that block. */
static void twice_after_merging(void)
{
    char *below = ant_malloc(100);
    char *p = ant_malloc(100);
    ant_malloc(8);
    ant_free(p);
    ant_free(below);
    detect_expect_free(below);
    ant_free(p);
}

static void twice_big(void)
{
    char *p = ant_malloc(300000);
    ant_free(p);
    detect_expect_address(p);
    ant_free(p);
}

static void twice_by_realloc(void)
{
    ant_malloc(8);
    char *p = ant_malloc(100);
    ant_malloc(8);
    ant_free(p);
    detect_expect_free(p);
    ant_realloc(p, 200);
}

static void stack(void)
{
    _Alignas(16) char on_stack[64] = {0};
    detect_expect_address(on_stack);
    ant_free(on_stack);
}

static void unaligned(void)
{
    char *p = ant_malloc(100);
    detect_expect_address(p + 1);
    ant_free(p + 1);
}

static void static_storage(void)
{
    static _Alignas(16) char in_data[64];
    ant_malloc(8);
    detect_expect_address(in_data);
    ant_free(in_data);
}

static void foreign(void)
{
    void *p = malloc(64);
    ant_malloc(8);
    detect_expect_address(p);
    ant_free(p);
}

static void interior(void)
{
    char *p = ant_malloc(256);
    ant_malloc(8);
    detect_expect_used(p);
    ant_free(p + 64);
}

static void interior_big(void)
{
    char *p = ant_malloc(300000);
    detect_expect_used(p);
    ant_free(p + 4096);
}

static void wilderness(void)
{
    char *p = ant_malloc(100);
    detect_expect_address(p + 4096);
    ant_free(p + 4096);
}

static void interior_by_realloc(void)
{
    char *p = ant_malloc(256);
    ant_malloc(8);
    detect_expect_used(p);
    ant_realloc(p + 128, 10);
}

static const struct child_scenario scenarios[] = {
    {"twice", twice},
    {"twice_after_merging", twice_after_merging},
    {"twice_big", twice_big},
    {"twice_by_realloc", twice_by_realloc},
    {"stack", stack},
    {"unaligned", unaligned},
    {"static_storage", static_storage},
    {"foreign", foreign},
    {"interior", interior},
    {"interior_big", interior_big},
    {"wilderness", wilderness},
    {"interior_by_realloc", interior_by_realloc},
    {0, 0},
};

int main(int argc, char **argv)
{
    detect_enter(argc, argv, scenarios);
    const char *outside = "free of an address outside the heap";
    const char *inside = "free of an address inside, not at the start of, block";
    const struct detection detections[] = {
        {"twice", 0, "double-free", 1, "free of a block that is already free: free block"},
        {"twice_after_merging", 0, "double-free", 1, "inside a free block (freed before, then merged into)"},
        {"twice_big", 0, "double-free", 1, "free of freed big block"},
        {"twice_by_realloc", 0, "double-free", 1, "realloc of a block that is already free"},
        {"stack", 0, "invalid-free", 1, outside},
        {"unaligned", 0, "invalid-free", 1, "not 16-byte aligned"},
        {"static_storage", 0, "invalid-free", 1, outside},
        {"foreign", 0, "invalid-free", 1, outside},
        {"interior", 0, "invalid-free", 1, inside},
        {"interior_big", 0, "invalid-free", 1, "free of an address inside, not at the start of, big block"},
        {"wilderness", 0, "invalid-free", 1, "in the wilderness"},
        {"interior_by_realloc", 0, "invalid-free", 1, "realloc of an address inside, not at the start of, block"},
    };
    for (size_t i = 0; i < sizeof detections / sizeof detections[0]; i++)
        detect_check(&detections[i]);
    return 0;
}
