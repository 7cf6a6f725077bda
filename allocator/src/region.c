/*
 * region.c: regions and the wilderness.
 *
 * A region is one mapping: a header, the blocks, then the wilderness, the
 * untouched rest, which has no node. New blocks are carved from the start of
 * the wilderness. When it runs out the region grows in place if the OS lets
 * it (the design note's "system level realloc"); otherwise the arena gets a
 * new region. A large free block at the end of a region goes back to the
 * wilderness and its pages back to the OS.
 */
#include "internal.h"
#include "valgrind.h"

#include <string.h>

static size_t page_up(size_t n)
{
    return (n + ant_page_size - 1) & ~(ant_page_size - 1);
}

static unsigned char *region_end(const ant_region_t *region)
{
    return (unsigned char *)region + region->length;
}

bool ant_region_holds(const ant_region_t *region, const void *addr, size_t length)
{
    const unsigned char *p = addr;
    const unsigned char *lo = (const unsigned char *)region + ANT_REGION_HEADER_SIZE;
    return p >= lo && p <= (const unsigned char *)region->wilderness &&
           length <= (size_t)((const unsigned char *)region->wilderness - p);
}

ant_region_t *ant_region_of(ant_arena_t *arena, const void *addr)
{
    for (ant_region_t *r = arena->regions; r; r = r->next)
        if ((const unsigned char *)addr >= (unsigned char *)r && (const unsigned char *)addr < region_end(r))
            return r;
    return 0;
}

/*
 * A region grows in place into the address space held after it (os.c).
 * Where none is held, or it is used up, growing in place often fails, since
 * the OS places new mappings below old ones. Each new region is then twice
 * the last, up to 64 times region_size, so that a growing heap needs few
 * regions; pages it never touches cost nothing.
 */
static ant_region_t *region_new(ant_arena_t *arena, size_t need)
{
    uint64_t doublings = arena->counters.regions < 6 ? arena->counters.regions : 6;
    size_t length = ant_opt.region_size;
    if (need > SIZE_MAX / 2)
        return 0;
    if (length <= (SIZE_MAX >> doublings))
        length <<= doublings;
    size_t least = page_up(ANT_REGION_HEADER_SIZE + need + ANT_MIN_BLOCK);
    if (length < least)
        length = least;
    if (length > ANT_REGION_MAX)
        length = ANT_REGION_MAX;
    if (least > length)
        return 0;
    /* A length the OS will not map (a large region_size, an address-space
     * limit) must not fail a request that a smaller region would hold. */
    ant_region_t *r;
    while (!(r = ant_os_map_growable(length)) && length > least)
        length = length / 2 > least ? page_up(length / 2) : least;
    if (!r)
        return 0;
    ant_vg_hide(r, length);
    *r = (ant_region_t){
        .magic = ANT_REGION_MAGIC,
        .next = arena->regions,
        .length = length,
        .wilderness = (uint64_t)(uintptr_t)r + ANT_REGION_HEADER_SIZE,
        .kind = ANT_REGION_HEAP,
        .arena = arena->index,
    };
    ant_journal_step(arena, ANT_STEP_NEW_REGION, r, length);
    if (arena->regions) {
        ant_journal_region(arena, arena->regions);
        arena->regions->prev = r;
    }
    ant_journal_word(arena, &arena->regions);
    arena->regions = r;
    struct ant_arena_counters *c = ant_counters(arena);
    c->regions++;
    c->mapped_bytes += length;
    c->wilderness_bytes += length - ANT_REGION_HEADER_SIZE;
    ant_span_add(r);
    return r;
}

/*
 * Grows the region in place by what is needed, but at least region_size
 * and an eighth of the region, so that growing takes few system calls;
 * false if the OS can't. Not by more: gcore writes every page of the
 * mapping into a core file, untouched wilderness included.
 */
static bool region_grow(ant_arena_t *arena, ant_region_t *r, size_t need)
{
    size_t more = page_up(need + ANT_MIN_BLOCK);
    size_t least = page_up(r->length / 8) > ant_opt.region_size ? page_up(r->length / 8) : ant_opt.region_size;
    if (more < least)
        more = least;
    if (r->length + more > ANT_REGION_MAX && r->length + page_up(need + ANT_MIN_BLOCK) <= ANT_REGION_MAX)
        more = ANT_REGION_MAX - r->length;
    if (more > ANT_REGION_MAX - r->length || !ant_os_grow(r, r->length, r->length + more))
        return false;
    ant_vg_hide((unsigned char *)r + r->length, more);
    ant_journal_step(arena, ANT_STEP_GROW_REGION, r, r->length + more);
    ant_journal_region(arena, r);
    r->length += more;
    ant_span_grow(r);
    struct ant_arena_counters *c = ant_counters(arena);
    c->mapped_bytes += more;
    c->wilderness_bytes += more;
    return true;
}

static size_t wilderness_left(const ant_region_t *r)
{
    return (size_t)(region_end(r) - (unsigned char *)r->wilderness);
}

/* Adds `size` bytes taken from the wilderness to the end of the region as
 * a new free block; the caller has checked they are there. Bytes of the
 * wilderness need no record: until region.wilderness moves, no reader
 * looks at them. */
static ant_node_t *carve_block(ant_arena_t *arena, ant_region_t *r, size_t size)
{
    ant_node_t *node = (ant_node_t *)(uintptr_t)r->wilderness;
    ant_journal_step(arena, ANT_STEP_CARVE, r, size);
    *node = (ant_node_t){
        .size = (uint32_t)size,
        .below = r->last ? r->last->size : 0,
        .state = ANT_STATE_FREE,
        .arena = (uint8_t)arena->index,
    };
    ant_freed_write(node, 0);
    ant_seal(node);
    ant_journal_region(arena, r);
    if (!r->last)
        r->first = node;
    r->last = node;
    r->wilderness += size;
    ant_counters(arena)->wilderness_bytes -= size;
    ant_count_in(arena, node);
    return node;
}

