/*
 * dropin.c: the C library's malloc family, served by Ant. Built only into
 * libantmalloc, for LD_PRELOAD or for linking in place of the C library's
 * allocator.
 */
#include "internal.h"
#include "valgrind.h"

#include <errno.h>
#include <malloc.h>
#include <stdlib.h>

#define ANT_EXPORT __attribute__((visibility("default"), noinline))
#define CALLER() ant_site_here(__builtin_return_address(0), __builtin_dwarf_cfa())

ANT_EXPORT void *malloc(size_t size)
{
    return ant_tracked_alloc(size, ANT_ALIGN, CALLER());
}

ANT_EXPORT void free(void *mem)
{
    ant_tracked_free(mem, CALLER());
}

ANT_EXPORT void *calloc(size_t count, size_t size)
{
    return ant_tracked_calloc(count, size, CALLER());
}

ANT_EXPORT void *realloc(void *mem, size_t size)
{
    return ant_tracked_realloc(mem, size, CALLER());
}

ANT_EXPORT void *reallocarray(void *mem, size_t count, size_t size)
{
    size_t total;
    if (__builtin_mul_overflow(count, size, &total)) {
        errno = ENOMEM;
        return 0;
    }
    return ant_tracked_realloc(mem, total, CALLER());
}

static bool valid_alignment(size_t alignment)
{
    return alignment && !(alignment & (alignment - 1));
}

ANT_EXPORT int posix_memalign(void **out, size_t alignment, size_t size)
{
    if (!valid_alignment(alignment) || alignment % sizeof(void *))
        return EINVAL;
    int saved = errno;
    void *mem = ant_tracked_alloc(size, alignment < ANT_ALIGN ? ANT_ALIGN : alignment, CALLER());
    errno = saved;
    if (!mem)
        return ENOMEM;
    *out = mem;
    return 0;
}

ANT_EXPORT void *aligned_alloc(size_t alignment, size_t size)
{
    if (!valid_alignment(alignment)) {
        errno = EINVAL;
        return 0;
    }
    return ant_tracked_alloc(size, alignment < ANT_ALIGN ? ANT_ALIGN : alignment, CALLER());
}

/* glibc's memalign rounds a bad alignment up to a power of two. */
ANT_EXPORT void *memalign(size_t alignment, size_t size)
{
    if (alignment > ((size_t)1 << 62)) {
        errno = EINVAL;
        return 0;
    }
    size_t align = ANT_ALIGN;
    while (align < alignment)
        align <<= 1;
    return ant_tracked_alloc(size, align, CALLER());
}

ANT_EXPORT void *valloc(size_t size)
{
    ant_ensure_init();
    return ant_tracked_alloc(size, ant_page_size, CALLER());
}

ANT_EXPORT void *pvalloc(size_t size)
{
    ant_ensure_init();
    size_t rounded = (size + ant_page_size - 1) & ~(ant_page_size - 1);
    if (rounded < size) {
        errno = ENOMEM;
        return 0;
    }
    return ant_tracked_alloc(rounded ? rounded : ant_page_size, ant_page_size, CALLER());
}

ANT_EXPORT size_t malloc_usable_size(void *mem)
{
    return ant_tracked_usable_size(mem);
}
