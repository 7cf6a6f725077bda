/*
 * leak.c: leaks, found in the process itself at exit by conservative
 * reachability as Valgrind's memcheck finds them, under
 * ANT_OPTIONS=leak_check=1.
 *
 * With every arena locked and every other thread stopped (leak_stop.c),
 * the used blocks of all regions and big mappings go into one array in
 * address order, with an index per 256 bytes of each region, so that any
 * word is looked up in a few steps. A word equal to a block's mem points
 * to its start; one inside its requested bytes points into it. From the
 * roots (every thread's registers and stack, and every other mapping the
 * program can write: leak_roots.c) and then through the blocks reached,
 * each block is
 *   reached   by a chain of start pointers from a root: not a leak;
 *   possible  reached, but only by a chain with an interior pointer in it;
 * or not reached at all. Then each unreached block in address order marks
 * every unreached block its words lead to, transitively, indirect: lost
 * only because it is. The unreached blocks left are the definite leaks,
 * the ones whose free would free the rest.
 *
 * Free and cached blocks (in thread caches and depots) are not leaks, and
 * their bytes are not read: the links in them are the allocator's. Nor
 * are the allocator's own memory and globals roots: the root, the arenas
 * (whose journals keep old words and mem addresses), the thread caches,
 * and the check's own scratch memory, mapped apart from the heap so that
 * the check allocates nothing and changes nothing in it. A block a stopped
 * thread's cache is moving (cache.busy) is not judged, and its bytes are
 * a root.
 *
 * A verdict must never call a reachable block leaked, so there is none,
 * only a line saying why, when a thread did not stop (its registers are
 * unknown and it moves pointers while memory is read), when the heap is
 * damaged (past a bad node nothing is known), or when the roots cannot be
 * listed.
 */
#include "leak.h"
#include "valgrind.h"

#include <stdlib.h>
#include <sys/mman.h>

/* A block index per 256 bytes of a region: the smallest block is 64, so
 * a lookup steps over at most four. */
#define GRANULE_SHIFT 8u
#define NONE UINT32_MAX
#define SCRATCH_MAPS 12u
#define BUFFER_BYTES (1u << 20)

enum { UNREACHED = 0, INDIRECT, POSSIBLE, REACHED };

/* A region or big mapping with used blocks: blocks[first .. end) lie in
 * [low, high). */
struct span {
    const ant_region_t *region;
    uintptr_t low, high;
    uint32_t first, end;
    uint32_t *granules; /* HEAP: the first block not wholly below each 256 bytes */
};

/* end: mem + requested, at least mem + 1 so that mem itself is inside. */
struct block {
    uintptr_t mem, end;
};

struct scan {
    struct span *spans;
    size_t span_count, span_capacity;
    struct block *blocks;
    uint8_t *state;
    size_t count, capacity;
    uint32_t *stack;
    size_t depth;
    uintptr_t low, high; /* from the first span to the last */
    size_t last;         /* the span of the last word found: the next is often there too */
    uint32_t leader;     /* the unreached block whose words are being followed, or NONE */
};

struct scratch {
    struct ant_leak_range maps[SCRATCH_MAPS];
    unsigned count;
};

static void *scratch_map(struct scratch *s, size_t bytes)
{
    bytes = (bytes + ant_page_size - 1) & ~(ant_page_size - 1);
    void *p = s->count < SCRATCH_MAPS && bytes ? ant_os_map(bytes) : 0;
    if (p)
        s->maps[s->count++] = (struct ant_leak_range){(uintptr_t)p, (uintptr_t)p + bytes};
    return p;
}

static void scratch_unmap(struct scratch *s)
{
    for (unsigned i = 0; i < s->count; i++)
        munmap((void *)s->maps[i].low, s->maps[i].high - s->maps[i].low);
    s->count = 0;
}

/* ---- The used blocks ---- */

