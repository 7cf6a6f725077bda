/*
 * internal.h: what the allocator's files share and the debugger need not
 * know: the arena with its lock and bins, the options, and the functions
 * each file offers the others.
 */
#ifndef ANT_INTERNAL_H
#define ANT_INTERNAL_H

#include <ant/ant.h>
#include <ant/layout.h>

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define ANT_HIDDEN __attribute__((visibility("hidden")))
#define ANT_LIKELY(x) __builtin_expect(!!(x), 1)
#define ANT_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* ---- Size classes for the free bins (two-level segregated fit) ---- */

/* Sizes below 256 get one bin per 16 bytes; above, each power of two is
 * split into 16 bins. Block sizes are multiples of 16. */
#define ANT_BIN_SL_LOG 4u
#define ANT_BIN_SL_COUNT (1u << ANT_BIN_SL_LOG)
#define ANT_BIN_FL_SHIFT (ANT_BIN_SL_LOG + 4u)
#define ANT_BIN_FL_COUNT (64u - ANT_BIN_FL_SHIFT + 1u)

/* ---- The arena ---- */

#define ANT_JOURNAL_SEEN 8u
#define ANT_HELD_MAX 8u

struct ant_arena {
    uint32_t index;
    ant_region_t *regions; /* HEAP regions, newest first */
    ant_region_t *bigs;    /* big mappings, newest first */
    struct ant_arena_counters counters;
    ant_node_t *busy; /* a neighbour whose BUSY flag the lock holder holds */
    struct ant_journal journal;
    /* Nodes and region headers recorded whole since the last commit, and
     * whether the counters are: each is recorded once. */
    const void *seen[ANT_JOURNAL_SEEN];
    uint32_t seen_count;
    bool counters_seen;
    /* USED or CACHED neighbours the lock holder changed, held BUSY until
     * the commit (block.c). */
    ant_node_t *held[ANT_HELD_MAX];
    uint32_t held_count;
    ant_cache_t *depot;    /* blocks thread caches leave for each other (depot.c), or 0 */
    ant_node_t *rover;     /* where next fit resumes */
    size_t mmap_threshold; /* ant_opt's, raised as big blocks are freed */
    size_t trim_threshold; /* twice the mmap threshold once that moved */
    pthread_mutex_t lock;
    uint64_t fl_bitmap;
    uint32_t sl_bitmap[ANT_BIN_FL_COUNT];
    ant_node_t *bins[ANT_BIN_FL_COUNT][ANT_BIN_SL_COUNT];
    /* Freed blocks held back from reuse, oldest first (quarantine.c). */
    ant_node_t *quarantine_head;
    ant_node_t *quarantine_tail;
    uint64_t quarantine_blocks;
    uint64_t quarantine_bytes;
};

/* ---- Options (options.c) ---- */

enum ant_on_error { ANT_ON_ERROR_ABORT = 0, ANT_ON_ERROR_REPORT = 1 };

struct ant_options {
    enum ant_fit fit;
    enum ant_on_error on_error;
    size_t mmap_threshold; /* requests at least this big get a mapping */
    size_t trim_threshold; /* a free last block this big goes back to the wilderness */
    size_t region_size;    /* the first region's size; growth steps */
    size_t poison_check;   /* bytes of poison checked when a block is reused */
    size_t cache;          /* blocks per thread-cache bin; 0: no caches */
    size_t cache_bytes;    /* the bytes of blocks one thread's cache may hold */
    size_t depot;          /* an arena's depot holds this many caches' worth; 0: none */
    size_t arenas;         /* arenas threads are spread over; 0: one per CPU */
    size_t break_serial;   /* root.break_serial at start-up, if not 0 */
    size_t leak_check;     /* 1: a leak report at exit (leak.c) */
    size_t guard;          /* about one allocation in guard gets a guard page; 0: none */
    size_t quarantine;     /* bytes of freed blocks each arena holds back; 0: none */
#define ANT_DEFAULT_GUARD 50000u
    size_t stack; /* frames recorded per allocation and free; 0: none */
#define ANT_DEFAULT_STACK 6u
#define ANT_DEFAULT_CACHE 16u
    bool cache_given;      /* the user set it */
    bool thresholds_given; /* the user set a threshold: keep both as given */
};

ANT_HIDDEN extern struct ant_options ant_opt;
ANT_HIDDEN void ant_options_read(const char *text);

/* ---- The root and start-up (root.c) ---- */

ANT_HIDDEN extern ant_root_t ant_heap_root;
ANT_HIDDEN extern size_t ant_page_size;
ANT_HIDDEN void ant_init_slow(void);
ANT_HIDDEN extern int ant_ready;

static inline void ant_ensure_init(void)
{
    if (ANT_UNLIKELY(!__atomic_load_n(&ant_ready, __ATOMIC_ACQUIRE)))
        ant_init_slow();
}

/* ---- Arenas and locking (arena.c) ---- */

ANT_HIDDEN ant_arena_t *ant_arena_for_thread(void);
ANT_HIDDEN ant_arena_t *ant_arena_at(uint32_t index);
ANT_HIDDEN ant_arena_t *ant_arena_owning(const void *mem);
ANT_HIDDEN void ant_arena_setup(ant_arena_t *arena, uint32_t index);
ANT_HIDDEN void ant_lock(ant_arena_t *arena);
ANT_HIDDEN void ant_unlock(ant_arena_t *arena);
/* The lock, for a change of the heap by the call `op` (ANT_OP_*). */
ANT_HIDDEN void ant_lock_for(ant_arena_t *arena, uint32_t op);
ANT_HIDDEN void ant_lock_all(void);
ANT_HIDDEN void ant_unlock_all(void);

