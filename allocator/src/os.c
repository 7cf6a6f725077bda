/*
 * os.c: every call to the OS's memory functions, behind one seam.
 */
#include "internal.h"

#include <sys/mman.h>
#include <sys/resource.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

void *ant_os_map(size_t length)
{
    void *p = mmap(0, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? 0 : p;
}

/*
 * Room to grow. The OS places each new mapping below the last, so a region
 * seldom finds free addresses after it, and an arena that cannot grow its
 * region takes a new one: its free blocks then lie in several mappings that
 * never merge, and a free block too small for the next request stays
 * resident in one while the request faults in fresh pages in another. So a
 * HEAP region is mapped at the start of RESERVE bytes of address space held
 * inaccessible (PROT_NONE, MAP_NORESERVE: no memory, no commit charge), and
 * grows into them in place. The held part is kept out of core files
 * (MADV_DONTDUMP, which the kernel and gdb's gcore honour): a core would
 * otherwise carry it as hundreds of megabytes of nothing. Not under an
 * address-space limit (RLIMIT_AS), which reserved addresses would count
 * against.
 */
#define RESERVE ((size_t)256 << 20)
#define RESERVATIONS 256u

static struct reservation {
    uintptr_t base;
    size_t size;
} held[RESERVATIONS];
static pthread_mutex_t held_lock = PTHREAD_MUTEX_INITIALIZER;

static size_t reserved_at(const void *base, bool forget)
{
    size_t size = 0;
    pthread_mutex_lock(&held_lock);
    for (unsigned i = 0; i < RESERVATIONS; i++) {
        if (held[i].base == (uintptr_t)base) {
            size = held[i].size;
            if (forget)
                held[i] = (struct reservation){0, 0};
            break;
        }
    }
    pthread_mutex_unlock(&held_lock);
    return size;
}

static bool hold(void *base, size_t size)
{
    bool kept = false;
    pthread_mutex_lock(&held_lock);
    for (unsigned i = 0; i < RESERVATIONS && !kept; i++) {
        if (!held[i].base) {
            held[i] = (struct reservation){(uintptr_t)base, size};
            kept = true;
        }
    }
    pthread_mutex_unlock(&held_lock);
    return kept;
}

static bool address_space_limited(void)
{
    struct rlimit limit;
    return getrlimit(RLIMIT_AS, &limit) != 0 || limit.rlim_cur != RLIM_INFINITY;
}

void *ant_os_map_growable(size_t length)
{
    if (length < RESERVE && !address_space_limited()) {
        void *p = mmap(0, RESERVE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p != MAP_FAILED) {
            if (mprotect(p, length, PROT_READ | PROT_WRITE) == 0 &&
                madvise((unsigned char *)p + length, RESERVE - length, MADV_DONTDUMP) == 0 && hold(p, RESERVE))
                return p;
            munmap(p, RESERVE);
        }
    }
    return ant_os_map(length);
}

/* Re-initializes the table's lock in a fork's child. */
void ant_os_fork_child(void)
{
    pthread_mutex_init(&held_lock, 0);
}

/*
 * The design note's "system level realloc": grow a mapping where it stands.
 * mremap without MREMAP_MAYMOVE fails rather than move it; failing that, a
 * new mapping placed right after the old one (refused by the kernel if
 * anything is there) extends it just as well.
 */
bool ant_os_grow(void *base, size_t old_length, size_t new_length)
{
    size_t reserved = reserved_at(base, false);
    if (reserved) {
        unsigned char *more = (unsigned char *)base + old_length;
        return new_length <= reserved && mprotect(more, new_length - old_length, PROT_READ | PROT_WRITE) == 0 &&
               madvise(more, new_length - old_length, MADV_DODUMP) == 0;
    }
    if (mremap(base, old_length, new_length, 0) != MAP_FAILED)
        return true;
    unsigned char *want = (unsigned char *)base + old_length;
    size_t more = new_length - old_length;
    void *p = mmap(want, more, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (p == MAP_FAILED)
        return false;
    if (p != want) {
        /* A kernel older than MAP_FIXED_NOREPLACE took it as a hint. */
        munmap(p, more);
        return false;
    }
    return true;
}

void *ant_os_remap(void *base, size_t old_length, size_t new_length)
{
    void *p = mremap(base, old_length, new_length, MREMAP_MAYMOVE);
    return p == MAP_FAILED ? 0 : p;
}

void ant_os_unmap(void *base, size_t length)
{
    size_t reserved = reserved_at(base, true);
    munmap(base, reserved ? reserved : length);
}

/* Gives the whole pages between start and end back to the OS; the mapping
 * stays, and reads as zeros when next touched. */
void ant_os_release(void *start, void *end)
{
    uintptr_t lo = ((uintptr_t)start + ant_page_size - 1) & ~(uintptr_t)(ant_page_size - 1);
    uintptr_t hi = (uintptr_t)end & ~(uintptr_t)(ant_page_size - 1);
    if (hi > lo)
        madvise((void *)lo, hi - lo, MADV_DONTNEED);
}
