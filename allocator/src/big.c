/*
 * big.c: blocks with a mapping of their own.
 *
 * A request of at least the mmap threshold would leave a large hole in a
 * region when freed, so it gets its own mapping: a region header of kind
 * BIG, then one block placed so that its mem has the asked alignment. Free
 * unmaps it. The arena lists these mappings so the debugger finds them.
 */
#include "internal.h"

static size_t page_up(size_t n)
{
    return (n + ant_page_size - 1) & ~(ant_page_size - 1);
}

/* Listed in the arena and published in the spans, or neither. */
static void link_big(ant_arena_t *arena, ant_region_t *r)
{
    r->prev = 0;
    r->next = arena->bigs;
    if (arena->bigs) {
        ant_journal_region(arena, arena->bigs);
        arena->bigs->prev = r;
    }
    ant_journal_word(arena, &arena->bigs);
    arena->bigs = r;
    ant_span_add(r);
}

static void unlink_big(ant_arena_t *arena, ant_region_t *r)
{
    ant_span_remove(r);
    if (r->prev) {
        ant_journal_region(arena, r->prev);
        r->prev->next = r->next;
    } else {
        ant_journal_word(arena, &arena->bigs);
        arena->bigs = r->next;
    }
    if (r->next) {
        ant_journal_region(arena, r->next);
        r->next->prev = r->prev;
    }
}

/* A big mapping and its block enter the arena's books, or leave them. */
static void add_big(ant_arena_t *arena, ant_region_t *r)
{
    ant_journal_step(arena, ANT_STEP_BIG_ADD, ant_mem_of(r->first), r->big_requested);
    link_big(arena, r);
    struct ant_arena_counters *c = ant_counters(arena);
    c->bigs++;
    c->mapped_bytes += r->length;
    ant_count_in(arena, r->first);
}

/* After this the heap is whole without the mapping: the journal is
 * committed, and the OS may take the mapping. */
static void drop_big(ant_arena_t *arena, ant_region_t *r)
{
    ant_journal_step(arena, ANT_STEP_BIG_DROP, ant_mem_of(r->first), r->big_requested);
    ant_count_out(arena, r->first);
    unlink_big(arena, r);
    struct ant_arena_counters *c = ant_counters(arena);
    c->bigs--;
    c->mapped_bytes -= r->length;
    ant_journal_commit(arena);
}

void *ant_big_alloc(ant_arena_t *arena, size_t size, size_t align, void *site)
{
    size_t extra = ANT_REGION_HEADER_SIZE + ANT_NODE_SIZE + ANT_TAIL_SIZE + ANT_ALIGN + (align > ANT_ALIGN ? align : 0);
    /* node.below holds the node's distance from its mapping's start. */
    if (size > SIZE_MAX - extra - ant_page_size || align > ((size_t)1 << 31))
        return 0;
    size_t length = page_up(size + extra);
    ant_region_t *r = ant_os_map(length);
    if (!r)
        return 0;
    uintptr_t mem = (uintptr_t)r + ANT_REGION_HEADER_SIZE + ANT_NODE_SIZE;
    if (align > ANT_ALIGN)
        mem = (mem + align - 1) & ~(uintptr_t)(align - 1);
    return ant_big_place(arena, r, length, ant_node_of((void *)mem), size, site);
}

void *ant_big_place(ant_arena_t *arena, ant_region_t *r, size_t length, ant_node_t *node, size_t size, void *site)
{
    *node = (ant_node_t){
        .below = (uint32_t)((uintptr_t)node - (uintptr_t)r),
        .state = ANT_STATE_FREE,
        .arena = (uint8_t)arena->index,
        .flags = ANT_FLAG_BIG,
    };
    size_t block = ant_block_size_for(size);
    *r = (ant_region_t){
        .magic = ANT_REGION_MAGIC,
        .length = length,
        .wilderness = (uint64_t)(uintptr_t)node + block,
        .first = node,
        .last = node,
        .kind = ANT_REGION_BIG,
        .arena = arena->index,
        .big_size = block,
    };
    add_big(arena, r);
    ant_mark_used(arena, node, size, site);
    return ant_mem_of(node);
}

/* As glibc's malloc: the largest mmap threshold the dynamic rule sets. */
#define ANT_MMAP_THRESHOLD_MAX ((size_t)32 << 20)