/* ---- The journal (journal.c): a change readable at every instruction ---- */

ANT_HIDDEN uint64_t ant_thread_id(void);
ANT_HIDDEN void ant_journal_lose(ant_arena_t *arena);
ANT_HIDDEN void ant_journal_held(ant_arena_t *arena, const ant_node_t *node, uint64_t w3);
ANT_HIDDEN void ant_journal_fork_child(void);

/* Keeps the compiler from moving a store across it: the journal's records
 * must reach memory before the stores they undo, and the commit after. A
 * thread stopped for a snapshot has every store before its stop in memory,
 * in program order. */
static inline void ant_journal_fence(void)
{
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
}

/* Appends a record of the `bytes` bytes (a multiple of 8) at `address`
 * (a multiple of 8), whose old contents are at `old`, then publishes it.
 * Inline, so that a record of a constant size is a few moves. */
static inline void ant_journal_append(ant_arena_t *arena, uintptr_t address, size_t bytes, const void *old)
{
    struct ant_journal *j = &arena->journal;
    size_t used = j->used;
    if (ANT_UNLIKELY(used + 2 + bytes / 8 > ANT_JOURNAL_WORDS)) {
        ant_journal_lose(arena);
        return;
    }
    j->words[used] = address;
    j->words[used + 1] = bytes;
    memcpy(&j->words[used + 2], old, bytes);
    ant_journal_fence();
    __atomic_store_n(&j->used, (uint32_t)(used + 2 + bytes / 8), __ATOMIC_RELAXED);
    ant_journal_fence();
}

/* Records the `bytes` bytes at `at`, a multiple of 8, before they change. */
static inline void ant_journal_words(ant_arena_t *arena, const void *at, size_t bytes)
{
    ant_journal_append(arena, (uintptr_t)at, bytes, at);
}

static inline void ant_journal_word(ant_arena_t *arena, const void *at)
{
    ant_journal_words(arena, at, 8);
}

/* Records the bytes [addr, addr + bytes) anywhere, widened to whole words. */
static inline void ant_journal_save(ant_arena_t *arena, const void *addr, size_t bytes)
{
    uintptr_t low = (uintptr_t)addr & ~(uintptr_t)7;
    size_t whole = (((uintptr_t)addr + bytes + 7) & ~(uintptr_t)7) - low;
    ant_journal_append(arena, low, whole, (const void *)low);
}

/* A tail sentinel, 8 bytes at any alignment: one word or two, never a
 * byte past the second (a block may end where its mapping does). */
static inline void ant_journal_tail(ant_arena_t *arena, const unsigned char *tail)
{
    if ((uintptr_t)tail % 8 == 0)
        ant_journal_word(arena, tail);
    else
        ant_journal_words(arena, (const void *)((uintptr_t)tail & ~(uintptr_t)7), 16);
}

/* False for a node or header recorded whole since the last commit. */
static inline bool ant_journal_first_sight(ant_arena_t *arena, const void *addr)
{
    for (uint32_t i = 0; i < arena->seen_count; i++)
        if (arena->seen[i] == addr)
            return false;
    if (arena->seen_count < ANT_JOURNAL_SEEN)
        arena->seen[arena->seen_count++] = addr;
    return true;
}

/* A node, a region header: recorded whole, once a change. */
static inline void ant_journal_save_once(ant_arena_t *arena, const void *addr, size_t bytes)
{
    if (ant_journal_first_sight(arena, addr))
        ant_journal_words(arena, addr, bytes);
}

/* The arena's counters, recorded before the first change of a change. */
static inline struct ant_arena_counters *ant_counters(ant_arena_t *arena)
{
    if (ANT_UNLIKELY(!arena->counters_seen)) {
        arena->counters_seen = true;
        ant_journal_words(arena, &arena->counters, sizeof arena->counters);
    }
    return &arena->counters;
}

static inline void ant_journal_node(ant_arena_t *arena, const ant_node_t *node)
{
    ant_journal_save_once(arena, node, ANT_NODE_SIZE);
}

static inline void ant_journal_region(ant_arena_t *arena, const ant_region_t *region)
{
    ant_journal_save_once(arena, region, ANT_REGION_HEADER_SIZE);
}

/* What the change does now, for a reader to tell: the step goes to 0
 * while its arguments change, so that no reader pairs a step with the
 * arguments of another. */
static inline void ant_journal_step(ant_arena_t *arena, uint32_t step, const void *a, uint64_t b)
{
    struct ant_journal *j = &arena->journal;
    __atomic_store_n(&j->step, 0, __ATOMIC_RELAXED);
    ant_journal_fence();
    j->args[0] = (uint64_t)(uintptr_t)a;
    j->args[1] = b;
    ant_journal_fence();
    __atomic_store_n(&j->step, step, __ATOMIC_RELAXED);
}

ANT_HIDDEN void ant_journal_release_held(ant_arena_t *arena);

