/*
 * cache.c: thread caches, the fast path of small blocks.
 *
 * A thread that frees a small block keeps it in its own cache, one stack
 * per block size, and hands it out again to its next malloc of that size,
 * or of a size up to 32 bytes smaller: no lock, no bins, no coalescing.
 * A cache holds at most `cache` blocks of each size and `cache_bytes` in
 * all, so that a thread which frees what others allocated does not hoard
 * them.
 *
 * The block stays a block of the heap in state CACHED: sealed, poisoned
 * and linked to its cache in its mem, so the debugger sees where it is and
 * can check it. Only the cache's thread touches the cache, so the cache
 * needs no lock; the block's node is still shared with the arena, which
 * may change its links when a neighbour is freed, so each change holds the
 * node's BUSY flag (layout.h, "Who may change a node").
 *
 * Caches are listed in root.caches, never in thread-local storage alone: a
 * debugger reading a core finds them all from the root. A thread's cache
 * goes back to the arenas when the thread ends, and waits, IDLE, for the
 * next thread.
 */
#include "cache_lists.h"
#include "valgrind.h"

#include <linux/membarrier.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define TLS __thread __attribute__((tls_model("initial-exec")))
#define SLAB_BYTES (64u << 10)

/* Whether this thread may have a cache: not while making one (making one
 * may call malloc), and not after its cache went back at thread exit. */
enum { CACHE_ALLOWED, CACHE_MAKING, CACHE_ENDED };

static TLS ant_cache_t *my_cache;
static TLS int my_cache_rule;

static pthread_key_t exit_key;
/* Set while a fork waits for the caches to be still (see ant_cache_fork_prepare). */
static int forking;
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned char *slab;
static size_t slab_left;

static ant_cache_t *carve_cache(uint32_t state)
{
    size_t size = (sizeof(ant_cache_t) + 63) & ~(size_t)63;
    if (slab_left < size) {
        slab = ant_os_map(SLAB_BYTES);
        if (!slab)
            return 0;
        slab_left = SLAB_BYTES;
    }
    ant_cache_t *c = (ant_cache_t *)(void *)slab;
    slab += size;
    slab_left -= size;
    c->magic = ANT_CACHE_MAGIC;
    c->bin_count = ANT_CACHE_BINS;
    c->state = state;
    c->next = ant_heap_root.caches;
    __atomic_store_n(&ant_heap_root.caches, c, __ATOMIC_RELEASE);
    return c;
}

ant_cache_t *ant_cache_new_depot(void)
{
    pthread_mutex_lock(&registry_lock);
    ant_cache_t *c = carve_cache(ANT_CACHE_DEPOT);
    pthread_mutex_unlock(&registry_lock);
    return c;
}

