/*
 * first-fit.c: the story of a heap, told by Ant's own heap.
 *
 * Blocks are carved from the wilderness; a free leaves a hole; a smaller
 * request takes a hole and splits it; a freed block merges with its free
 * neighbours; a hole below the last one taken tells first fit from next
 * fit; a large free block at the end of the region goes back to the
 * wilderness; and many small holes make Swiss cheese. After each step the
 * heap is drawn from ant_walk(): a strip with one cell per block, then a
 * table.
 *
 * The example asks for first fit, but ANT_OPTIONS has the last word, so
 * the same steps can be watched under another policy:
 *
 *   ANT_OPTIONS=fit=best ./first-fit      (first, next, best, worst or binned)
 *
 * What each step says about a hole taken or a merge is read from the heap
 * before and after it, so it holds under every policy.
 *
 * Only offsets are printed, never addresses, so the output is the same on
 * every run.
 */
/* setenv() is POSIX, not C11. */
#define _POSIX_C_SOURCE 200809L

#include <ant/ant.h>
#include <ant/layout.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BLOCKS 64

/* The names this program gave its pointers, so the pictures can use them. */
static struct {
    const void *mem;
    const char *name;
} names[MAX_BLOCKS];

static const char *name_of(const void *mem)
{
    for (size_t i = 0; i < MAX_BLOCKS; i++)
        if (names[i].mem == mem)
            return names[i].name;
    return "?";
}

static void *take(const char *name, size_t size)
{
    void *mem = ant_malloc(size);
    if (!mem) {
        perror("ant_malloc");
        exit(1);
    }
    for (size_t i = 0; i < MAX_BLOCKS; i++) {
        if (!names[i].mem) {
            names[i].mem = mem;
            names[i].name = name;
            break;
        }
    }
    printf("  %s = ant_malloc(%zu)\n", name, size);
    return mem;
}

static void give(void *mem)
{
    const char *name = name_of(mem);
    /* Forget the name first: a later block may get the same address. */
    for (size_t i = 0; i < MAX_BLOCKS; i++)
        if (names[i].mem == mem)
            names[i].mem = 0;
    ant_free(mem);
    printf("  ant_free(%s)\n", name);
}

/* ant_walk() holds the heap's lock while it calls us, so the callback only
 * copies; printing (which may allocate, with the C library) comes after. */
struct view {
    ant_block_info_t blocks[MAX_BLOCKS];
    size_t count;
};

static int collect(const ant_block_info_t *block, void *arg)
{
    struct view *v = arg;
    if (v->count == MAX_BLOCKS)
        return 1;
    v->blocks[v->count++] = *block;
    return 0;
}

/* The first block sits right after the region's header, so its mem tells
 * where the region starts. The region stays put for the whole run. */
static const unsigned char *region_start;

static size_t offset_of(const void *mem)
{
    return (size_t)((const unsigned char *)mem - region_start);
}

static void draw_strip(const struct view *v, size_t wilderness)
{
    printf("\n  ");
    for (size_t i = 0; i < v->count; i++) {
        const ant_block_info_t *b = &v->blocks[i];
        if (b->state == ANT_BLOCK_FREE) {
            printf("|...");
            continue;
        }
        char cell[4] = "###";
        const char *name = name_of(b->mem);
        memcpy(cell, name, strlen(name) < 3 ? strlen(name) : 3);
        printf("|%s", cell);
    }
    printf("|~~~ wilderness: %zu bytes\n\n", wilderness);
}

static void draw_table(const struct view *v)
{
    printf("  name  mem offset   size  requested  state  serial\n");
    for (size_t i = 0; i < v->count; i++) {
        const ant_block_info_t *b = &v->blocks[i];
        int used = b->state == ANT_BLOCK_USED;
        printf("  %-4s  %10zu  %5zu  %9zu  %-5s  %6llu\n", used ? name_of(b->mem) : "-", offset_of(b->mem), b->size,
               b->requested, used ? "used" : "free", (unsigned long long)b->serial);
    }
}

/* Free bytes are only useful in one piece: the largest hole is what a
 * request can get without touching the wilderness. */