/* The heap is whole again: the neighbours held are let go, then every
 * record is dropped at once. */
static inline void ant_journal_commit(ant_arena_t *arena)
{
    if (arena->held_count)
        ant_journal_release_held(arena);
    ant_journal_fence();
    __atomic_store_n(&arena->journal.used, 0, __ATOMIC_RELAXED);
    ant_journal_fence();
    arena->seen_count = 0;
    arena->counters_seen = false;
}

/* ---- Nodes (block.c) ---- */

static inline unsigned char *ant_mem_of(ant_node_t *node)
{
    return (unsigned char *)node + ANT_NODE_SIZE;
}

static inline ant_node_t *ant_node_of(const void *mem)
{
    return (ant_node_t *)(void *)((unsigned char *)(uintptr_t)mem - ANT_NODE_SIZE);
}

static inline ant_node_t *ant_block_end(const ant_node_t *node)
{
    return (ant_node_t *)(void *)((unsigned char *)(uintptr_t)node + node->size);
}

/* The node above in its region, or 0 past the last. A size that cannot
 * be (a damaged node) ends a walk too. */
static inline ant_node_t *ant_next_in(const ant_region_t *region, const ant_node_t *node)
{
    ant_node_t *end = ant_block_end(node);
    if (node->size < ANT_MIN_BLOCK || node->size % ANT_ALIGN)
        return 0;
    return (uint64_t)(uintptr_t)end < region->wilderness ? end : 0;
}

/* The node of the block below, or 0 for a region's first block. */
static inline ant_node_t *ant_block_below(const ant_node_t *node)
{
    return node->below ? (ant_node_t *)(void *)((unsigned char *)(uintptr_t)node - node->below) : 0;
}

static inline bool ant_is_free(const ant_node_t *node)
{
    return node->state == ANT_STATE_FREE;
}

/* A big block's mapping: its node's below is the distance to it. */
static inline ant_region_t *ant_big_region(const ant_node_t *node)
{
    return (ant_region_t *)(void *)((unsigned char *)(uintptr_t)node - node->below);
}

/* The bytes a block's program asked for: a big block's are in its
 * mapping's header, which holds them whole. */
static inline size_t ant_requested_of(const ant_node_t *node)
{
    return ANT_UNLIKELY(node->flags & ANT_FLAG_BIG) ? ant_big_region(node)->big_requested : node->requested;
}

static inline size_t ant_size_of(const ant_node_t *node)
{
    return ANT_UNLIKELY(node->flags & ANT_FLAG_BIG) ? ant_big_region(node)->big_size : node->size;
}

/* Sets the owner's fields: requested, serial and site, as two whole words. */
static inline void ant_node_own(ant_node_t *node, size_t requested, uint64_t serial, uint64_t site)
{
    node->w[1] = (uint32_t)requested | serial << 32;
    node->w[2] = (site & ANT_SITE_MASK) | (serial >> 32) << 48;
}

/* The mark is the low half of the node's last word, w3; the check the
 * high half. */
#define ANT_MARK_BUSY ((uint32_t)ANT_FLAG_BUSY << 16)
#define ANT_MARK_TURN ((uint32_t)ANT_FLAG_TURN << 16)
#define ANT_MARK_TURNS ((uint32_t)ANT_FLAG_TURNS << 16)
#define ANT_MARK_STATE 0xffu

/* A node only the arena's lock holder changes: no thread cache holds it. */
static inline bool ant_is_arenas_alone(uint64_t w3)
{
    return (w3 & ANT_MARK_STATE) == ANT_STATE_FREE || (w3 & ANT_MARK_STATE) == ANT_STATE_QUARANTINED;
}

/* w3 of the node once its mark is `mark`: the mark and its check. */
static inline uint64_t ant_sealed(const ant_node_t *node, uint32_t mark)
{
    return mark | (uint64_t)ant_head_check_as(ant_heap_root.secret, node, mark) << 32;
}

/* Recomputes the check after any field of the node changed. */
static inline void ant_seal(ant_node_t *node)
{
    node->w[3] = ant_sealed(node, node->mark);
}

ANT_HIDDEN bool ant_head_settled(const ant_node_t *node);

/* A node another thread may be changing (see "Who may change a node" in
 * layout.h) is judged only once it is still. */
static inline bool ant_head_ok(const ant_node_t *node)
{
    uint64_t w3 = __atomic_load_n(&node->w[3], __ATOMIC_ACQUIRE);
    if (ANT_LIKELY(!((uint32_t)w3 & ANT_MARK_BUSY) && w3 == ant_sealed(node, (uint32_t)w3)))
        return true;
    return ant_head_settled(node);
}

/* ---- The BUSY protocol (busy.c) ---- */

/* One pause of a loop that waits for another CPU. */
static inline void ant_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#else
    __asm__ __volatile__("" ::: "memory");
#endif
}

/* Sets BUSY in a node whose last word is `expect`; false if it is not
 * that. Release too: whoever sees BUSY then sees the cache or arena that
 * named the node first. */
static inline bool ant_node_try_hold(ant_node_t *node, uint64_t expect)
{
    return __atomic_compare_exchange_n(&node->w[3], &expect, expect | ANT_MARK_BUSY, false, __ATOMIC_ACQ_REL,
                                       __ATOMIC_RELAXED);
}

