/*
 * api.c: the public ant_* functions of <ant/ant.h>. Each records its
 * caller's return address as the block's site, so it must not be inlined
 * into, or merged with, another function.
 */
#include "internal.h"
#include "valgrind.h"

#include <errno.h>

#define ANT_API __attribute__((visibility("default"), noinline))
#define CALLER() ant_site_here(__builtin_return_address(0), __builtin_dwarf_cfa())

ANT_API void *ant_malloc(size_t size)
{
    return ant_tracked_alloc(size, ANT_ALIGN, CALLER());
}

ANT_API void *ant_calloc(size_t count, size_t size)
{
    return ant_tracked_calloc(count, size, CALLER());
}

ANT_API void *ant_realloc(void *mem, size_t size)
{
    return ant_tracked_realloc(mem, size, CALLER());
}

ANT_API void ant_free(void *mem)
{
    ant_tracked_free(mem, CALLER());
}

ANT_API void *ant_aligned_alloc(size_t alignment, size_t size)
{
    if (alignment == 0 || (alignment & (alignment - 1))) {
        errno = EINVAL;
        return 0;
    }
    return ant_tracked_alloc(size, alignment < ANT_ALIGN ? ANT_ALIGN : alignment, CALLER());
}

ANT_API size_t ant_usable_size(const void *mem)
{
    return ant_tracked_usable_size(mem);
}
