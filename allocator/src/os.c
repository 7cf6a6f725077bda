/*
 * os.c: every call to the OS's memory functions, behind one seam.
 */
#include "internal.h"

#include <sys/mman.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

void *ant_os_map(size_t length)
{
    void *p = mmap(0, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? 0 : p;
}

/*
 * The design note's "system level realloc": grow a mapping where it stands.
 * mremap without MREMAP_MAYMOVE fails rather than move it; failing that, a
 * new mapping placed right after the old one (refused by the kernel if
 * anything is there) extends it just as well.
 */
bool ant_os_grow(void *base, size_t old_length, size_t new_length)
{
    if (mremap(base, old_length, new_length, 0) != MAP_FAILED)
        return true;
    unsigned char *want = (unsigned char *)base + old_length;
    size_t more = new_length - old_length;
    void *p = mmap(want, more, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
                   -1, 0);
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
    munmap(base, length);
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