/* The mark a change ends with: BUSY clear, one more turn. */
static inline uint32_t ant_released_mark(uint32_t mark)
{
    return (mark & ~(ANT_MARK_BUSY | ANT_MARK_TURNS)) | ((mark + ANT_MARK_TURN) & ANT_MARK_TURNS);
}

/* Ends a change: the new mark and its check stored as one word, which lets
 * readers in. */
static inline void ant_node_release(ant_node_t *node, uint32_t mark)
{
    __atomic_store_n(&node->w[3], ant_sealed(node, ant_released_mark(mark)), __ATOMIC_RELEASE);
}

/* Puts the last word back as it was: nothing changed. */
static inline void ant_node_unhold(ant_node_t *node, uint64_t w3)
{
    __atomic_store_n(&node->w[3], w3, __ATOMIC_RELEASE);
}

ANT_HIDDEN bool ant_node_hold(ant_node_t *node, uint64_t *w3);
ANT_HIDDEN bool ant_node_held_by(const ant_arena_t *arena, const ant_node_t *node);

/* ---- Serials ---- */

/* The next serial of this thread, from a batch it took from root.serial:
 * a serial names one allocation of the process, and a batch keeps the
 * shared counter out of most of them. */
ANT_HIDDEN uint64_t ant_serial_refill(void);
ANT_HIDDEN extern __thread uint64_t ant_serial_next __attribute__((tls_model("initial-exec")));
ANT_HIDDEN extern __thread uint64_t ant_serial_end __attribute__((tls_model("initial-exec")));

static inline uint64_t ant_next_serial(void)
{
    if (ANT_UNLIKELY(ant_serial_next == ant_serial_end))
        return ant_serial_refill();
    return ant_serial_next++;
}

/* ---- Breaking at a serial (break.c) ---- */

ANT_HIDDEN void ant_break_now(void *mem);

/* SIGTRAP when `serial`, just handed out with the block at `mem`, is
 * root.break_serial. Read at every allocation, so that a debugger's write
 * counts at once, even for a serial in a batch a thread already holds:
 * serials start at 1, so its 0 (none) matches nothing. */
static inline void ant_break_at(uint64_t serial, void *mem)
{
    if (ANT_UNLIKELY(serial == __atomic_load_n(&ant_heap_root.break_serial, __ATOMIC_RELAXED)))
        ant_break_now(mem);
}

/* The same, for a block whose serial is in its node. */
static inline void ant_break_at_block(void *mem)
{
    if (mem)
        ant_break_at(ant_node_serial(ant_node_of(mem)), mem);
}

/* Who freed a block: `site`, and the serial current then: the last one
 * this thread handed out, exact where a shared counter's batches would
 * run up to 63 ahead, 0 if none; its check is made where it is put. */
static inline struct ant_freed ant_freed_now(uint64_t site)
{
    uint64_t serial = ant_serial_next ? ant_serial_next - 1 : 0;
    return (struct ant_freed){.site = (site & ANT_SITE_MASK) | (serial >> 32) << 48, .serial = (uint32_t)serial};
}

static inline struct ant_freed ant_freed_read(const ant_node_t *node)
{
    struct ant_freed f;
    memcpy(&f, ant_mem_of((ant_node_t *)node) + ANT_FREE_LINKS_SIZE, sizeof f);
    return f;
}

static inline bool ant_freed_ok(const ant_node_t *node)
{
    struct ant_freed f = ant_freed_read(node);
    return f.check == ant_freed_check(ant_heap_root.secret, node, f.site, f.serial);
}

/* Puts a record of who freed a block in its mem, the check bound to its
 * address: a block cut from a free one, or merged, carries it on. */
static inline void ant_freed_put(ant_node_t *to, struct ant_freed f)
{
    f.check = ant_freed_check(ant_heap_root.secret, to, f.site, f.serial);
    memcpy(ant_mem_of(to) + ANT_FREE_LINKS_SIZE, &f, sizeof f);
}

static inline void ant_freed_write(ant_node_t *node, uint64_t site)
{
    ant_freed_put(node, ant_freed_now(site));
}

static inline void ant_freed_copy(ant_node_t *to, const ant_node_t *from)
{
    ant_freed_put(to, ant_freed_read(from));
}

/* ---- Thread caches (cache.c) ---- */

/* malloc and free of small blocks: from and to the thread's cache, else
 * the arena (alloc.c) */
ANT_HIDDEN void *ant_cache_take(size_t size, void *site);
ANT_HIDDEN void ant_cache_put(void *mem, void *site);
ANT_HIDDEN void *ant_alloc_from_arena(size_t size, size_t align, void *site);
ANT_HIDDEN void ant_release_to_arena(void *mem, void *site);
ANT_HIDDEN void ant_cache_setup(void);
ANT_HIDDEN void ant_cache_fork_prepare(void);
ANT_HIDDEN void ant_cache_fork_parent(void);
ANT_HIDDEN void ant_cache_fork_child(void);
ANT_HIDDEN size_t ant_check_caches(void);
ANT_HIDDEN ant_cache_t *ant_cache_new_depot(void);
ANT_HIDDEN bool ant_cache_give_back_locked(ant_cache_t *c, ant_arena_t *arena, unsigned bin, ant_node_t *node,
                                           void *link);
ANT_HIDDEN void ant_cache_abandon_locked(ant_arena_t *arena, ant_cache_t *c, unsigned bin);