/*
 * glibc's dynamic threshold: a program that frees a big block is likely to
 * ask for one of that size again, and mapping, faulting in and unmapping
 * it each time costs far more than keeping it in a region. So the threshold
 * rises past the freed block (up to 32 MiB), and the trim threshold to four
 * times that, so that a region keeps such a block's pages once it is freed.
 * glibc's factor is two; in Ant's one growing region (os.c) two gave back
 * and faulted in again so often that the big_blocks benchmark took 1.3 s
 * (48.9 MiB at its peak), four 0.75 s (46.5 MiB), eight no better.
 * Options the user gave stay as given.
 */
static void raise_thresholds(ant_arena_t *arena, size_t requested)
{
    if (ant_opt.thresholds_given || requested < arena->mmap_threshold || requested >= ANT_MMAP_THRESHOLD_MAX)
        return;
    arena->mmap_threshold = requested + 1;
    arena->trim_threshold = 4 * arena->mmap_threshold;
}

/* The mapping is kept inaccessible a while, so that a later access
 * faults and a second free is named (kept.c). */
void ant_big_free(ant_arena_t *arena, ant_region_t *r, void *site)
{
    raise_thresholds(arena, r->big_requested);
    ant_counters(arena)->frees++;
    ant_node_t *node = r->first;
    struct ant_freed freed = ant_freed_now((uint64_t)(uintptr_t)site);
    struct ant_kept k = {
        .mapping = (uint64_t)(uintptr_t)r,
        .length = r->length,
        .mem = (uint64_t)(uintptr_t)ant_mem_of(node),
        .requested = r->big_requested,
        .serial = ant_node_serial(node),
        .site = ant_node_site(node),
        .freed_site = freed.site & ANT_SITE_MASK,
        .freed_serial = freed.serial | (freed.site >> 48) << 32,
    };
    drop_big(arena, r);
    ant_kept_release(r, &k);
}

/* The block of a big mapping, sized for `size` bytes and free until
 * ant_mark_used() hands it out again. */
static void resize_block(ant_region_t *r, ant_node_t *node, size_t size)
{
    r->big_size = ant_block_size_for(size);
    r->big_requested = 0;
    r->wilderness = (uint64_t)(uintptr_t)node + r->big_size;
    node->state = ANT_STATE_FREE;
}

/*
 * Resizes a big block by moving its whole mapping with mremap, which remaps
 * pages instead of copying them. Only a block right after its header can
 * move so; one placed for alignment returns 0 and is copied by the caller.
 * While the mapping moves it is out of the arena's books: the heap is
 * whole without it.
 */
void *ant_big_realloc(ant_arena_t *arena, ant_region_t *r, size_t size, void *site)
{
    ant_node_t *node = r->first;
    if ((unsigned char *)node != (unsigned char *)r + ANT_REGION_HEADER_SIZE || ant_kept_is_guarded(r))
        return 0;
    size_t extra = ANT_REGION_HEADER_SIZE + ANT_NODE_SIZE + ANT_TAIL_SIZE + ANT_ALIGN;
    if (size > SIZE_MAX - extra - ant_page_size)
        return 0;
    size_t length = page_up(size + extra);
    if (length != r->length) {
        drop_big(arena, r);
        ant_region_t *moved = ant_os_remap(r, r->length, length);
        if (!moved) {
            add_big(arena, r);
            return 0;
        }
        r = moved;
        r->length = length;
        node = r->first = r->last = (ant_node_t *)(void *)((unsigned char *)r + ANT_REGION_HEADER_SIZE);
        resize_block(r, node, size);
        add_big(arena, r);
    } else {
        ant_journal_step(arena, ANT_STEP_GROW, ant_mem_of(node), ant_block_size_for(size));
        ant_journal_node(arena, node);
        ant_journal_tail(arena, ant_mem_of(node) + ant_requested_of(node));
        ant_journal_region(arena, r);
        ant_count_out(arena, node);
        resize_block(r, node, size);
        ant_count_in(arena, node);
    }
    ant_mark_used(arena, node, size, site);
    ant_counters(arena)->frees++;
    return ant_mem_of(node);
}

ant_region_t *ant_big_of(ant_arena_t *arena, const void *mem)
{
    for (ant_region_t *r = arena->bigs; r; r = r->next)
        if ((const unsigned char *)mem >= (unsigned char *)r &&
            (const unsigned char *)mem < (unsigned char *)r + r->length)
            return r;
    return 0;
}
