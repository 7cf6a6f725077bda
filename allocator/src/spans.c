/*
 * spans.c: which addresses lie in a HEAP region, answered without a lock.
 *
 * A thread freeing into its cache takes no lock, yet must not follow a
 * pointer that is not Ant's: a bad free has to be reported, not crash. So
 * every HEAP region is published here while it is mapped. A region is
 * unmapped only once empty, after its span is withdrawn; a free of a live
 * block never meets that, since its region is not empty. (A stale pointer
 * freed in one thread at the very moment another thread empties and unmaps
 * its region can still fault: that race is the one gap.) A region beyond
 * the table's capacity is not published: frees into it take the locked
 * path, which finds every region.
 */
#include "internal.h"

#define SPAN_MAX 1024u

struct span {
    uintptr_t low;  /* first byte after the region header */
    uintptr_t high; /* the region's end; 0 for a withdrawn span */
};

static struct span spans[SPAN_MAX];
static unsigned span_count;
static pthread_mutex_t span_lock = PTHREAD_MUTEX_INITIALIZER;

static uintptr_t low_of(const ant_region_t *r)
{
    return (uintptr_t)r + ANT_REGION_HEADER_SIZE;
}

/* A slot is rewritten high first (to 0), low, then high again, so that a
 * reader that sees the same high before and after reading low has read one
 * span, not half of two. */
static void publish(struct span *s, uintptr_t low, uintptr_t high)
{
    __atomic_store_n(&s->high, 0, __ATOMIC_RELEASE);
    __atomic_store_n(&s->low, low, __ATOMIC_RELEASE);
    __atomic_store_n(&s->high, high, __ATOMIC_RELEASE);
}

void ant_span_add(const ant_region_t *r)
{
    pthread_mutex_lock(&span_lock);
    unsigned n = span_count, i = 0;
    while (i < n && __atomic_load_n(&spans[i].high, __ATOMIC_RELAXED))
        i++;
    if (i < SPAN_MAX) {
        publish(&spans[i], low_of(r), (uintptr_t)r + r->length);
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
    if (s)
        __atomic_store_n(&s->high, 0, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&span_lock);
}

bool ant_span_holds(const void *addr, size_t length)
{
    uintptr_t a = (uintptr_t)addr;
    unsigned n = __atomic_load_n(&span_count, __ATOMIC_ACQUIRE);
    for (unsigned i = 0; i < n; i++) {
        uintptr_t high = __atomic_load_n(&spans[i].high, __ATOMIC_ACQUIRE);
        if (a >= high)
            continue;
        uintptr_t low = __atomic_load_n(&spans[i].low, __ATOMIC_ACQUIRE);
        if (a >= low && length <= high - a && __atomic_load_n(&spans[i].high, __ATOMIC_ACQUIRE) == high)
            return true;
    }
    return false;
}