/* An arena's depot (depot.c): blocks one thread's cache leaves and
 * another's takes, under the arena's lock. */
ANT_HIDDEN unsigned ant_depot_leave_locked(ant_arena_t *arena, ant_cache_t *c, unsigned bin, void *link, unsigned most);
ANT_HIDDEN unsigned ant_depot_take_locked(ant_arena_t *arena, ant_cache_t *c, unsigned bin, unsigned most);
ANT_HIDDEN bool ant_depot_drain_locked(ant_arena_t *arena);

/* What the caches hold, summed, for ant_stats. */
struct ant_cache_totals {
    uint64_t blocks, bytes, allocations, frees;
    uint64_t refused; /* any cache's abandoned bins: their blocks are counted nowhere */
    int64_t requested_delta;
    uint32_t live;
};
ANT_HIDDEN struct ant_cache_totals ant_cache_totals(void);

/* The smallest block that holds `requested` bytes and the tail. */
static inline size_t ant_block_size_for(size_t requested)
{
    size_t block = (ANT_NODE_SIZE + requested + ANT_TAIL_SIZE + ANT_ALIGN - 1) & ~(size_t)(ANT_ALIGN - 1);
    return block < ANT_MIN_BLOCK ? ANT_MIN_BLOCK : block;
}

/* The tail sentinel of a block `requested` bytes long. */
static inline void ant_tail_write_at(ant_node_t *node, size_t requested)
{
    uint64_t tail = ant_tail_sentinel(ant_heap_root.secret, node);
    memcpy(ant_mem_of(node) + requested, &tail, sizeof tail);
}

static inline bool ant_tail_ok_at(const ant_node_t *node, size_t requested)
{
    uint64_t tail;
    memcpy(&tail, ant_mem_of((ant_node_t *)node) + requested, sizeof tail);
    return tail == ant_tail_sentinel(ant_heap_root.secret, node);
}

static inline void ant_tail_write(ant_node_t *node)
{
    ant_tail_write_at(node, ant_requested_of(node));
}

static inline bool ant_tail_ok(const ant_node_t *node)
{
    return ant_tail_ok_at(node, ant_requested_of(node));
}

ANT_HIDDEN void ant_poison(ant_node_t *node);
ANT_HIDDEN const unsigned char *ant_poison_damage(const ant_node_t *node, size_t limit);

/*
 * Poison of small blocks, in line: a block's poison starts 16-aligned and
 * is a whole number of 16-byte lanes, so a few vector moves fill it and an
 * OR of the lanes XORed with the pattern checks it, where the C library's
 * memset and memcmp would cost a call each and a branch per size class.
 */
#define ANT_POISON_INLINE_MAX 256u
typedef uint64_t ant_lane_t __attribute__((vector_size(16), may_alias));

static inline void ant_poison_small(ant_node_t *node, size_t bytes)
{
    const uint64_t p = 0x0101010101010101ull * ANT_POISON;
    ant_lane_t *lane = (ant_lane_t *)(void *)(ant_mem_of(node) + ANT_POISON_OFFSET);
    uint64_t fill = p;
    for (size_t i = 0; i < bytes / sizeof *lane; i++) {
        /* Hidden from the compiler, which would make the loop a memset
         * call or `rep stos`, whose start costs more than the few lanes
         * of a small block. */
        __asm__("" : "+r"(fill));
        lane[i] = (ant_lane_t){fill, fill};
    }
}

static inline bool ant_poison_small_intact(const ant_node_t *node, size_t bytes)
{
    const uint64_t p = 0x0101010101010101ull * ANT_POISON;
    const ant_lane_t *lane = (const ant_lane_t *)(const void *)(ant_mem_of((ant_node_t *)node) + ANT_POISON_OFFSET);
    const ant_lane_t poison = {p, p};
    ant_lane_t diff = {0, 0};
    for (size_t i = 0; i < bytes / sizeof *lane; i++)
        diff |= lane[i] ^ poison;
    return !(diff[0] | diff[1]);
}
/* Who last had a block's bytes: what a free block remembers. */
struct ant_owner {
    uint64_t serial;
    uint64_t site;
};

static inline struct ant_owner ant_owner_of(const ant_node_t *node)
{
    return (struct ant_owner){ant_node_serial(node), ant_node_site(node)};
}

ANT_HIDDEN ant_node_t *ant_split(ant_arena_t *arena, ant_region_t *region, ant_node_t *node, size_t size,
                                 struct ant_owner owner, bool poisoned, struct ant_freed freed);
ANT_HIDDEN ant_node_t *ant_split_front(ant_arena_t *arena, ant_region_t *region, ant_node_t *node, size_t lead);
ANT_HIDDEN void ant_grow_over(ant_arena_t *arena, ant_region_t *region, ant_node_t *node, ant_node_t *next,
                              size_t size);