static uint32_t find(struct scan *s, uintptr_t a)
{
    if (a - s->low >= s->high - s->low)
        return NONE;
    const struct span *sp = &s->spans[s->last];
    if (a - sp->low >= sp->high - sp->low) {
        size_t lo = 0, hi = s->span_count;
        while (hi - lo > 1) {
            size_t mid = lo + (hi - lo) / 2;
            if (s->spans[mid].low <= a)
                lo = mid;
            else
                hi = mid;
        }
        sp = &s->spans[lo];
        if (a - sp->low >= sp->high - sp->low)
            return NONE;
        s->last = lo;
    }
    uint32_t i = sp->granules ? sp->granules[(a - sp->low) >> GRANULE_SHIFT] : sp->first;
    while (i < sp->end && s->blocks[i].end <= a)
        i++;
    return i < sp->end && s->blocks[i].mem <= a ? i : NONE;
}

static void add_span(struct scan *s, const ant_region_t *r)
{
    if (r->first && s->span_count < s->span_capacity)
        s->spans[s->span_count++] = (struct span){.region = r, .low = (uintptr_t)r->first, .high = r->wilderness};
}

/* The used blocks of a span in address order; false at a node that fails
 * its check, past which nothing is known (ant_check() reports it). A BUSY
 * node is being moved in or out of a cache: neither used nor free. */
static bool collect(struct scan *s, struct span *sp)
{
    const ant_region_t *r = sp->region;
    sp->first = (uint32_t)s->count;
    for (ant_node_t *n = r->first; (uintptr_t)n + ANT_NODE_SIZE <= r->wilderness;) {
        uint64_t w3 = __atomic_load_n(&n->w[3], __ATOMIC_ACQUIRE);
        bool busy = (uint32_t)w3 & ANT_MARK_BUSY;
        if (!busy && w3 != ant_sealed(n, (uint32_t)w3))
            return false;
        if (!busy && (w3 & ANT_MARK_STATE) == ANT_STATE_USED) {
            if (s->count == s->capacity)
                return false;
            uintptr_t mem = (uintptr_t)ant_mem_of(n);
            size_t requested = ant_requested_of(n);
            s->blocks[s->count++] = (struct block){mem, mem + (requested ? requested : 1)};
        }
        if (r->kind != ANT_REGION_HEAP)
            break;
        if (n->size < ANT_MIN_BLOCK || n->size % ANT_ALIGN)
            return false;
        n = ant_block_end(n);
    }
    sp->end = (uint32_t)s->count;
    return true;
}

static void index_span(struct scan *s, struct span *sp, uint32_t **pool)
{
    if (sp->region->kind != ANT_REGION_HEAP)
        return;
    size_t n = ((sp->high - sp->low) >> GRANULE_SHIFT) + 1;
    sp->granules = *pool;
    *pool += n;
    uint32_t i = sp->first;
    for (size_t g = 0; g < n; g++) {
        uintptr_t at = sp->low + (g << GRANULE_SHIFT);
        while (i < sp->end && s->blocks[i].end <= at)
            i++;
        sp->granules[g] = i;
    }
}

static int lower_span(const void *a, const void *b)
{
    return ((const struct span *)a)->low < ((const struct span *)b)->low;
}

/* What the arenas hold, for the scratch memory: used blocks (cached ones
 * among them), regions and big mappings, and 256-byte granules. */
static void measure(size_t *blocks, size_t *spans, size_t *granules)
{
    *blocks = *spans = *granules = 0;
    for (uint32_t i = 0; i < ant_heap_root.arena_count; i++) {
        const ant_arena_t *a = ant_heap_root.arenas[i];
        *blocks += a->counters.used_blocks;
        *spans += a->counters.regions + a->counters.bigs;
        for (const ant_region_t *r = a->regions; r; r = r->next)
            if (r->first)
                *granules += ((r->wilderness - (uintptr_t)r->first) >> GRANULE_SHIFT) + 1;
    }
}

enum verdict { JUDGED, NO_MEMORY, DAMAGED, NO_MAPS, UNSTOPPED };