static ant_cache_t *make_cache(void)
{
    if (my_cache_rule != CACHE_ALLOWED || !ant_opt.cache)
        return 0;
    my_cache_rule = CACHE_MAKING;
    pthread_mutex_lock(&registry_lock);
    ant_cache_t *c = ant_heap_root.caches;
    while (c && c->state != ANT_CACHE_IDLE)
        c = c->next;
    if (!c)
        c = carve_cache(ANT_CACHE_IDLE);
    if (c) {
        c->thread = (uint64_t)syscall(SYS_gettid);
        __atomic_store_n(&c->state, ANT_CACHE_LIVE, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&registry_lock);
    if (c && pthread_setspecific(exit_key, c) != 0) {
        /* Without the exit hook its blocks would be stranded: no cache. */
        pthread_mutex_lock(&registry_lock);
        c->thread = 0;
        c->state = ANT_CACHE_IDLE;
        pthread_mutex_unlock(&registry_lock);
        c = 0;
    }
    my_cache = c;
    my_cache_rule = c ? CACHE_ALLOWED : CACHE_ENDED;
    return c;
}

/*
 * Starts a change of `node`: names it in c->busy, then checks that no fork
 * is waiting. Each change ends with end_change(), after the lists and the
 * counters, so a cache whose busy is 0 is whole.
 *
 * The store and the load must not pass each other, or a fork could miss a
 * change begun as it started (see ant_cache_fork_prepare). A full fence
 * here would cost every malloc and free; instead a fork makes every other
 * thread pass one, with membarrier(2), and a change pays only for ordering
 * the compiler's moves. Where membarrier is refused, the change fences.
 */
static bool fork_fences_for_us;

static inline bool begin_change(ant_cache_t *c, ant_node_t *node)
{
    __atomic_store_n(&c->busy, node, __ATOMIC_RELAXED);
    if (ANT_LIKELY(fork_fences_for_us))
        __atomic_signal_fence(__ATOMIC_SEQ_CST);
    else
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (ANT_LIKELY(!__atomic_load_n(&forking, __ATOMIC_RELAXED)))
        return true;
    __atomic_store_n(&c->busy, 0, __ATOMIC_RELEASE);
    return false;
}

static void end_change(ant_cache_t *c)
{
    __atomic_store_n(&c->busy, 0, __ATOMIC_RELEASE);
}

/* The sums of a cache's bins, which blocks and bytes keep. */
static void recount(ant_cache_t *c)
{
    uint64_t blocks = 0, bytes = 0;
    for (unsigned bin = 0; bin < ANT_CACHE_BINS; bin++) {
        blocks += c->counts[bin];
        bytes += (uint64_t)c->counts[bin] * (ANT_MIN_BLOCK + ANT_ALIGN * bin);
    }
    __atomic_store_n(&c->blocks, blocks, __ATOMIC_RELAXED);
    __atomic_store_n(&c->bytes, bytes, __ATOMIC_RELAXED);
}

/*
 * A bin whose list cannot be followed past a damaged block, once that was
 * reported: the cache stops using it. What hangs below stays CACHED, lost
 * to the program but not to a reader, which the refused mask tells why
 * (I13); it is set before the list is let go.
 */
static void abandon(ant_cache_t *c, unsigned bin)
{
    __atomic_store_n(&c->refused, c->refused | (1ull << bin), __ATOMIC_SEQ_CST);
    c->bins[bin] = 0;
    c->counts[bin] = 0;
    recount(c);
}

/* The same, of a cache changed under an arena's lock: recorded first. */
void ant_cache_abandon_locked(ant_arena_t *arena, ant_cache_t *c, unsigned bin)
{
    ant_journal_word(arena, &c->refused);
    ant_journal_word(arena, &c->bins[bin]);
    ant_journal_save(arena, &c->counts[bin], sizeof c->counts[bin]);
    ant_journal_words(arena, &c->blocks, sizeof c->blocks + sizeof c->bytes);
    abandon(c, bin);
    ant_journal_commit(arena);
}

bool ant_cache_block_sound(ant_arena_t *arena, const ant_cache_t *c, unsigned bin, ant_node_t *node, ant_node_t **below,
                           ant_region_t **region)
{
    *region = ant_region_of(arena, node);
    if (!*region || !ant_region_holds(*region, node, ANT_NODE_SIZE) || !ant_head_ok(node) ||
        node->state != ANT_STATE_CACHED || node->size != ant_block_of_bin(bin))
        return false;
    uint64_t links[2];
    ant_cache_read_links(node, links);
    *below = (ant_node_t *)(uintptr_t)links[0];
    if (links[1] == (uintptr_t)c && (!*below || ant_cache_followable(*below)))
        return true;
    struct ant_problem p = {.kind = ANT_PROBLEM_USE_AFTER_FREE,
                            .node = node,
                            .invariant = "I13",
                            .what = "a thread-cache link changed, a write through a dangling pointer, in"};
    ant_report(&p);
    ant_report_done();
    return false;
}

/*
 * Gives one cached block of `bin` back to its arena, whose lock the caller
 * holds, as a free block: unlinked at `link`, uncounted, settled, and the
 * journal committed, so that each block given back leaves the heap and the
 * cache whole, and lets go the neighbours it held (the next block given
 * back may be one). False, touching nothing, if it is not a sound cached
 * block of this cache there.
 */
bool ant_cache_give_back_locked(ant_cache_t *c, ant_arena_t *arena, unsigned bin, ant_node_t *node, void *link)
{
    /* Its links are about to be overwritten by the bins': damage to them
     * is reported now or never. */
    ant_node_t *below;
    ant_region_t *region;
    if (!ant_cache_block_sound(arena, c, bin, node, &below, &region))
        return false;
    ant_journal_step(arena, ANT_STEP_GIVE_BACK, ant_mem_of(node), (uint64_t)(uintptr_t)c);
    ant_cache_set_link(arena, link, below);
    ant_cache_count_locked(arena, c, bin, -1);
    ant_journal_node(arena, node);
    ant_count_out(arena, node);
    node->state = ANT_STATE_FREE;
    ant_seal(node);
    ant_count_in(arena, node);
    ant_settle_free(arena, region, node);
    ant_journal_commit(arena);
    return true;
}

/*
 * A full bin sends its older half back under one lock: that of the arena
 * of its bottom block, whose blocks go to its depot while it has room,
 * else back to the arena's bins; blocks of other arenas stay.
 */
static __attribute__((noinline)) void flush_half(ant_cache_t *c, unsigned bin)
{
    uint64_t links[2];
    ant_node_t *keep_to = c->bins[bin];
    for (unsigned i = 1; ant_cache_followable(keep_to) && i < c->counts[bin] / 2; i++) {
        ant_cache_read_links(keep_to, links);
        keep_to = (ant_node_t *)(uintptr_t)links[0];
    }
    /* A bad link is left for ant_cache_take to find and report. */
    if (!ant_cache_followable(keep_to))
        return;
    ant_cache_read_links(keep_to, links);
    ant_node_t *bottom = (ant_node_t *)(uintptr_t)links[0];
    if (!ant_cache_followable(bottom))
        return;
    ant_arena_t *arena = ant_arena_at(bottom->arena);
    if (!arena)
        return;
    ant_lock_for(arena, ANT_OP_FLUSH);
    /* `link` names the next block to send: runs of them go to the depot at
     * once, the rest one by one to the bins; a block of another arena stays
     * and `link` passes below it. */
    void *link = ant_mem_of(keep_to);
    for (unsigned left = c->counts[bin]; left;) {
        ant_node_t *node;
        memcpy(&node, link, sizeof node);
        if (!ant_cache_followable(node))
            break;
        if (node->arena == arena->index) {
            unsigned moved = ant_depot_leave_locked(arena, c, bin, link, left);
            if (moved) {
                left -= moved;
                continue;
            }
            if (ant_cache_give_back_locked(c, arena, bin, node, link)) {
                left--;
                continue;
            }
        }
        link = ant_mem_of(node);
        left--;
    }
    ant_unlock(arena);
}

/* Whether a block of `size` bytes would pass the cache's limits. */
static inline bool full(const ant_cache_t *c, size_t size)
{
    return c->counts[ant_bin_of_block(size)] >= ant_opt.cache || c->bytes + size > ant_opt.cache_bytes;
}

static inline __attribute__((always_inline)) bool put(void *mem, void *site)
{
    ant_cache_t *c = my_cache;
    if (ANT_UNLIKELY(!c) && !(c = make_cache()))
        return false;
    ant_node_t *node = ant_node_of(mem);
    uintptr_t span_end = (uintptr_t)mem % ANT_ALIGN ? 0 : ant_heap_span_end(node, ANT_MIN_BLOCK);
    if (!span_end)
        return false;
    uint64_t w3 = __atomic_load_n(&node->w[3], __ATOMIC_ACQUIRE);
    size_t size = node->size;
    if ((w3 & ANT_MARK_STATE) != ANT_STATE_USED || ((uint32_t)w3 & ANT_MARK_BUSY) || size > ANT_CACHE_MAX_BLOCK ||
        size < ANT_MIN_BLOCK || size % ANT_ALIGN)
        return false;
    /* A full bin, or a cache holding its share of bytes, sends the older
     * half of the bin back first; a block that still finds no room goes
     * to the arena. */
    if (full(c, size)) {
        flush_half(c, ant_bin_of_block(size));
        if (full(c, size))
            return false;
    }
    if (!begin_change(c, node))
        return false;
    if (!ant_node_try_hold(node, w3)) {
        end_change(c);
        return false;
    }
    /* Anything amiss goes to the locked path, which reports it. */
    uint64_t requested = node->requested;
    if (w3 != ant_sealed(node, (uint32_t)w3) || node->size != size ||
        requested > size - ANT_NODE_SIZE - ANT_TAIL_SIZE || span_end - (uintptr_t)node < size ||
        !ant_tail_ok_at(node, requested)) {
        ant_node_unhold(node, w3);
        end_change(c);
        return false;
    }
    unsigned bin = ant_bin_of_block(size);
    c->busy_requested = -(int64_t)requested;
    ant_journal_fence();
    if (size - ANT_MIN_BLOCK <= ANT_POISON_INLINE_MAX)
        ant_poison_small(node, size - ANT_MIN_BLOCK);
    else
        ant_poison(node);
    ant_cache_write_links(node, c->bins[bin], c);
    ant_freed_write(node, (uint64_t)(uintptr_t)site);
    ant_node_release(node, ((uint32_t)w3 & ~ANT_MARK_STATE) | ANT_STATE_CACHED);
    c->bins[bin] = node;
    c->counts[bin]++;
    ant_cache_add(&c->blocks, 1);
    ant_cache_add(&c->bytes, size);
    ant_cache_add_signed(&c->requested_delta, -(int64_t)requested);
    ant_cache_add(&c->frees, 1);
    end_change(c);
    return true;
}

/* A block that fails its checks on the way out: reported, with nothing of
 * the cache half changed, and its bin abandoned, since the rest of the
 * list hangs from a link that may be bad. */
static __attribute__((noinline, cold)) void *refuse(ant_cache_t *c, unsigned bin, const struct ant_problem *p)
{
    end_change(c);
    ant_report(p);
    ant_report_done();
    abandon(c, bin);
    return 0;
}

static __attribute__((noinline, cold)) void *refuse_node(ant_cache_t *c, unsigned bin, ant_node_t *node)
{
    struct ant_problem p = {.kind = ANT_PROBLEM_HEADER,
                            .node = node,
                            .invariant = "I1",
                            .what = "the node of a block in a thread cache was overwritten:"};
    return refuse(c, bin, &p);
}

static inline __attribute__((always_inline)) void *take(size_t size, void *site)
{
    if (size > ANT_CACHE_MAX_BLOCK - ANT_NODE_SIZE - ANT_TAIL_SIZE)
        return 0;
    ant_cache_t *c = my_cache;
    if (ANT_UNLIKELY(!c) && !(c = make_cache()))
        return 0;
    size_t block = ant_block_size_for(size);
    unsigned bin = ant_bin_of_block(block);
    ant_node_t *node = c->bins[bin];
    if (!node) {
        /* A block 16 or 32 bytes bigger serves as well (the arena, too,
         * leaves slack of less than a block) and spares a trip to the
         * arena's lock: churn of mixed sizes goes there half as often. */
        unsigned up = bin + 1;
        while (up < ANT_CACHE_BINS && up <= bin + 2 && !(node = c->bins[up]))
            up++;
        if (!node)
            return 0;
        block += (up - bin) * ANT_ALIGN;
        bin = up;
    }
    if (!begin_change(c, node))
        return 0;
    uint64_t w3 = __atomic_load_n(&node->w[3], __ATOMIC_RELAXED);
    if ((((uint32_t)w3 & ANT_MARK_BUSY) || !ant_node_try_hold(node, w3)) && !ant_node_hold(node, &w3))
        return refuse_node(c, bin, node);
    uint64_t links[2];
    ant_cache_read_links(node, links);
    if (w3 != ant_sealed(node, (uint32_t)w3) || (w3 & ANT_MARK_STATE) != ANT_STATE_CACHED || node->size != block) {
        ant_node_unhold(node, w3);
        return refuse_node(c, bin, node);
    }
    size_t poisoned = block - ANT_MIN_BLOCK;
    const unsigned char *bad = 0;
    if (poisoned > ANT_POISON_INLINE_MAX || !ant_poison_small_intact(node, poisoned))
        bad = ant_poison_damage(node, poisoned < ant_opt.poison_check ? poisoned : ant_opt.poison_check);
    if (!bad && !ant_freed_ok(node))
        bad = ant_mem_of(node) + ANT_FREE_LINKS_SIZE;
    if (links[1] != (uintptr_t)c || (links[0] && !ant_cache_followable((const ant_node_t *)(uintptr_t)links[0])) ||
        bad) {
        ant_node_unhold(node, w3);
        struct ant_problem p = {.kind = ANT_PROBLEM_USE_AFTER_FREE,
                                .node = node,
                                .invariant = bad ? "I3" : "I13",
                                .at = bad,
                                .what = bad ? "poison changed, a write through a dangling pointer, in"
                                            : "a thread-cache link changed, a write through a dangling pointer, in"};
        return refuse(c, bin, &p);
    }
    c->bins[bin] = (ant_node_t *)(uintptr_t)links[0];
    c->counts[bin]--;
    ant_cache_add(&c->blocks, (uint64_t)-1);
    ant_cache_add(&c->bytes, (uint64_t)0 - block);
    c->busy_requested = (int64_t)size;
    ant_journal_fence();
    uint64_t serial = ant_next_serial();
    ant_node_own(node, size, serial, (uint64_t)(uintptr_t)site);
    ant_tail_write_at(node, size);
    ant_node_release(node, ((uint32_t)w3 & ~ANT_MARK_STATE) | ANT_STATE_USED);
    ant_cache_add_signed(&c->requested_delta, (int64_t)size);
    ant_cache_add(&c->allocations, 1);
    /* The block's mem in hand before the cache stops naming the block: a
     * leak check that stops the thread in between then finds it held. */
    void *mem = ant_mem_of(node);
    __asm__ volatile("" : "+r"(mem) : : "memory");
    end_change(c);
    ant_break_at(serial, mem);
    return mem;
}

/* A free the cache cannot take (full, a big block, a block to report)
 * goes to the arena, which checks it under the lock. */
void ant_cache_put(void *mem, void *site)
{
    if (!put(mem, site))
        ant_release_to_arena(mem, site);
}

/*
 * An empty bin first looks in the depot of the thread's arena, for blocks
 * of its size or up to 32 bytes bigger, as take() does, and takes half a
 * bin's worth at once. The depot is looked at without the lock, which a
 * refill then takes: a stale look costs one lock or one refill missed.
 */
static __attribute__((noinline)) bool refill(ant_cache_t *c, size_t size)
{
    ant_arena_t *arena = ant_arena_for_thread();
    ant_cache_t *d = arena->depot;
    if (!d)
        return false;
    unsigned bin = ant_bin_of_block(ant_block_size_for(size));
    while (bin < ANT_CACHE_BINS && !__atomic_load_n(&d->bins[bin], __ATOMIC_RELAXED))
        if (++bin > ant_bin_of_block(ant_block_size_for(size)) + 2)
            return false;
    if (bin == ANT_CACHE_BINS)
        return false;
    size_t block = ant_block_of_bin(bin);
    size_t room = c->bytes < ant_opt.cache_bytes ? (ant_opt.cache_bytes - c->bytes) / block : 0;
    if (c->counts[bin] + room > ant_opt.cache)
        room = ant_opt.cache > c->counts[bin] ? ant_opt.cache - c->counts[bin] : 0;
    if (room > ant_opt.cache / 2)
        room = ant_opt.cache / 2;
    if (!room)
        return false;
    ant_lock_for(arena, ANT_OP_MALLOC);
    unsigned moved = ant_depot_take_locked(arena, c, bin, (unsigned)room);
    ant_unlock(arena);
    return moved != 0;
}

void *ant_cache_take(size_t size, void *site)
{
    void *mem = take(size, site);
    if (ANT_LIKELY(mem))
        return mem;
    if (my_cache && size <= ANT_CACHE_MAX_BLOCK - ANT_NODE_SIZE - ANT_TAIL_SIZE && refill(my_cache, size) &&
        (mem = take(size, site)))
        return mem;
    return ant_alloc_from_arena(size, ANT_ALIGN, site);
}

/* Gives the top block of a bin back to its arena; false if it is not a
 * sound cached block. */
static bool give_back(ant_cache_t *c, unsigned bin, ant_node_t *node, uint32_t op)
{
    ant_arena_t *arena = ant_arena_at(node->arena);
    if (!arena)
        return false;
    ant_lock_for(arena, op);
    bool given = ant_cache_give_back_locked(c, arena, bin, node, &c->bins[bin]);
    ant_unlock(arena);
    return given;
}

/* Empties a cache into the arenas, a block at a time from the top of each
 * bin, trusting each link only as far as a block in a HEAP region whose
 * head verifies; a bin whose block is not sound is abandoned. */
static void flush(ant_cache_t *c, uint32_t op)
{
    for (unsigned bin = 0; bin < ANT_CACHE_BINS; bin++) {
        ant_node_t *node;
        while ((node = c->bins[bin])) {
            if (!ant_cache_followable(node) || !give_back(c, bin, node, op)) {
                abandon(c, bin);
                break;
            }
        }
    }
}

static void thread_ends(void *value)
{
    ant_cache_t *c = value;
    my_cache_rule = CACHE_ENDED;
    my_cache = 0;
    ant_quiet_begin();
    flush(c, ANT_OP_THREAD_EXIT);
    ant_quiet_end();
    pthread_mutex_lock(&registry_lock);
    c->thread = 0;
    __atomic_store_n(&c->state, ANT_CACHE_IDLE, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&registry_lock);
}

/* Whether a fork can make the other threads fence (see begin_change). */
static bool register_fork_fence(void)
{
    return syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
}

void ant_cache_setup(void)
{
    ant_heap_root.cache_limit = (uint32_t)ant_opt.cache;
    ant_heap_root.cache_bins = ANT_CACHE_BINS;
    if (ant_opt.cache && pthread_key_create(&exit_key, thread_ends) != 0)
        ant_opt.cache = ant_heap_root.cache_limit = 0;
    fork_fences_for_us = ant_opt.cache && register_fork_fence();
}

/*
 * fork() copies only the calling thread, so no other thread may be half way
 * through a change of its cache at the moment of the copy. With the arena
 * locks held, this raises `forking` and waits until every other cache is
 * still: a change begun before it ends, one begun after it takes the
 * locked path and waits for the fork.
 */
void ant_cache_fork_prepare(void)
{
    __atomic_store_n(&forking, 1, __ATOMIC_SEQ_CST);
    /* Each other thread has either named its node in its busy before the
     * fence this puts it through, and is waited for below, or will read
     * `forking` after it. */
    if (fork_fences_for_us && syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) != 0 &&
        syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0) != 0) {
        ant_warn("fork: membarrier(2) refused after it was granted; ", "a thread cache could be copied half changed",
                 "");
        abort();
    }
    for (ant_cache_t *c = __atomic_load_n(&ant_heap_root.caches, __ATOMIC_ACQUIRE); c; c = c->next)
        while (c != my_cache && __atomic_load_n(&c->busy, __ATOMIC_SEQ_CST))
            sched_yield();
}