ANT_HIDDEN ant_node_t *ant_coalesce(ant_arena_t *arena, ant_region_t *region, ant_node_t *node);
ANT_HIDDEN void ant_count_in(ant_arena_t *arena, const ant_node_t *node);
ANT_HIDDEN void ant_count_out(ant_arena_t *arena, const ant_node_t *node);
ANT_HIDDEN void ant_settle_free(ant_arena_t *arena, ant_region_t *region, ant_node_t *node);
ANT_HIDDEN void ant_settle_freed(ant_arena_t *arena, ant_region_t *region, ant_node_t *node);
ANT_HIDDEN void ant_mark_used(ant_arena_t *arena, ant_node_t *node, size_t requested, void *site);
ANT_HIDDEN void ant_mark_free(ant_arena_t *arena, ant_node_t *node, void *site);
ANT_HIDDEN void ant_mark_quarantined(ant_arena_t *arena, ant_node_t *node, void *site);
ANT_HIDDEN void ant_mark_unquarantined(ant_arena_t *arena, ant_node_t *node);
ANT_HIDDEN void ant_settle_unquarantined(ant_arena_t *arena, ant_region_t *region, ant_node_t *node);
ANT_HIDDEN bool ant_poison_sound(const ant_node_t *node, const char *what);

/* ---- The quarantine (quarantine.c) ---- */

/* Holds a used block the program freed (its tail checked) back from reuse,
 * and lets the oldest go while the arena holds more than the option's
 * bytes. */
ANT_HIDDEN void ant_quarantine_put(ant_arena_t *arena, ant_node_t *node, void *site);
/* Registers the check at exit of the blocks still held. */
ANT_HIDDEN void ant_quarantine_arm(void);
/* I19 for ant_check(), given the QUARANTINED blocks and bytes a walk of the
 * arena found; the problems reported. */
ANT_HIDDEN size_t ant_quarantine_check(ant_arena_t *arena, uint64_t blocks, uint64_t bytes);

/* ---- Free bins (bins.c) ---- */

ANT_HIDDEN void ant_bin_insert(ant_arena_t *arena, ant_node_t *node);
ANT_HIDDEN bool ant_bin_remove(ant_arena_t *arena, ant_node_t *node);
ANT_HIDDEN ant_node_t *ant_bin_find(ant_arena_t *arena, size_t size);
ANT_HIDDEN size_t ant_bin_largest(ant_arena_t *arena);
ANT_HIDDEN void ant_bins_rebuild(ant_arena_t *arena);
ANT_HIDDEN ant_node_t *ant_free_link(const ant_node_t *node, int which);

/* ---- Fit policies (fit.c) ---- */

/* The free block a policy chose, and how much of its start to split off so
 * that the mem gets its alignment. */
struct ant_fit_choice {
    ant_region_t *region;
    ant_node_t *node;
    size_t lead;
};

ANT_HIDDEN bool ant_fit_find(ant_arena_t *arena, size_t size, size_t align, struct ant_fit_choice *out);
ANT_HIDDEN size_t ant_align_lead(const ant_node_t *node, size_t align);
ANT_HIDDEN void ant_fit_forget(ant_arena_t *arena, const ant_node_t *node);

/* ---- Call stacks (stack.c, stack_store.c) ---- */

ANT_HIDDEN extern uint32_t ant_stack_depth; /* stack=N; 0: sites are return addresses */
ANT_HIDDEN void ant_stack_setup(void);
ANT_HIDDEN uint64_t ant_stacks_add(const uint64_t *frames, uint32_t depth);
ANT_HIDDEN const struct ant_stack *ant_stack_of(uint64_t site);
/* The return address a site stands for: itself, or its stack's first frame. */
ANT_HIDDEN uint64_t ant_site_address(uint64_t site);
ANT_HIDDEN void ant_stacks_fork_child(void);
ANT_HIDDEN void ant_stack_fork_child(void);

/* A thread's memo of the call paths it walked (stack.c says why): for
 * each path, where each frame's return address lies on the stack (the
 * entry point's CFA being the same, these are the same addresses each
 * time) and what it was. */
#define ANT_MEMO_SLOTS 256u /* the top 8 bits of a product pick one */
struct ant_memo_frame {
    const uint64_t *slot;
    uint64_t address;
};
struct ant_memo_entry {
    uint64_t ra, cfa, site;
    const struct ant_memo_frame *end; /* past the frames to compare */
    struct ant_memo_frame frames[];   /* the caller's callers', outwards */
};
struct ant_memo {
    uint64_t shift;        /* an entry is 1 << shift bytes */
    struct ant_memo *next; /* in the list of spare memos */
    unsigned char entries[];
};
ANT_HIDDEN extern __thread struct ant_memo *ant_memo __attribute__((tls_model("initial-exec")));

static inline const struct ant_memo_entry *ant_memo_entry(const struct ant_memo *m, uint64_t ra, uint64_t cfa)
{
    /* Multiplied, so that two calls from one function (one CFA, return
     * addresses a few bytes apart) do not share a slot by their low bits. */
    size_t slot = (size_t)(((ra ^ cfa) * 0x9e3779b97f4a7c15ull) >> 56);
    return (const void *)(m->entries + (slot << m->shift));
}

/* The path's site when the memo knows the path, else 0. */
static inline __attribute__((always_inline)) uint64_t ant_memo_hit(const struct ant_memo *m, uint64_t ra, uint64_t cfa)
{
    const struct ant_memo_entry *e = ant_memo_entry(m, ra, cfa);
    if (e->ra != ra || e->cfa != cfa)
        return 0;
    for (const struct ant_memo_frame *f = e->frames; f < e->end; f++)
        if (*f->slot != f->address)
            return 0;
    return e->site;
}