static enum verdict gather(struct scan *s, struct scratch *scratch)
{
    size_t blocks, spans, granules;
    measure(&blocks, &spans, &granules);
    blocks++; /* no mapping is empty */
    spans++;
    granules++;
    s->capacity = blocks;
    s->span_capacity = spans;
    s->blocks = scratch_map(scratch, blocks * sizeof *s->blocks);
    s->state = scratch_map(scratch, blocks);
    s->stack = scratch_map(scratch, (2 * blocks + 2) * sizeof *s->stack);
    s->spans = scratch_map(scratch, spans * sizeof *s->spans);
    uint32_t *pool = scratch_map(scratch, granules * sizeof *pool);
    if (!s->blocks || !s->state || !s->stack || !s->spans || !pool)
        return NO_MEMORY;
    for (uint32_t i = 0; i < ant_heap_root.arena_count; i++) {
        const ant_arena_t *a = ant_heap_root.arenas[i];
        for (const ant_region_t *r = a->regions; r; r = r->next)
            add_span(s, r);
        for (const ant_region_t *r = a->bigs; r; r = r->next)
            add_span(s, r);
    }
    ant_leak_sort(s->spans, s->span_count, sizeof *s->spans, lower_span);
    for (size_t i = 0; i < s->span_count; i++)
        if (!collect(s, &s->spans[i]))
            return DAMAGED;
    for (size_t i = 0; i < s->span_count; i++)
        index_span(s, &s->spans[i], &pool);
    s->low = s->span_count ? s->spans[0].low : 0;
    s->high = s->span_count ? s->spans[s->span_count - 1].high : 0;
    s->leader = NONE;
    return JUDGED;
}

/* ---- Marking ---- */

/* A word found in a root (`definite`), in a reached block (`definite`),
 * in a possible one, or, while a leader is set, in an unreached one. */
static inline void consider(struct scan *s, uint64_t word, bool definite)
{
    uint32_t i = find(s, (uintptr_t)word);
    if (i == NONE)
        return;
    uint8_t want;
    if (s->leader != NONE) {
        if (s->state[i] != UNREACHED || i == s->leader)
            return;
        want = INDIRECT;
    } else {
        want = definite && word == s->blocks[i].mem ? REACHED : POSSIBLE;
        if (s->state[i] >= want)
            return;
    }
    s->state[i] = want;
    s->stack[s->depth++] = i;
}

static void root_words(void *arg, const uint64_t *words, size_t count)
{
    struct scan *s = arg;
    for (size_t i = 0; i < count; i++)
        consider(s, words[i], true);
}

static void regs_words(struct scan *s, const struct ant_leak_regs *regs)
{
    root_words(s, regs->words, ANT_LEAK_REGS);
}

/* Follows the words of every block on the stack, the program's bytes
 * only: what follows them is the tail and padding. */
static void drain(struct scan *s)
{
    while (s->depth) {
        uint32_t i = s->stack[--s->depth];
        const uint64_t *words = (const uint64_t *)s->blocks[i].mem;
        size_t count = (s->blocks[i].end - s->blocks[i].mem) / 8;
        bool definite = s->state[i] == REACHED;
        for (size_t k = 0; k < count; k++)
            consider(s, words[k], definite);
    }
}

/* The block a stopped thread's cache is moving in or out is its thread's,
 * which may hold only its node yet: reached if it is used already, and
 * its bytes, whatever of them is the program's still, count as a root if
 * it is BUSY and so not judged. */
static void hold_busy(struct scan *s)
{
    for (const ant_cache_t *c = __atomic_load_n(&ant_heap_root.caches, __ATOMIC_ACQUIRE); c; c = c->next) {
        ant_node_t *node = __atomic_load_n(&c->busy, __ATOMIC_ACQUIRE);
        if (!node || node->size < ANT_MIN_BLOCK)
            continue;
        uint64_t mem = (uint64_t)(uintptr_t)ant_mem_of(node);
        root_words(s, &mem, 1);
        root_words(s, (const uint64_t *)(const void *)ant_mem_of(node), (node->size - ANT_NODE_SIZE) / 8);
    }
}

/* Each unreached block, in address order, makes what it leads to
 * indirect; a leader reached by a later one becomes indirect too. */
static void mark_cliques(struct scan *s)
{
    for (uint32_t i = 0; i < s->count; i++) {
        if (s->state[i] != UNREACHED)
            continue;
        s->leader = i;
        s->stack[s->depth++] = i;
        drain(s);
    }
    s->leader = NONE;
}

