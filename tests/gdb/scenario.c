/*
 * scenario.c: a heap with one planted corruption, for the debugger to find.
 *
 * Usage: scenario NAME MANIFEST [COUNT]
 *
 * Builds a heap of COUNT blocks (a few free among them), plants the damage
 * NAME describes, writes what it did to MANIFEST as JSON (every live block's
 * mem and requested size, and the damaged block), then stops in
 * ant_test_stop() for gdb to look. The damage is planted after the last
 * call into the allocator, which would otherwise report it first.
 */
#include <ant/ant.h>
#include <ant/layout.h>

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BLOCKS 200000

static void *blocks[MAX_BLOCKS];
static size_t sizes[MAX_BLOCKS];

/* gdb stops here: by a breakpoint where there are symbols, by the trap
 * where there are none. */
__attribute__((noinline)) void ant_test_stop(void);
__attribute__((noinline)) void ant_test_stop(void)
{
    raise(SIGTRAP);
}

static size_t size_of(size_t i)
{
    static const size_t pattern[] = {24, 1, 100, 0, 512, 40, 3000, 64, 16, 200};
    return pattern[i % 10] + i % 7;
}

static void write_manifest(const char *path, size_t count, const char *kind, const void *damaged, const void *culprit)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        exit(2);
    }
    fprintf(f, "{\"kind\": \"%s\", \"damaged\": %llu, \"culprit\": %llu, \"blocks\": [", kind,
            (unsigned long long)(uintptr_t)damaged, (unsigned long long)(uintptr_t)culprit);
    const char *sep = "";
    for (size_t i = 0; i < count; i++) {
        if (!blocks[i])
            continue;
        fprintf(f, "%s[%llu, %zu]", sep, (unsigned long long)(uintptr_t)blocks[i], sizes[i]);
        sep = ", ";
    }
    fprintf(f, "]}\n");
    fclose(f);
}

static unsigned char *node_of(void *mem)
{
    return (unsigned char *)mem - ANT_NODE_SIZE;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: scenario NAME MANIFEST [COUNT]\n");
        return 2;
    }
    const char *name = argv[1];
    size_t count = argc > 3 ? strtoul(argv[3], 0, 10) : 1000;
    if (count < 20 || count > MAX_BLOCKS)
        count = 1000;
    for (size_t i = 0; i < count; i++) {
        sizes[i] = size_of(i);
        blocks[i] = i % 97 == 50 ? ant_aligned_alloc(256, sizes[i]) : ant_malloc(sizes[i]);
        memset(blocks[i], (int)(i & 0xff), sizes[i]);
    }
    /* A big block with a mapping of its own, and holes between used blocks. */
    sizes[count - 1] = 1u << 20;
    ant_free(blocks[count - 1]);
    blocks[count - 1] = ant_malloc(sizes[count - 1]);
    /* Every third block from 7 on is freed: 10 and 13 are free, 11 and 12
     * are used neighbours, and a dangling pointer to 10 is kept. */
    unsigned char *dangling = blocks[10];
    for (size_t i = 7; i < count - 10; i += 3) {
        ant_free(blocks[i]);
        blocks[i] = 0;
    }
    unsigned char *a = blocks[11], *b = blocks[12];
    size_t block = (ANT_NODE_SIZE + sizes[11] + ANT_TAIL_SIZE + 15) / 16 * 16;
    if (b - a != (ptrdiff_t)(block < ANT_MIN_BLOCK ? ANT_MIN_BLOCK : block)) {
        fprintf(stderr, "scenario: blocks 11 and 12 are not neighbours\n");
        return 2;
    }
    const void *damaged = 0, *culprit = 0;
    const char *kind = "none";
    if (!strcmp(name, "clean")) {
        /* nothing planted */
    } else if (!strcmp(name, "overflow")) {
        a[sizes[11]] = 0; /* one byte past the end: the classic off-by-one */
        kind = "overflow";
        damaged = a;
    } else if (!strcmp(name, "overflow-node")) {
        memset(a, 'A', (size_t)(b - a)); /* runs on through the next node */
        kind = "header";
        damaged = b;
        culprit = a;
    } else if (!strcmp(name, "underflow")) {
        memset(b - 4, 'U', 4); /* four bytes before the start of the mem */
        kind = "header";
        damaged = b;
        culprit = b;
    } else if (!strcmp(name, "use-after-free")) {
        memcpy(dangling + 20, "late", 4); /* a write through a dangling pointer */
        kind = "use-after-free";
        damaged = dangling;
    } else if (!strcmp(name, "free-links")) {
        memset(dangling, 0x41, 8); /* lands on the free block's bin link */
        kind = "use-after-free";
        damaged = dangling;
    } else if (!strcmp(name, "copied-node")) {
        memcpy(node_of(b), node_of(a), ANT_NODE_SIZE); /* a header copied from another block */
        kind = "header";
        damaged = b;
    } else {
        fprintf(stderr, "scenario: unknown scenario '%s'\n", name);
        return 2;
    }
    write_manifest(argv[2], count, kind, damaged, culprit);
    ant_test_stop();
    return 0;
}
