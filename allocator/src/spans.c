/*
 * spans.c: which region holds an address, and of which arena, answered
 * without a lock.
 *
 * A thread freeing into its cache takes no lock, yet must not follow a
 * pointer that is not Ant's: a bad free has to be reported, not crash. And
 * a free that takes a lock must take the lock of the arena the block
 * belongs to. So every HEAP region and big mapping is published here while
 * it is mapped. A mapping is unmapped only after its span is withdrawn; a
 * free of a live block never meets that. (A stale pointer freed in one
 * thread at the very moment another thread unmaps its region can still
 * fault: that race is the one gap.) A mapping beyond the table's capacity
 * is not published: frees into it find their arena by the locked search of
 * ant_arena_owning().
 *
 * Most frees land in the region of the one before, so each thread keeps
 * the last HEAP span it found as a hint (internal.h) and searches the table
 * only when the hint does not hold the address. A withdrawn span turns
 * every hint stale at once by raising ant_span_generation; a span that
 * grew leaves the old hints true, only narrower than they could be.
 */
#include "internal.h"

#define SPAN_MAX 1024u

struct span {
    uintptr_t low;  /* first byte after the region header */
    uintptr_t high; /* the region's end; 0 for a withdrawn span */
    uint32_t arena;
    uint32_t big; /* a big mapping, whose node no cache may touch */
};

static struct span spans[SPAN_MAX];
static unsigned span_count;

__thread struct ant_span_hint ant_span_hint __attribute__((tls_model("initial-exec")));
unsigned ant_span_generation;
static pthread_mutex_t span_lock = PTHREAD_MUTEX_INITIALIZER;

static uintptr_t low_of(const ant_region_t *r)
{
    return (uintptr_t)r + ANT_REGION_HEADER_SIZE;
}

/* A slot is rewritten high first (to 0), low, then high again, so that a
 * reader that sees the same high before and after reading low has read one
 * span, not half of two. */
static void publish(struct span *s, const ant_region_t *r)
{
    __atomic_store_n(&s->high, 0, __ATOMIC_RELEASE);
    __atomic_store_n(&s->low, low_of(r), __ATOMIC_RELEASE);
    __atomic_store_n(&s->arena, r->arena, __ATOMIC_RELEASE);
    __atomic_store_n(&s->big, r->kind == ANT_REGION_BIG, __ATOMIC_RELEASE);
    __atomic_store_n(&s->high, (uintptr_t)r + r->length, __ATOMIC_RELEASE);
}

void ant_span_add(const ant_region_t *r)
{
    pthread_mutex_lock(&span_lock);
    unsigned n = span_count, i = 0;
    while (i < n && __atomic_load_n(&spans[i].high, __ATOMIC_RELAXED))
        i++;
    if (i < SPAN_MAX) {
        publish(&spans[i], r);
        if (i == n)
            __atomic_store_n(&span_count, n + 1, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&span_lock);
}

static struct span *find(const ant_region_t *r)
{
    unsigned n = __atomic_load_n(&span_count, __ATOMIC_ACQUIRE);
    for (unsigned i = 0; i < n; i++)
        if (spans[i].low == low_of(r) && spans[i].high)
            return &spans[i];
    return 0;
}

void ant_span_grow(const ant_region_t *r)
{
    pthread_mutex_lock(&span_lock);
    struct span *s = find(r);
    if (s)
        __atomic_store_n(&s->high, (uintptr_t)r + r->length, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&span_lock);
}

void ant_span_remove(const ant_region_t *r)
{
    pthread_mutex_lock(&span_lock);
    struct span *s = find(r);
    if (s) {
        __atomic_store_n(&s->high, 0, __ATOMIC_RELEASE);
        __atomic_add_fetch(&ant_span_generation, 1, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&span_lock);
}

/* The span holding [addr, addr + length), read whole; 0 if none. A HEAP
 * span found becomes the thread's hint. */
static bool find_span(const void *addr, size_t length, struct span *out)
{
    uintptr_t a = (uintptr_t)addr;
    unsigned generation = __atomic_load_n(&ant_span_generation, __ATOMIC_ACQUIRE);
    unsigned n = __atomic_load_n(&span_count, __ATOMIC_ACQUIRE);
    for (unsigned i = 0; i < n; i++) {
        uintptr_t high = __atomic_load_n(&spans[i].high, __ATOMIC_ACQUIRE);
        if (a >= high)
            continue;
        out->high = high;
        out->low = __atomic_load_n(&spans[i].low, __ATOMIC_ACQUIRE);
        out->arena = __atomic_load_n(&spans[i].arena, __ATOMIC_ACQUIRE);
        out->big = __atomic_load_n(&spans[i].big, __ATOMIC_ACQUIRE);
        if (a >= out->low && length <= high - a && __atomic_load_n(&spans[i].high, __ATOMIC_ACQUIRE) == high) {
            if (!out->big)
                ant_span_hint = (struct ant_span_hint){out->low, high, out->arena, generation};
            return true;
        }
    }
    return false;
}

uintptr_t ant_heap_span_search(const void *addr, size_t length)
{
    struct span s;
    return find_span(addr, length, &s) && !s.big ? s.high : 0;
}

int ant_span_arena(const void *addr)
{
    if (ant_span_hinted(addr, 1))
        return (int)ant_span_hint.arena;
    struct span s;
    return find_span(addr, 1, &s) ? (int)s.arena : -1;
}