/* ---- Roots ---- */

/* Every range of memory that is not a root: the heap's mappings, the
 * allocator's state, the check's own memory. */
static bool skips(struct ant_leak_ranges *skip, struct scratch *scratch, const struct ant_leak_world *world)
{
    size_t caches = 0;
    for (const ant_cache_t *c = ant_heap_root.caches; c; c = c->next)
        caches++;
    skip->capacity = 2 * ant_heap_root.arena_count + caches + SCRATCH_MAPS + 4;
    for (uint32_t i = 0; i < ant_heap_root.arena_count; i++)
        skip->capacity += ant_heap_root.arenas[i]->counters.regions + ant_heap_root.arenas[i]->counters.bigs;
    skip->at = scratch_map(scratch, skip->capacity * sizeof *skip->at);
    if (!skip->at)
        return false;
    ant_leak_skip(skip, &ant_heap_root, sizeof ant_heap_root);
    for (uint32_t i = 0; i < ant_heap_root.arena_count; i++) {
        const ant_arena_t *a = ant_heap_root.arenas[i];
        ant_leak_skip(skip, a, sizeof *a);
        for (const ant_region_t *r = a->regions; r; r = r->next)
            ant_leak_skip(skip, r, r->length);
        for (const ant_region_t *r = a->bigs; r; r = r->next)
            ant_leak_skip(skip, r, r->length);
    }
    for (const ant_cache_t *c = ant_heap_root.caches; c; c = c->next)
        ant_leak_skip(skip, c, sizeof *c);
    if (world->threads)
        ant_leak_skip(skip, (const void *)world->records.low, world->records.high - world->records.low);
    /* The last: these ranges are in a scratch mapping too. */
    for (unsigned i = 0; i < scratch->count; i++)
        ant_leak_skip(skip, (const void *)scratch->maps[i].low, scratch->maps[i].high - scratch->maps[i].low);
    return true;
}

static enum verdict mark_from_roots(struct scan *s, struct scratch *scratch, const struct ant_leak_world *world,
                                    const ucontext_t *here)
{
    struct ant_leak_regs mine;
    ant_leak_regs_of(here, &mine);
    regs_words(s, &mine);
    uintptr_t *sps = scratch_map(scratch, (world->count + 1) * sizeof *sps);
    uint64_t *buffer = scratch_map(scratch, BUFFER_BYTES);
    struct ant_leak_ranges skip = {0};
    if (!sps || !buffer || !skips(&skip, scratch, world))
        return NO_MEMORY;
    size_t sp_count = 0;
    sps[sp_count++] = mine.sp;
    for (unsigned i = 0; i < world->count; i++) {
        if (!ant_leak_stopped(&world->threads[i]))
            continue;
        regs_words(s, &world->threads[i].regs);
        sps[sp_count++] = world->threads[i].regs.sp;
    }
    return ant_leak_roots(&skip, sps, sp_count, buffer, BUFFER_BYTES, root_words, s) ? JUDGED : NO_MAPS;
}

/* ---- The check ---- */

static uint32_t kind_of(uint8_t state)
{
    return state == UNREACHED ? ANT_LEAK_DEFINITE : state == INDIRECT ? ANT_LEAK_INDIRECT : ANT_LEAK_POSSIBLE;
}

/* Where a group of leaks of `kind` from `site` is looked for first. */
static size_t slot_of(uint64_t site, uint32_t kind, size_t slots)
{
    uint64_t x = (site ^ (uint64_t)kind << 56) * 0x9e3779b97f4a7c15ull;
    return (size_t)(x ^ x >> 32) & (slots - 1);
}

/*
 * Copies what the report needs of each leaked block, grouped by kind and
 * site, while no thread can free it: a hash table of group numbers (from
 * 1; 0 is an empty slot) finds each block's group, so that a million
 * leaks of one site cost a million lookups and no sort.
 */