void ant_cache_fork_parent(void)
{
    __atomic_store_n(&forking, 0, __ATOMIC_RELEASE);
}

/* In the child the other threads are gone: their caches, whole thanks to
 * the wait above, go back to the arenas and wait for new threads. */
void ant_cache_fork_child(void)
{
    pthread_mutex_init(&registry_lock, 0);
    __atomic_store_n(&forking, 0, __ATOMIC_RELEASE);
    for (ant_cache_t *c = ant_heap_root.caches; c; c = c->next) {
        if (c == my_cache || c->state != ANT_CACHE_LIVE)
            continue;
        flush(c, ANT_OP_FORK);
        c->thread = 0;
        c->state = ANT_CACHE_IDLE;
    }
    if (my_cache)
        my_cache->thread = (uint64_t)syscall(SYS_gettid);
    /* A process image starts unregistered when it execs; a child keeps its
     * parent's registration, but asking again costs one call per fork. */
    if (fork_fences_for_us && !register_fork_fence())
        fork_fences_for_us = false;
}

struct ant_cache_totals ant_cache_totals(void)
{
    struct ant_cache_totals t = {0};
    for (ant_cache_t *c = __atomic_load_n(&ant_heap_root.caches, __ATOMIC_ACQUIRE); c; c = c->next) {
        t.refused |= __atomic_load_n(&c->refused, __ATOMIC_RELAXED);
        t.blocks += __atomic_load_n(&c->blocks, __ATOMIC_RELAXED);
        t.bytes += __atomic_load_n(&c->bytes, __ATOMIC_RELAXED);
        t.allocations += __atomic_load_n(&c->allocations, __ATOMIC_RELAXED);
        t.frees += __atomic_load_n(&c->frees, __ATOMIC_RELAXED);
        t.requested_delta += __atomic_load_n(&c->requested_delta, __ATOMIC_RELAXED);
        t.live += __atomic_load_n(&c->state, __ATOMIC_RELAXED) == ANT_CACHE_LIVE && c != my_cache;
    }
    return t;
}

