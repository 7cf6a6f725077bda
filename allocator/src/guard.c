/*
 * guard.c: sampled guard pages (ANT_OPTIONS=guard=N), as GWP-ASan and
 * KFENCE have them: about one allocation in N gets a mapping of its own,
 * placed against a page that no access may touch, so that an overflow or
 * an underflow faults at the access instead of being found at the free or
 * never. The placement alternates between the two sides:
 *
 *   after:   | header, padding, node, mem, tail |  guard page  |
 *            the block's end meets the guard (within the 16 bytes that
 *            mem's alignment and the tail sentinel leave)
 *
 *   before:  | header page |  guard page  | node, mem, tail ... |
 *            the node meets the guard, so an underflow past the node's
 *            32 bytes faults; a shorter one damages the node's check,
 *            which the free reports
 *
 * A guarded block is a big block in all else (the arena's big list, its
 * counters, its free), with a slot in root.kept that names its side; when
 * freed, kept.c keeps the whole mapping inaccessible a while. Each thread
 * counts down its own allocations to the next sample: the fast path pays a
 * decrement and a branch, and a sampled allocation an mmap, an mprotect
 * and a sigaction.
 */
#include "internal.h"

#include <sys/mman.h>

/* Sampled requests above this are served as any other: a guarded block
 * holds its pages for its whole life, and at most ANT_GUARDED_MAX live. */
#define GUARD_MAX_REQUEST ((size_t)64 << 10)

/* 1, so that a thread's first allocation draws its first countdown. */
__thread uint32_t ant_guard_countdown __attribute__((tls_model("initial-exec"))) = 1;
static __thread uint64_t draw_state __attribute__((tls_model("initial-exec")));
static unsigned side_turn;

/* A countdown spread evenly over [N/2, 3N/2), from a sequence each thread
 * starts alike, so that a run samples the same allocations as the last. */
static uint32_t next_countdown(void)
{
    size_t n = ant_opt.guard;
    if (!n)
        return UINT32_MAX;
    draw_state = draw_state * 6364136223846793005ull + 1442695040888963407ull;
    uint64_t spread = (draw_state >> 33) % n;
    uint64_t countdown = n / 2 + spread + 1;
    return countdown > UINT32_MAX ? UINT32_MAX : (uint32_t)countdown;
}

static size_t page_up(size_t n)
{
    return (n + ant_page_size - 1) & ~(ant_page_size - 1);
}

static void *guarded(size_t size, void *site)
{
    size_t page = ant_page_size;
    size_t block = ant_block_size_for(size);
    unsigned side = __atomic_fetch_add(&side_turn, 1, __ATOMIC_RELAXED) % 2 ? ANT_GUARD_BEFORE : ANT_GUARD_AFTER;
    size_t data = side == ANT_GUARD_AFTER ? page_up(ANT_REGION_HEADER_SIZE + block) : page_up(block);
    size_t length = data + (side == ANT_GUARD_AFTER ? page : 2 * page);
    unsigned char *base = ant_os_map(length);
    if (!base)
        return 0;
    unsigned char *guard = side == ANT_GUARD_AFTER ? base + data : base + page;
    unsigned char *node = side == ANT_GUARD_AFTER ? base + data - block : base + 2 * page;
    if (mprotect(guard, page, PROT_NONE)) {
        ant_os_unmap(base, length);
        return 0;
    }
    ant_fault_arm();
    ant_arena_t *arena = ant_arena_for_thread();
    ant_lock_for(arena, ANT_OP_MALLOC);
    ant_region_t *r = (ant_region_t *)(void *)base;
    void *mem = ant_big_place(arena, r, length, (ant_node_t *)(void *)node, size, site);
    /* Two threads may both have seen room for the last slot: the other's
     * block stays a big block whose guard page goes unnamed. */
    ant_kept_guarded(r, side);
    ant_unlock(arena);
    ant_break_at_block(mem);
    return mem;
}

void *ant_guard_sample(size_t size, size_t align, void *site)
{
    ant_ensure_init();
    bool drawn = draw_state != 0;
    if (!drawn)
        draw_state = 0x853c49e6748fea9bull;
    ant_guard_countdown = next_countdown();
    if (drawn && align == ANT_ALIGN && size <= GUARD_MAX_REQUEST && ant_kept_guard_room()) {
        void *mem = guarded(size, site);
        if (mem)
            return mem;
    }
    if (align == ANT_ALIGN)
        return ant_cache_take(size, site);
    return ant_alloc_from_arena(size, align, site);
}