static enum verdict take_leaks(struct scan *s, struct scratch *scratch, struct ant_leak_found *found)
{
    size_t leaked = 0;
    for (size_t i = 0; i < s->count; i++)
        leaked += s->state[i] != REACHED;
    size_t slots = 16;
    while (slots < 2 * leaked)
        slots *= 2;
    found->leaks = scratch_map(scratch, (leaked + 1) * sizeof *found->leaks);
    uint32_t *table = scratch_map(scratch, slots * sizeof *table);
    if (!found->leaks || !table)
        return NO_MEMORY;
    for (size_t i = 0; i < s->count; i++) {
        if (s->state[i] == REACHED)
            continue;
        const ant_node_t *node = ant_node_of((const void *)s->blocks[i].mem);
        uint64_t serial = ant_node_serial(node), site = ant_node_site(node);
        uint32_t kind = kind_of(s->state[i]);
        size_t at = slot_of(site, kind, slots);
        struct ant_leak_group *g = 0;
        for (; table[at]; at = (at + 1) & (slots - 1)) {
            g = &found->leaks[table[at] - 1];
            if (g->kind == kind && g->site == site)
                break;
            g = 0;
        }
        if (!g) {
            table[at] = (uint32_t)++found->count;
            g = &found->leaks[found->count - 1];
            *g = (struct ant_leak_group){.kind = kind, .site = site, .first_serial = serial, .last_serial = serial};
        }
        g->blocks++;
        g->bytes += ant_requested_of(node);
        if (serial < g->first_serial)
            g->first_serial = serial;
        if (serial > g->last_serial)
            g->last_serial = serial;
    }
    return JUDGED;
}

static enum verdict judge(struct scan *s, struct scratch *scratch, const struct ant_leak_world *world,
                          const ucontext_t *here, struct ant_leak_found *found)
{
    if (world->unstopped)
        return UNSTOPPED;
    enum verdict v = gather(s, scratch);
    if (v != JUDGED)
        return v;
    hold_busy(s);
    v = mark_from_roots(s, scratch, world, here);
    if (v != JUDGED)
        return v;
    drain(s);
    mark_cliques(s);
    return take_leaks(s, scratch, found);
}

static const char *const why_not[] = {
    [NO_MEMORY] = "no memory could be mapped for it",
    [DAMAGED] = "the heap is damaged (ANT_OPTIONS=on_error=report and ant_check() say where)",
    [NO_MAPS] = "/proc/self/maps could not be read, so no root is known",
};

/*
 * Out of line, so that its frames lie below `here`, the stack pointer
 * where the caller saved its registers: the check's own locals, node and
 * mem addresses among them, are not read as roots. Returns the definite
 * leaks found.
 */
static __attribute__((noinline)) size_t check_from(const ucontext_t *here, int status)
{
    struct scratch scratch = {.count = 0};
    struct scan s = {0};
    struct ant_leak_world world;
    struct ant_leak_found found = {.status = status};
    ant_lock_all();
    ant_leak_stop(&world);
    enum verdict v = judge(&s, &scratch, &world, here, &found);
    ant_leak_resume(&world);
    ant_unlock_all();
    size_t definite = 0;
    if (v == UNSTOPPED)
        ant_report_leak_unstopped(world.unstopped, world.signal);
    else if (v != JUDGED)
        ant_warn("leak check: not done: ", why_not[v], "");
    else
        definite = ant_leak_report(&found, s.count);
    scratch_unmap(&scratch);
    return definite;
}

/*
 * At exit, from exit() or a return from main, as on_exit() passes the
 * status: registered when the allocator starts, it runs after whatever
 * the program registered later (last registered, first run), when the
 * program's own cleanup has freed what it frees. A status of 0 becomes 23
 * with definite leaks, by exit() again, which runs the handlers still due
 * and flushes stdio as the first would have; any other status stays.
 * _exit() and a fatal signal run no handler, so no check.
 */
static void check_at_exit(int status, void *arg)
{
    (void)arg;
    ucontext_t here;
    memset(&here, 0, sizeof here);
    getcontext(&here);
    ant_quiet_begin();
    bool again = check_from(&here, status) && status == 0;
    ant_quiet_end();
    if (again)
        exit(ANT_LEAK_EXIT_STATUS);
}

void ant_leak_arm(void)
{
    on_exit(check_at_exit, 0);
}