static size_t cache_problem(int kind, const ant_node_t *node, const char *invariant, const char *what)
{
    struct ant_problem p = {.kind = kind, .node = node, .invariant = invariant, .what = what};
    ant_report(&p);
    return 1;
}

/*
 * One cache's lists against I13 and its counters; only caches no thread
 * is changing: the caller's own, and those whose thread is gone. A link
 * that leads astray is a write through a dangling pointer into the cached
 * block holding it (use-after-free), or, in the cache's own bins, a broken
 * list (link); as ant-check says it.
 */
static size_t check_cache(ant_cache_t *c)
{
    uint64_t blocks = 0, bytes = 0;
    bool cut_any = false;
    for (unsigned bin = 0; bin < ANT_CACHE_BINS; bin++) {
        ant_node_t *node = c->bins[bin];
        const ant_node_t *holder = 0; /* the cached block whose link led to node */
        unsigned seen = 0;
        bool cut = false;
        for (; node; seen++) {
            bool placed = ant_span_holds(node, ANT_MIN_BLOCK) && (uintptr_t)node % ANT_ALIGN == 0;
            if (placed && !ant_head_ok(node) && ant_damaged_node(ant_arena_at((uint32_t)ant_span_arena(node)), node)) {
                cut = true; /* the walk of its region reported that node */
                break;
            }
            if (!placed || !ant_head_ok(node) || node->state != ANT_STATE_CACHED)
                return holder ? cache_problem(ANT_PROBLEM_USE_AFTER_FREE, holder, "I13",
                                              "a thread-cache link changed, a write through a dangling "
                                              "pointer, in")
                              : cache_problem(ANT_PROBLEM_LINK, 0, "I13",
                                              "a thread cache's bin leads to a block that is not cached");
            if (seen >= c->counts[bin])
                return cache_problem(ANT_PROBLEM_LINK, node, "I13", "a thread-cache list longer than its count, at");
            if (node->size != ANT_MIN_BLOCK + ANT_ALIGN * bin)
                return cache_problem(ANT_PROBLEM_SIZE, node, "I13", "a block in a thread-cache bin of another size:");
            uint64_t links[2];
            ant_cache_read_links(node, links);
            if (links[1] != (uintptr_t)c)
                return cache_problem(ANT_PROBLEM_USE_AFTER_FREE, node, "I13",
                                     "a thread-cache link changed, a write through a dangling pointer, in");
            if (ant_poison_damage(node, SIZE_MAX) || !ant_freed_ok(node))
                return cache_problem(ANT_PROBLEM_USE_AFTER_FREE, node, "I3",
                                     "poison changed, a write through a dangling pointer, in");
            blocks++;
            bytes += node->size;
            holder = node;
            node = (ant_node_t *)(uintptr_t)links[0];
        }
        cut_any |= cut;
        if (!cut && seen != c->counts[bin])
            return cache_problem(ANT_PROBLEM_LINK, 0, "I13", "a thread-cache list shorter than its count");
    }
    /* An abandoned bin's blocks are counted nowhere: the sums hold; a list
     * cut at a damaged node says nothing of them. */
    if (!cut_any && (blocks != c->blocks || bytes != c->bytes))
        return cache_problem(ANT_PROBLEM_ACCOUNTING, 0, "I10", "a thread cache's counters disagree with its lists");
    return 0;
}

/* The registry's lock keeps a new thread from taking an IDLE cache while
 * it is checked; no arena lock is taken under it, so the order with the
 * arena locks the caller holds is safe. */
size_t ant_check_caches(void)
{
    size_t problems = 0;
    pthread_mutex_lock(&registry_lock);
    for (ant_cache_t *c = __atomic_load_n(&ant_heap_root.caches, __ATOMIC_ACQUIRE); c; c = c->next) {
        uint32_t state = __atomic_load_n(&c->state, __ATOMIC_ACQUIRE);
        if (c == my_cache || state == ANT_CACHE_IDLE || state == ANT_CACHE_DEPOT)
            problems += check_cache(c);
    }
    pthread_mutex_unlock(&registry_lock);
    return problems;
}
