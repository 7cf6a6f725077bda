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
    if (arena->bigs)
        arena->bigs->prev = r;
    arena->bigs = r;
    ant_span_add(r);
}

static void unlink_big(ant_arena_t *arena, ant_region_t *r)
{
    ant_span_remove(r);
    if (r->prev)
        r->prev->next = r->next;
    else
        arena->bigs = r->next;
    if (r->next)
        r->next->prev = r->prev;
}

void *ant_big_alloc(ant_arena_t *arena, size_t size, size_t align, void *site)
{
    size_t extra = ANT_REGION_HEADER_SIZE + ANT_NODE_SIZE + ANT_TAIL_SIZE + ANT_ALIGN +
                   (align > ANT_ALIGN ? align : 0);
    if (size > SIZE_MAX - extra - ant_page_size)
        return 0;
    size_t length = page_up(size + extra);
    ant_region_t *r = ant_os_map(length);
    if (!r)
        return 0;
    uintptr_t mem = (uintptr_t)r + ANT_REGION_HEADER_SIZE + ANT_NODE_SIZE;
    if (align > ANT_ALIGN)
        mem = (mem + align - 1) & ~(uintptr_t)(align - 1);
    ant_node_t *node = ant_node_of((void *)mem);
    *node = (ant_node_t){
        .size = ant_block_size_for(size),
        .state = ANT_STATE_FREE,
        .arena = (uint16_t)arena->index,
        .flags = ANT_FLAG_BIG,
    };
    *r = (ant_region_t){
        .magic = ANT_REGION_MAGIC,
        .length = length,
        .wilderness = (uint64_t)(uintptr_t)node + node->size,
        .first = node,
        .last = node,
        .kind = ANT_REGION_BIG,
        .arena = arena->index,
    };
    link_big(arena, r);
    arena->counters.bigs++;
    arena->counters.mapped_bytes += length;
    ant_count_in(arena, node);
    ant_mark_used(arena, node, size, site);
    return (void *)mem;
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

void ant_big_free(ant_arena_t *arena, ant_region_t *r)
{
    ant_node_t *node = r->first;
    raise_thresholds(arena, node->requested);
    ant_count_out(arena, node);
    unlink_big(arena, r);
    arena->counters.bigs--;
    arena->counters.mapped_bytes -= r->length;
    arena->counters.frees++;
    ant_os_unmap(r, r->length);
}

/*
 * Resizes a big block by moving its whole mapping with mremap, which remaps
 * pages instead of copying them. Only a block right after its header can
 * move so; one placed for alignment returns 0 and is copied by the caller.
 */
void *ant_big_realloc(ant_arena_t *arena, ant_region_t *r, size_t size, void *site)
{
    ant_node_t *node = r->first;
    if ((unsigned char *)node != (unsigned char *)r + ANT_REGION_HEADER_SIZE)
        return 0;
    size_t extra = ANT_REGION_HEADER_SIZE + ANT_NODE_SIZE + ANT_TAIL_SIZE + ANT_ALIGN;
    if (size > SIZE_MAX - extra - ant_page_size)
        return 0;
    size_t length = page_up(size + extra);
    ant_region_t *moved = r;
    if (length != r->length) {
        unlink_big(arena, r);
        moved = ant_os_remap(r, r->length, length);
        if (!moved) {
            link_big(arena, r);
            return 0;
        }
        arena->counters.mapped_bytes += length - moved->length;
        moved->length = length;
        link_big(arena, moved);
        node = moved->first = moved->last = (ant_node_t *)(void *)((unsigned char *)moved + ANT_REGION_HEADER_SIZE);
    }
    ant_count_out(arena, node);
    node->size = ant_block_size_for(size);
    moved->wilderness = (uint64_t)(uintptr_t)node + node->size;
    node->state = ANT_STATE_FREE;
    node->requested = 0;
    ant_count_in(arena, node);
    ant_mark_used(arena, node, size, site);
    arena->counters.frees++;
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