static void draw_free(const struct view *v)
{
    size_t blocks = 0, bytes = 0, largest = 0;
    for (size_t i = 0; i < v->count; i++) {
        const ant_block_info_t *b = &v->blocks[i];
        if (b->state != ANT_BLOCK_FREE)
            continue;
        blocks++;
        bytes += b->size;
        if (b->size > largest)
            largest = b->size;
    }
    printf("  free blocks: %zu, free bytes: %zu, largest free block: %zu\n", blocks, bytes, largest);
}

/* The heap as the story last saw it: what the next hole taken or merge is
 * told against. */
static struct view shown;

static void look(struct view *v)
{
    v->count = 0;
    ant_walk(collect, v);
}

static void show(void)
{
    look(&shown);
    ant_stats_t s;
    ant_stats(&s);
    if (!region_start && shown.count)
        region_start = (const unsigned char *)shown.blocks[0].mem - ANT_NODE_SIZE - ANT_REGION_HEADER_SIZE;
    draw_strip(&shown, s.wilderness_bytes);
    draw_table(&shown);
    draw_free(&shown);
}

static const ant_block_info_t *block_at(const struct view *v, const void *mem)
{
    for (size_t i = 0; i < v->count; i++)
        if (v->blocks[i].mem == mem)
            return &v->blocks[i];
    return 0;
}

static const char *policy_name(void)
{
    switch (ant_fit_policy()) {
    case ANT_FIT_FIRST: return "first fit";
    case ANT_FIT_NEXT: return "next fit";
    case ANT_FIT_BEST: return "best fit";
    case ANT_FIT_WORST: return "worst fit";
    case ANT_FIT_BINNED: return "binned";
    }
    return "unknown";
}

static const char *policy_rule(void)
{
    switch (ant_fit_policy()) {
    case ANT_FIT_FIRST: return "First fit walks the node list from the bottom and takes the first hole big enough.";
    case ANT_FIT_NEXT:
        return "Next fit walks on from the block its last search took (from the bottom the first\n"
               "time, wrapping round at the top) and takes the first hole big enough.";
    case ANT_FIT_BEST: return "Best fit walks the whole list and takes the smallest hole big enough.";
    case ANT_FIT_WORST:
        return "Worst fit walks the whole list and takes the largest hole, so that what it\n"
               "splits off stays big enough to use.";
    case ANT_FIT_BINNED: return "The binned policy asks its size bins for a hole big enough, walking no list.";
    }
    return "An unknown policy chooses the hole.";
}

/* Where the block named `name` came from: a hole of the last picture, taken
 * whole or split, or the wilderness. */
static void tell_taken(const void *mem, const char *name)
{
    struct view now;
    look(&now);
    const ant_block_info_t *block = block_at(&now, mem);
    const ant_block_info_t *hole = block_at(&shown, mem);
    if (!block)
        return;
    if (!hole || hole->state != ANT_BLOCK_FREE) {
        printf("  %s came from the wilderness: no hole was chosen.\n", name);
        return;
    }
    printf("  %s took the %zu-byte hole at mem offset %zu", name, hole->size, offset_of(mem));
    if (hole->size > block->size)
        printf(" and split it: %zu bytes for %s, a free block of %zu after it.\n", block->size, name,
               hole->size - block->size);
    else
        printf(" whole: there was nothing to split off.\n");
}

/* Frees a block, saying which of its neighbours it merges with. */
static void give_and_tell(void *mem)
{
    const char *name = name_of(mem);
    const ant_block_info_t *below = 0, *above = 0;
    for (size_t i = 0; i < shown.count; i++) {
        if (shown.blocks[i].mem != mem)
            continue;
        if (i > 0)
            below = &shown.blocks[i - 1];
        if (i + 1 < shown.count)
            above = &shown.blocks[i + 1];
    }
    int free_below = below && below->state == ANT_BLOCK_FREE;
    int free_above = above && above->state == ANT_BLOCK_FREE;
    give(mem);
    look(&shown);
    const struct view now = shown;
    size_t merged = 0;
    for (size_t i = 0; i < now.count; i++) {
        const ant_block_info_t *b = &now.blocks[i];
        if (b->state == ANT_BLOCK_FREE && (const unsigned char *)b->mem <= (const unsigned char *)mem &&
            (const unsigned char *)mem < (const unsigned char *)b->mem + b->size)
            merged = b->size;
    }
    if (free_below && free_above)
        printf("  Both of %s's neighbours are free: the three merge into one free block of %zu bytes.\n", name, merged);
    else if (free_below || free_above)
        printf("  The block %s %s is free: the two merge into one free block of %zu bytes.\n",
               free_below ? "below" : "above", name, merged);
    else
        printf("  No neighbour of %s is free: it stays a free block of its own, %zu bytes.\n", name, merged);
}