/* A site its entry point could not name: the return address with this bit
 * set. The allocator's doors (ant_alloc, ant_release, ant_resize) turn it
 * into a site by ant_site_walked() before anything keeps it. */
#define ANT_SITE_UNWALKED (1ull << 63)

/* The site of a call into the allocator from return address `ra`, whose
 * entry point's CFA is `cfa`: `ra` itself, or with stack=N the stack the
 * memo knows, or `ra` marked unwalked. It calls nothing, so that an entry
 * point stays a jump to the allocator's work. */
static inline __attribute__((always_inline)) void *ant_site_here(void *ra, void *cfa)
{
    uint64_t r = (uint64_t)(uintptr_t)ra;
    if (ANT_UNLIKELY(!ant_stack_depth))
        return (void *)(uintptr_t)(ANT_LIKELY(__atomic_load_n(&ant_ready, __ATOMIC_ACQUIRE)) ? r
                                                                                             : r | ANT_SITE_UNWALKED);
    const struct ant_memo *m = ant_memo;
    uint64_t site = m ? ant_memo_hit(m, r, (uint64_t)(uintptr_t)cfa) : 0;
    return (void *)(uintptr_t)(ANT_LIKELY(site) ? site : r | ANT_SITE_UNWALKED);
}

static inline bool ant_site_unwalked(const void *site)
{
    return ANT_UNLIKELY((uintptr_t)site & ANT_SITE_UNWALKED);
}

ANT_HIDDEN __attribute__((cold)) void *ant_site_walked(void *site);

/* ---- Regions and the wilderness (region.c, os.c) ---- */

ANT_HIDDEN void *ant_os_map(size_t length);
ANT_HIDDEN void *ant_os_map_growable(size_t length);
ANT_HIDDEN void ant_os_fork_child(void);
ANT_HIDDEN bool ant_os_grow(void *base, size_t old_length, size_t new_length);
ANT_HIDDEN void *ant_os_remap(void *base, size_t old_length, size_t new_length);
ANT_HIDDEN void ant_os_unmap(void *base, size_t length);
ANT_HIDDEN void ant_os_release(void *start, void *end);

ANT_HIDDEN ant_region_t *ant_region_of(ant_arena_t *arena, const void *addr);
/* Where the regions and big mappings lie, readable without any lock
 * (spans.c): ant_span_holds() answers for HEAP regions only, the only ones
 * whose nodes a thread cache may touch; ant_span_arena() gives the arena
 * of any mapping holding addr, or -1. */
ANT_HIDDEN void ant_span_add(const ant_region_t *region);
ANT_HIDDEN int ant_span_arena(const void *addr);
ANT_HIDDEN void ant_span_grow(const ant_region_t *region);
ANT_HIDDEN void ant_span_remove(const ant_region_t *region);
ANT_HIDDEN uintptr_t ant_heap_span_search(const void *addr, size_t length);

/* The last HEAP span this thread found, true while `generation` is. */
struct ant_span_hint {
    uintptr_t low, high;
    uint32_t arena, generation;
};
ANT_HIDDEN extern __thread struct ant_span_hint ant_span_hint __attribute__((tls_model("initial-exec")));
ANT_HIDDEN extern unsigned ant_span_generation;

static inline bool ant_span_hinted(const void *addr, size_t length)
{
    uintptr_t a = (uintptr_t)addr;
    return ant_span_hint.generation == __atomic_load_n(&ant_span_generation, __ATOMIC_ACQUIRE) &&
           a >= ant_span_hint.low && a < ant_span_hint.high && length <= ant_span_hint.high - a;
}

/* [addr, addr + length) lies in a HEAP region, whose end is returned. */
static inline uintptr_t ant_heap_span_end(const void *addr, size_t length)
{
    if (ANT_LIKELY(ant_span_hinted(addr, length)))
        return ant_span_hint.high;
    return ant_heap_span_search(addr, length);
}

static inline bool ant_span_holds(const void *addr, size_t length)
{
    return ant_heap_span_end(addr, length) != 0;
}
ANT_HIDDEN bool ant_region_holds(const ant_region_t *region, const void *addr, size_t length);
ANT_HIDDEN ant_node_t *ant_wilderness_carve(ant_arena_t *arena, size_t size, size_t align, ant_region_t **region_out);
ANT_HIDDEN void ant_wilderness_reclaim(ant_arena_t *arena, ant_region_t *region, ant_node_t *node);
ANT_HIDDEN bool ant_wilderness_extend(ant_arena_t *arena, ant_region_t *region, ant_node_t *node, size_t size);

/* ---- Big blocks (big.c) ---- */

ANT_HIDDEN void *ant_big_alloc(ant_arena_t *arena, size_t size, size_t align, void *site);
ANT_HIDDEN void ant_big_free(ant_arena_t *arena, ant_region_t *region, void *site);
/* Books a mapping the caller made as a big block whose node is at `node`
 * and hands the block out. */
ANT_HIDDEN void *ant_big_place(ant_arena_t *arena, ant_region_t *r, size_t length, ant_node_t *node, size_t size,
                               void *site);
ANT_HIDDEN void *ant_big_realloc(ant_arena_t *arena, ant_region_t *region, size_t size, void *site);
ANT_HIDDEN ant_region_t *ant_big_of(ant_arena_t *arena, const void *mem);

