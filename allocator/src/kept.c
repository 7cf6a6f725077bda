/*
 * kept.c: the mappings the allocator watches for faults, in root.kept.
 *
 * A live guarded block has a slot so that a fault in its guard page is
 * known for what it is. A freed big block, guarded or not, is not unmapped
 * at once: its pages are dropped and the mapping left PROT_NONE in its
 * slot, so that a read or write through a dangling pointer faults, and a
 * second free finds it (as WinDbg's page heap keeps freed pages). Kept
 * freed mappings are bounded by a count and by the address space they
 * hold; the oldest is unmapped first. Only address space is held: the
 * pages are given back when the mapping is kept.
 *
 * The slots change under kept_lock, taken only by a thread that holds an
 * arena's lock, so that a fork (which takes every arena's) never finds it
 * held. The fault handler and the debugger read them without it, each
 * slot whole by its state (see struct ant_kept).
 */
#include "internal.h"

#include <sys/mman.h>

/* Freed mappings kept at most: the slots the live guarded blocks leave. */
#define KEPT_FREED_MAX (ANT_KEPT_SLOTS - ANT_GUARDED_MAX)
/* Address space they may hold, together. */
#define KEPT_BYTES_MAX ((uint64_t)1 << 30)

static int kept_lock;
static uint64_t kept_order;
static unsigned freed_count;
static unsigned guarded_count;

static void lock_kept(void)
{
    while (__atomic_exchange_n(&kept_lock, 1, __ATOMIC_ACQUIRE))
        while (__atomic_load_n(&kept_lock, __ATOMIC_RELAXED))
            ant_cpu_relax();
}

static void unlock_kept(void)
{
    __atomic_store_n(&kept_lock, 0, __ATOMIC_RELEASE);
}

static struct ant_kept *slots(void)
{
    return ant_heap_root.kept;
}

static struct ant_kept *find(const ant_region_t *r, uint32_t state)
{
    for (unsigned i = 0; i < ANT_KEPT_SLOTS; i++)
        if (__atomic_load_n(&slots()[i].state, __ATOMIC_ACQUIRE) == state &&
            slots()[i].mapping == (uint64_t)(uintptr_t)r)
            return &slots()[i];
    return 0;
}

static struct ant_kept *find_empty(void)
{
    for (unsigned i = 0; i < ANT_KEPT_SLOTS; i++)
        if (!slots()[i].state)
            return &slots()[i];
    return 0;
}

/* Publishes a slot's fields, then its state. */
static void fill(struct ant_kept *slot, const struct ant_kept *k, uint32_t state)
{
    __atomic_store_n(&slot->state, 0, __ATOMIC_RELEASE);
    *slot = *k;
    slot->state = 0;
    __atomic_store_n(&slot->state, state, __ATOMIC_RELEASE);
}

bool ant_kept_guarded(ant_region_t *r, unsigned side)
{
    lock_kept();
    struct ant_kept *slot = guarded_count < ANT_GUARDED_MAX ? find_empty() : 0;
    if (slot) {
        guarded_count++;
        ant_node_t *node = r->first;
        fill(slot,
             &(struct ant_kept){.mapping = (uint64_t)(uintptr_t)r,
                                .length = r->length,
                                .mem = (uint64_t)(uintptr_t)ant_mem_of(node),
                                .requested = r->big_requested,
                                .serial = ant_node_serial(node),
                                .site = ant_node_site(node),
                                .guard = side},
             ANT_KEPT_GUARDED);
    }
    unlock_kept();
    return slot != 0;
}

bool ant_kept_is_guarded(const ant_region_t *r)
{
    return find(r, ANT_KEPT_GUARDED) != 0;
}

bool ant_kept_guard_room(void)
{
    return __atomic_load_n(&guarded_count, __ATOMIC_RELAXED) < ANT_GUARDED_MAX;
}

static void forget(struct ant_kept *slot)
{
    __atomic_store_n(&slot->state, 0, __ATOMIC_RELEASE);
    ant_heap_root.kept_bytes -= slot->length;
    freed_count--;
    ant_os_unmap((void *)(uintptr_t)slot->mapping, slot->length);
}

static struct ant_kept *oldest_freed(void)
{
    struct ant_kept *oldest = 0;
    for (unsigned i = 0; i < ANT_KEPT_SLOTS; i++)
        if (slots()[i].state == ANT_KEPT_FREED && (!oldest || slots()[i].order < oldest->order))
            oldest = &slots()[i];
    return oldest;
}

void ant_kept_release(ant_region_t *r, const struct ant_kept *k)
{
    void *base = r;
    size_t length = r->length;
    struct ant_kept freed = *k;
    lock_kept();
    struct ant_kept *slot = find(r, ANT_KEPT_GUARDED);
    if (slot) {
        freed.guard = slot->guard;
        __atomic_store_n(&slot->state, 0, __ATOMIC_RELEASE);
        guarded_count--;
    }
    bool keep = length <= KEPT_BYTES_MAX;
    while (keep && (freed_count >= KEPT_FREED_MAX || ant_heap_root.kept_bytes + length > KEPT_BYTES_MAX))
        forget(oldest_freed());
    if (!slot)
        slot = find_empty();
    keep = keep && slot;
    /* A fresh PROT_NONE mapping over the old one gives its pages back and
     * holds the addresses, so that nothing else is mapped there. */
    if (keep &&
        mmap(base, length, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0) == MAP_FAILED)
        keep = false;
    if (keep) {
        freed.order = ++kept_order;
        ant_heap_root.kept_bytes += length;
        freed_count++;
        fill(slot, &freed, ANT_KEPT_FREED);
    } else {
        ant_os_unmap(base, length);
    }
    unlock_kept();
    if (keep)
        ant_fault_arm();
}

const struct ant_kept *ant_kept_at(const void *addr)
{
    uint64_t a = (uint64_t)(uintptr_t)addr;
    for (unsigned i = 0; i < ANT_KEPT_SLOTS; i++) {
        const struct ant_kept *slot = &slots()[i];
        if (__atomic_load_n(&slot->state, __ATOMIC_ACQUIRE) && a - slot->mapping < slot->length)
            return slot;
    }
    return 0;
}
