/*
 * stack_store.c: every call stack the allocator recorded, each once.
 *
 * A site that is a stack names an entry here by its offset (layout.h,
 * "Call stacks"). Entries never move, change or leave, so the nodes that
 * name them, the debugger and the reports read them without a lock. Only
 * adding one takes the store's lock: that happens when a thread meets a
 * call path its memo (stack.c) does not know, after an unwind that costs
 * far more than the lock.
 *
 * The store is one growable mapping (os.c): held address space that turns
 * readable a step at a time, so its address never changes and a core
 * carries only the part in use.
 */
#include "internal.h"

#include <sched.h>

#define BUCKETS (1u << 15)
#define STEP ((size_t)1 << 20)

static struct ant_stacks *store;
static uint32_t making; /* held while the store is made */

static uint32_t hash_of(const uint64_t *frames, uint32_t depth)
{
    uint64_t h = depth * 0x9e3779b97f4a7c15ull;
    for (uint32_t i = 0; i < depth; i++)
        h = (h ^ frames[i]) * 0xbf58476d1ce4e5b9ull;
    return (uint32_t)(h ^ h >> 32);
}

static struct ant_stack *entry_at(struct ant_stacks *s, uint32_t id)
{
    return (struct ant_stack *)(void *)((unsigned char *)s + (size_t)id * 8);
}

static void lock(struct ant_stacks *s)
{
    while (__atomic_exchange_n(&s->lock, 1, __ATOMIC_ACQUIRE))
        sched_yield();
}

static void unlock(struct ant_stacks *s)
{
    __atomic_store_n(&s->lock, 0, __ATOMIC_RELEASE);
}

/* Made by the first stack any thread records; `making` keeps two threads
 * from both making one. */
static struct ant_stacks *made(void)
{
    struct ant_stacks *s = __atomic_load_n(&store, __ATOMIC_ACQUIRE);
    if (ANT_LIKELY(s))
        return s;
    while (__atomic_exchange_n(&making, 1, __ATOMIC_ACQUIRE))
        sched_yield();
    s = store;
    if (!s) {
        s = ant_os_map_growable(STEP);
        if (s) {
            *s = (struct ant_stacks){
                .magic = ANT_STACKS_MAGIC,
                .depth = ant_heap_root.stack_depth,
                .bucket_count = BUCKETS,
                .used = sizeof *s + BUCKETS * sizeof(uint32_t),
                .mapped = STEP,
            };
            __atomic_store_n(&store, s, __ATOMIC_RELEASE);
            __atomic_store_n(&ant_heap_root.stacks, s, __ATOMIC_RELEASE);
        }
    }
    __atomic_store_n(&making, 0, __ATOMIC_RELEASE);
    return s;
}

static bool same(const struct ant_stack *e, const uint64_t *frames, uint32_t depth)
{
    if (e->depth != depth)
        return false;
    for (uint32_t i = 0; i < depth; i++)
        if (e->frames[i] != frames[i])
            return false;
    return true;
}

/* Room for `need` more bytes, growing the mapping where it stands. */
static bool room(struct ant_stacks *s, size_t need)
{
    if (s->used + need <= s->mapped)
        return true;
    size_t grown = (size_t)s->mapped + (need > STEP ? need : STEP);
    if (grown > UINT32_MAX * (size_t)8 || !ant_os_grow(s, (size_t)s->mapped, grown))
        return false;
    s->mapped = grown;
    return true;
}

uint64_t ant_stacks_add(const uint64_t *frames, uint32_t depth)
{
    struct ant_stacks *s = made();
    if (!s)
        return 0;
    uint32_t hash = hash_of(frames, depth);
    uint32_t *bucket = &s->buckets[hash & (s->bucket_count - 1)];
    lock(s);
    for (uint32_t id = *bucket; id; id = entry_at(s, id)->next) {
        struct ant_stack *e = entry_at(s, id);
        if (e->hash == hash && same(e, frames, depth)) {
            unlock(s);
            return ANT_SITE_STACK | id;
        }
    }
    size_t need = sizeof(struct ant_stack) + depth * sizeof(uint64_t);
    if (!room(s, need)) {
        s->dropped++;
        unlock(s);
        return 0;
    }
    uint32_t id = (uint32_t)(s->used / 8);
    struct ant_stack *e = entry_at(s, id);
    e->next = *bucket;
    e->hash = hash;
    e->depth = depth;
    e->reserved = 0;
    for (uint32_t i = 0; i < depth; i++)
        e->frames[i] = frames[i];
    /* Whole, then counted, then linked: a fork or a core between any two
     * of these leaves nothing a reader or the next add trips over. */
    __atomic_store_n(&s->used, s->used + need, __ATOMIC_RELEASE);
    s->count++;
    __atomic_store_n(bucket, id, __ATOMIC_RELEASE);
    unlock(s);
    return ANT_SITE_STACK | id;
}

const struct ant_stack *ant_stack_of(uint64_t site)
{
    struct ant_stacks *s = __atomic_load_n(&store, __ATOMIC_ACQUIRE);
    if (!s || !(site & ANT_SITE_STACK))
        return 0;
    uint64_t offset = (site & ~ANT_SITE_STACK & ANT_SITE_MASK) * 8;
    uint64_t used = __atomic_load_n(&s->used, __ATOMIC_ACQUIRE);
    if (offset < sizeof *s + (uint64_t)s->bucket_count * sizeof(uint32_t) || offset + sizeof(struct ant_stack) > used)
        return 0;
    const struct ant_stack *e = entry_at(s, (uint32_t)(offset / 8));
    if (!e->depth || e->depth > ANT_STACK_MAX || offset + sizeof *e + e->depth * sizeof(uint64_t) > used)
        return 0;
    return e;
}

uint64_t ant_site_address(uint64_t site)
{
    if (!(site & ANT_SITE_STACK))
        return site;
    const struct ant_stack *e = ant_stack_of(site);
    return e ? e->frames[0] : 0;
}

/* A fork may come while another thread makes the store or adds a stack:
 * the child has no such thread, and what it left half done lies past
 * used, unlinked (or is a mapping the child makes again). */
void ant_stacks_fork_child(void)
{
    making = 0;
    if (store)
        store->lock = 0;
}