/*
 * A free block, out of the bins, of at least `size` bytes plus what its mem
 * alignment needs, made from the wilderness. A free last block is extended
 * rather than followed by a new one, so the two never sit side by side.
 */
static ant_node_t *carve_in(ant_arena_t *arena, ant_region_t *r, size_t size, size_t align)
{
    ant_node_t *last = r->last;
    if (last && ant_is_free(last) && ant_head_ok(last)) {
        size_t want = ant_align_lead(last, align) + size;
        if (want > last->size && want - last->size > wilderness_left(r))
            return 0;
        if (!ant_bin_remove(arena, last))
            return 0;
        if (want > last->size) {
            /* The wilderness is not poison; what it adds to a free block
             * must be where anything reads it as such: all of it if a
             * lead block will be split from the front, else as far as the
             * reuse check reads, since the whole block is about to be
             * handed out. Pages faulted in only to be poisoned would
             * otherwise cost as much as the program's own writes. */
            uintptr_t from = (uintptr_t)ant_block_end(last);
            uintptr_t to = from + (want - last->size);
            if (!ant_align_lead(last, align)) {
                uintptr_t reach = (uintptr_t)ant_mem_of(last) + ANT_POISON_OFFSET + ant_opt.poison_check;
                if (reach < to)
                    to = reach > from ? reach : from;
            }
            memset((void *)from, ANT_POISON, to - from);
            ant_journal_step(arena, ANT_STEP_CARVE, r, want - last->size);
            ant_journal_node(arena, last);
            ant_journal_region(arena, r);
            ant_count_out(arena, last);
            ant_counters(arena)->wilderness_bytes -= want - last->size;
            r->wilderness += want - last->size;
            last->size = (uint32_t)want;
            ant_seal(last);
            ant_count_in(arena, last);
        }
        return last;
    }
    size_t lead = ant_align_lead((ant_node_t *)(uintptr_t)r->wilderness, align);
    if (lead + size > wilderness_left(r))
        return 0;
    if (lead) {
        ant_node_t *front = carve_block(arena, r, lead);
        ant_poison(front);
        ant_bin_insert(arena, front);
    }
    return carve_block(arena, r, size);
}

ant_node_t *ant_wilderness_carve(ant_arena_t *arena, size_t size, size_t align, ant_region_t **region_out)
{
    size_t need = size + (align > ANT_ALIGN ? align + ANT_MIN_BLOCK : 0);
    for (ant_region_t *r = arena->regions; r; r = r->next) {
        ant_node_t *node = carve_in(arena, r, size, align);
        if (node) {
            *region_out = r;
            return node;
        }
    }
    ant_region_t *r = arena->regions;
    if (!r || !region_grow(arena, r, need)) {
        r = region_new(arena, need);
        if (!r)
            return 0;
    }
    *region_out = r;
    return carve_in(arena, r, size, align);
}

/*
 * The free last block of a region (counted, out of the bins) becomes
 * wilderness again, and its whole pages go back to the OS. A region left
 * empty is unmapped, unless it is the arena's only one. The heap is whole
 * before each of the two: the journal is committed, so that no record
 * would put back bytes the OS took.
 */
void ant_wilderness_reclaim(ant_arena_t *arena, ant_region_t *region, ant_node_t *node)
{
    ant_journal_step(arena, ANT_STEP_RECLAIM, ant_mem_of(node), (uint64_t)(uintptr_t)region);
    ant_count_out(arena, node);
    ant_fit_forget(arena, node);
    ant_journal_region(arena, region);
    region->last = ant_block_below(node);
    if (!region->last)
        region->first = 0;
    unsigned char *old = (unsigned char *)region->wilderness;
    region->wilderness = (uint64_t)(uintptr_t)node;
    ant_counters(arena)->wilderness_bytes += (uint64_t)(old - (unsigned char *)node);
    ant_journal_commit(arena);
    ant_os_release(node, old);
    if (region->first || (arena->regions == region && !region->next))
        return;
    ant_journal_step(arena, ANT_STEP_DROP_REGION, region, region->length);
    if (region->prev) {
        ant_journal_region(arena, region->prev);
        region->prev->next = region->next;
    } else {
        ant_journal_word(arena, &arena->regions);
        arena->regions = region->next;
    }
    if (region->next) {
        ant_journal_region(arena, region->next);
        region->next->prev = region->prev;
    }
    struct ant_arena_counters *c = ant_counters(arena);
    c->regions--;
    c->mapped_bytes -= region->length;
    c->wilderness_bytes -= region->length - ANT_REGION_HEADER_SIZE;
    ant_journal_commit(arena);
    ant_span_remove(region);
    ant_os_unmap(region, region->length);
}

/*
 * Grows the region's last block (used, counted) to `size` bytes from the
 * wilderness, growing the region in place if need be; false if it can't.
 */
bool ant_wilderness_extend(ant_arena_t *arena, ant_region_t *region, ant_node_t *node, size_t size)
{
    size_t more = size - node->size;
    if (more > wilderness_left(region) && !region_grow(arena, region, more))
        return false;
    ant_journal_step(arena, ANT_STEP_GROW, ant_mem_of(node), size);
    ant_journal_node(arena, node);
    ant_journal_region(arena, region);
    ant_count_out(arena, node);
    node->size = (uint32_t)size;
    region->wilderness += more;
    ant_counters(arena)->wilderness_bytes -= more;
    ant_seal(node);
    ant_count_in(arena, node);
    return true;
}
