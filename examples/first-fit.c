/*
 * first-fit.c: the story of a heap, told by Ant's own heap.
 *
 * Blocks are carved from the wilderness; a free leaves a hole; a smaller
 * request takes the first hole big enough and splits it; freeing the used
 * block between two holes merges all three; a large free block at the end
 * of the region goes back to the wilderness; and many small holes make
 * Swiss cheese. After each step the heap is drawn from ant_walk(): a strip
 * with one cell per block, then a table.
 *
 * The example asks for first fit, but ANT_OPTIONS has the last word, so
 * the same steps can be watched under another policy:
 *
 *   ANT_OPTIONS=fit=best ./first-fit      (first, next, best or binned)
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
        printf("  %-4s  %10zu  %5zu  %9zu  %-5s  %6llu\n", used ? name_of(b->mem) : "-", offset_of(b->mem),
               b->size, b->requested, used ? "used" : "free", (unsigned long long)b->serial);
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

static void show(void)
{
    struct view v = {.count = 0};
    ant_walk(collect, &v);
    ant_stats_t s;
    ant_stats(&s);
    if (!region_start && v.count)
        region_start = (const unsigned char *)v.blocks[0].mem - ANT_NODE_SIZE - ANT_REGION_HEADER_SIZE;
    draw_strip(&v, s.wilderness_bytes);
    draw_table(&v);
    draw_free(&v);
}

static void step(const char *title, const char *lesson)
{
    printf("\n== %s ==\n%s\n\n", title, lesson);
}

/* Options are read once, at the first call into Ant. Ours come first, and
 * a later key overrides an earlier one, so the user's ANT_OPTIONS wins. */
static const char *choose_first_fit(void)
{
    static char options[256];
    const char *user = getenv("ANT_OPTIONS");
    snprintf(options, sizeof options, "fit=first%s%s", user && *user ? ":" : "", user ? user : "");
    setenv("ANT_OPTIONS", options, 1);
    return options;
}

int main(void)
{
    printf("Ant's heap, step by step, with ANT_OPTIONS=%s\n", choose_first_fit());
    printf("Strip: |a##| a used block named a, |...| a free block, ~~~ the wilderness.\n");
    printf("Mem offsets count from the start of the region.\n");

    step("1. Blocks carved from the wilderness",
         "Each block is a 32-byte node, the mem, an 8-byte tail sentinel, rounded up to 16.");
    take("a", 100);
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

    step("3. First fit and splitting",
         "The walk takes the first hole big enough (80 bytes are needed) and splits off\n"
         "the rest as a new free block. Best fit would take the 80-byte hole whole.");
    take("f", 40);
    show();

    step("4. Coalescing [free, used, free]",
         "Freeing c, between two holes, merges the three blocks into one.");
    give(c);
    show();

    step("5. A large block at the end", "No hole holds it, so it comes from the wilderness.");
    void *g = take("g", 150000);
    show();

    step("6. Trim: the large free block goes back to the wilderness",
         "A free block at the end of the region this big (trim_threshold, 128k by default)\n"
         "returns to the wilderness, and its pages to the OS.");
    give(g);
    show();

    step("7. Swiss cheese",
         "Five 544-byte blocks from the wilderness, each kept apart by another, are freed.");
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

    step("8. Fragmentation",
         "Plenty of free bytes, yet no hole holds a 1040-byte block: the wilderness must.");
    take("m", 1000);
    show();

    printf("\nant_check() finds %zu problems.\n", ant_check());
    return 0;
}