static void step(const char *title, const char *lesson)
{
    printf("\n== %s ==\n%s\n\n", title, lesson);
}

/* Options are read once, at the first call into Ant. Ours come first, and
 * a later key overrides an earlier one, so the user's ANT_OPTIONS wins.
 * Thread caches stay off under every policy, binned too: a block freed into
 * one is neither merged nor reused by the fit policy, which is the lesson. */
static const char *choose_first_fit(void)
{
    static char options[256];
    const char *user = getenv("ANT_OPTIONS");
    snprintf(options, sizeof options, "fit=first:cache=0%s%s", user && *user ? ":" : "", user ? user : "");
    setenv("ANT_OPTIONS", options, 1);
    return options;
}

int main(void)
{
    printf("Ant's heap, step by step, with ANT_OPTIONS=%s\n", choose_first_fit());
    printf("The policy in force: %s.\n", policy_name());
    printf("Strip: |a##| a used block named a, |...| a free block, ~~~ the wilderness.\n");
    printf("Mem offsets count from the start of the region.\n");

    step("1. Blocks carved from the wilderness",
         "Each block is a 32-byte node, the mem, an 8-byte tail sentinel, rounded up to 16.");
    void *a = take("a", 100);
    void *b = take("b", 200);
    void *c = take("c", 100);
    void *d = take("d", 40);
    take("e", 100);
    show();

    step("2. Two frees leave two holes",
         "A freed block stays in the node list, marked free; the wilderness does not change.");
    give(b);
    give(d);
    show();

    step("3. Choosing a hole, and splitting it",
         "f needs 80 bytes. A hole bigger than that is split: the rest becomes a new\n"
         "free block.");
    printf("%s\n\n", policy_rule());
    void *f = take("f", 40);
    tell_taken(f, "f");
    show();

    step("4. Coalescing", "A freed block merges with each free neighbour: no two free blocks are ever\n"
                          "neighbours.");
    give_and_tell(c);
    show();

    step("5. Next fit goes on where it stopped",
         "a, the lowest block, is freed, and n asks for 80 bytes again. First fit starts\n"
         "at the bottom again; next fit goes on from the block its last search took.");
    printf("%s\n\n", policy_rule());
    give_and_tell(a);
    void *n = take("n", 40);
    tell_taken(n, "n");
    show();

    step("6. A large block at the end", "No hole holds it, so it comes from the wilderness.");
    void *g = take("g", 150000);
    show();

    step("7. Trim: the large free block goes back to the wilderness",
         "A free block at the end of the region this big (trim_threshold, 128k by default)\n"
         "returns to the wilderness, and its pages to the OS.");
    give(g);
    show();

    step("8. Swiss cheese", "Five 544-byte blocks from the wilderness, each kept apart by another, are freed.");
    void *hole[5];
    static const char *const hole_names[] = {"h1", "h2", "h3", "h4", "h5"};
    static const char *const keep_names[] = {"k1", "k2", "k3", "k4", "k5"};
    for (int i = 0; i < 5; i++) {
        hole[i] = take(hole_names[i], 500);
        take(keep_names[i], 500);
    }
    for (int i = 0; i < 5; i++)
        give(hole[i]);
    show();

    step("9. Fragmentation", "Plenty of free bytes, yet no hole holds a 1040-byte block: the wilderness must.");
    take("m", 1000);
    show();

    printf("\nant_check() finds %zu problems.\n", ant_check());
    return 0;
}