/* ---- Guard pages and freed mappings kept (guard.c, kept.c, fault.c) ---- */

/* Allocations this thread makes before the next is guarded (or, with
 * guard=0, before it looks again): the fast path's only cost. */
ANT_HIDDEN extern __thread uint32_t ant_guard_countdown __attribute__((tls_model("initial-exec")));
ANT_HIDDEN void *ant_guard_sample(size_t size, size_t align, void *site);
/* A live guarded block: its slot, under its arena's lock. False when the
 * table has no room. */
ANT_HIDDEN bool ant_kept_guarded(ant_region_t *r, unsigned side);
ANT_HIDDEN bool ant_kept_is_guarded(const ant_region_t *r);
/* Whether a guarded block may be made now (read without the lock). */
ANT_HIDDEN bool ant_kept_guard_room(void);
/* Takes a freed big mapping out of use, its region header gone from the
 * arena already: kept inaccessible in a slot (oldest released first), or
 * unmapped. `k` says whose it was. */
ANT_HIDDEN void ant_kept_release(ant_region_t *r, const struct ant_kept *k);
/* The kept mapping holding addr, or 0; lock-free, for the fault handler. */
ANT_HIDDEN const struct ant_kept *ant_kept_at(const void *addr);
/* Live guarded blocks may use at most this many of the slots. */
#define ANT_GUARDED_MAX 64u
/* Installs the SIGSEGV handler, or installs it again over one the program
 * set since, which it then passes other faults to. */
ANT_HIDDEN void ant_fault_arm(void);

/* ---- Reports (report.c) ---- */

/* What a report says of one problem. */
struct ant_problem {
    int kind;
    const ant_node_t *node;    /* the damaged block's node, or 0 */
    const void *mem;           /* the address concerned (mem, or the bad pointer) */
    const ant_node_t *culprit; /* the block that probably did it, or 0 */
    const char *invariant;     /* "I2", or 0 */
    const char *what;          /* what was found, as a sentence fragment */
    const void *at;            /* the damaged byte, or 0 */
    const void *call_site;     /* who called free or realloc, or 0 */
    const char *call;          /* "free" or "realloc" of a pointer they were given, or 0 */
};

ANT_HIDDEN void ant_report(const struct ant_problem *problem);
ANT_HIDDEN void ant_report_done(void);
ANT_HIDDEN void ant_warn(const char *a, const char *b, const char *c);
/* "ant: `what` block 0x... (its facts)": a line about a sound block that
 * is not a problem. */
ANT_HIDDEN void ant_note_block(const char *what, const ant_node_t *node);
/* A fault or a free of kept mapping `k` at addr: `kind` with `what`
 * ("write", "free") and `call_site` the free's caller, or 0. */
ANT_HIDDEN void ant_report_kept(int kind, const char *what, const struct ant_kept *k, const void *addr,
                                const void *call_site);

/* ---- Leaks (leak*.c; their report in report.c) ---- */

enum ant_leak_kind { ANT_LEAK_DEFINITE = 1, ANT_LEAK_INDIRECT = 2, ANT_LEAK_POSSIBLE = 3 };

/* Leaked blocks of one kind allocated at one site. */
struct ant_leak_group {
    uint32_t kind;
    uint64_t site, blocks, bytes; /* bytes: requested, as the program asked */
    uint64_t first_serial, last_serial;
};

/* Registers the check at exit that leak_check=1 asks for. */
ANT_HIDDEN void ant_leak_arm(void);
ANT_HIDDEN void ant_report_leak(const struct ant_leak_group *group);
/* The last line: blocks[kind] and bytes[kind] of each kind, the used
 * blocks checked, and the exit status the process ends with, or 0. */
ANT_HIDDEN void ant_report_leak_total(const uint64_t blocks[4], const uint64_t bytes[4], uint64_t checked, int status);
ANT_HIDDEN void ant_report_leak_unstopped(unsigned threads, int signal);

/* ---- Checks (check.c, validate.c) ---- */

/* The block a pointer handed to free or realloc names, or 0 after reporting
 * why it names none. */
ANT_HIDDEN ant_node_t *ant_validate_mem(ant_arena_t *arena, void *mem, const char *call, const void *call_site,
                                        ant_region_t **region_out);
ANT_HIDDEN bool ant_damaged_node(ant_arena_t *arena, const ant_node_t *node);
ANT_HIDDEN const char *ant_diagnose_header(ant_region_t *region, ant_node_t *node, ant_node_t *below,
                                           const ant_node_t **culprit);
ANT_HIDDEN bool ant_check_reused(ant_node_t *node, size_t taken);
ANT_HIDDEN bool ant_check_taken_poison(ant_node_t *node, size_t taken);
ANT_HIDDEN size_t ant_check_arena(ant_arena_t *arena, uint64_t *requested, uint64_t *cached);

/* ---- The allocation paths (alloc.c) ---- */

ANT_HIDDEN void *ant_alloc(size_t size, size_t align, void *site);
ANT_HIDDEN void *ant_alloc_zeroed(size_t count, size_t size, void *site);
ANT_HIDDEN void ant_release(void *mem, void *site);
ANT_HIDDEN void *ant_resize(void *mem, size_t size, void *site);
ANT_HIDDEN size_t ant_requested_size(const void *mem);

#endif
