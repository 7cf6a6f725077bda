/*
 * valgrind.h: Ant's blocks as Valgrind's memcheck sees them.
 *
 * A program that keeps Ant as its allocator under memcheck (the ant_* API,
 * Ant linked statically, or the drop-in run with
 * --soname-synonyms=somalloc=nouserintercepts) looks to memcheck like one
 * that maps memory and uses it as it likes: a read after free, an overflow
 * or a leak goes unseen. Built with ANT_VALGRIND (the CMake option of that
 * name), Ant tells memcheck what its blocks are, by client requests that
 * cost a few instructions when no Valgrind runs, as mimalloc's
 * MI_TRACK_VALGRIND does:
 *
 *  - every byte of a heap region or a big mapping is no-access to the
 *    program from the moment Ant maps it: nodes, tails, free links, poison,
 *    the wilderness and the region's header; so are the arenas' journals,
 *    whose record of the last block changed memcheck's leak check would
 *    otherwise take for a pointer the program holds;
 *  - a block's mem is the program's from its allocation to its free
 *    (MALLOCLIKE_BLOCK: undefined, a calloc's defined; FREELIKE_BLOCK);
 *  - a realloc is a free of the block and an allocation of the new one,
 *    as memcheck's own realloc is, and the bytes it keeps keep their
 *    definedness (GET_VBITS before, SET_VBITS after), moved or not;
 *  - the allocator reads and writes its own records with memcheck's error
 *    reports off for the thread, around each public call and each call the
 *    system makes into Ant (a thread's exit, fork, exit). A store to
 *    no-access memory leaves it no-access, and a load from it reads as
 *    defined, so nothing the allocator does shows.
 *
 * Built without the option, each function here is the call it wraps, or
 * nothing, and the allocator's code is what it would be without this file.
 */
#ifndef ANT_VALGRIND_H
#define ANT_VALGRIND_H

#include "internal.h"

#ifndef ANT_VALGRIND
#define ANT_VALGRIND 0
#endif

#if ANT_VALGRIND
#include <valgrind/memcheck.h>
#endif

/* Memcheck's reports off for this thread, for the allocator's own work;
 * calls nest. */
static inline void ant_quiet_begin(void)
{
#if ANT_VALGRIND
    VALGRIND_DISABLE_ERROR_REPORTING;
#endif
}

static inline void ant_quiet_end(void)
{
#if ANT_VALGRIND
    VALGRIND_ENABLE_ERROR_REPORTING;
#endif
}

/* Bytes that are Ant's alone: no-access to the program. */
static inline void ant_vg_hide(const void *addr, size_t length)
{
#if ANT_VALGRIND
    VALGRIND_MAKE_MEM_NOACCESS(addr, length);
#else
    (void)addr;
    (void)length;
#endif
}

#if ANT_VALGRIND
/* A big block's mapping, its header, node and tail included, is Ant's
 * but for the block's first `size` bytes. Quiet. */
static inline void ant_vg_hide_big(void *mem, size_t size)
{
    ant_node_t *node = ant_node_of(mem);
    if (!(node->flags & ANT_FLAG_BIG))
        return;
    ant_region_t *r = ant_big_region(node);
    unsigned char *start = (unsigned char *)r, *end = start + r->length, *past = (unsigned char *)mem + size;
    VALGRIND_MAKE_MEM_NOACCESS(start, (size_t)((unsigned char *)mem - start));
    VALGRIND_MAKE_MEM_NOACCESS(past, (size_t)(end - past));
}

/* Definedness of up to this many bytes is kept on the stack, more in a
 * mapping of its own: one bit of it a bit of the block. */
#define ANT_VBITS_ON_STACK 4096u

/*
 * The block is given back to memcheck before Ant looks at it, as free
 * does: once Ant has moved it, another thread may be handed its old place,
 * and memcheck must not hear of that before it heard of this free. The
 * block's bytes then come back defined as they were, at its new place or
 * its old, whether Ant moved it, resized it in place or failed.
 */
static inline __attribute__((always_inline)) void *ant_vg_realloc(void *mem, size_t size, void *site)
{
    if (!RUNNING_ON_VALGRIND)
        return ant_resize(mem, size, site);
    ant_quiet_begin();
    size_t had = ant_requested_size(mem);
    ant_quiet_end();
    unsigned char small[ANT_VBITS_ON_STACK];
    unsigned char *vbits = had <= sizeof small ? small : ant_os_map(had);
    bool saved = vbits && VALGRIND_GET_VBITS(mem, vbits, had) == 1;
    VALGRIND_FREELIKE_BLOCK(mem, 0);
    ant_quiet_begin();
    void *out = ant_resize(mem, size, site);
    if (out)
        ant_vg_hide_big(out, size);
    ant_quiet_end();
    /* Failed, the block stays as it was; a pointer that named no block
     * (had is 0) was reported by both. */
    void *now = out ? out : mem;
    size_t now_size = out ? size : had;
    size_t keep = had < now_size ? had : now_size;
    if (out || had) {
        VALGRIND_MALLOCLIKE_BLOCK(now, now_size, 0, 0);
        if (saved)
            VALGRIND_SET_VBITS(now, vbits, keep);
        else
            VALGRIND_MAKE_MEM_DEFINED(now, keep);
    }
    if (vbits && vbits != small)
        ant_os_unmap(vbits, had);
    return out;
}
#endif

/* ---- The public entry points' calls, told to memcheck ---- */

/* In line, so that memcheck's stacks show the entry point (malloc,
 * ant_free, ...) that the program called. */
#define ANT_TRACKED static inline __attribute__((always_inline))

ANT_TRACKED void *ant_tracked_alloc(size_t size, size_t align, void *site)
{
#if ANT_VALGRIND
    ant_quiet_begin();
    void *mem = ant_alloc(size, align, site);
    if (mem)
        ant_vg_hide_big(mem, size);
    ant_quiet_end();
    if (mem)
        VALGRIND_MALLOCLIKE_BLOCK(mem, size, 0, 0);
    return mem;
#else
    return ant_alloc(size, align, site);
#endif
}

ANT_TRACKED void *ant_tracked_calloc(size_t count, size_t size, void *site)
{
#if ANT_VALGRIND
    ant_quiet_begin();
    void *mem = ant_alloc_zeroed(count, size, site);
    if (mem)
        ant_vg_hide_big(mem, count * size);
    ant_quiet_end();
    if (mem)
        VALGRIND_MALLOCLIKE_BLOCK(mem, count * size, 0, 1);
    return mem;
#else
    return ant_alloc_zeroed(count, size, site);
#endif
}

/* Told before Ant looks at the pointer, so that memcheck names a double
 * or an invalid free as it would its own. */
ANT_TRACKED void ant_tracked_free(void *mem, void *site)
{
#if ANT_VALGRIND
    if (mem)
        VALGRIND_FREELIKE_BLOCK(mem, 0);
    ant_quiet_begin();
    ant_release(mem, site);
    ant_quiet_end();
#else
    ant_release(mem, site);
#endif
}

ANT_TRACKED void *ant_tracked_realloc(void *mem, size_t size, void *site)
{
#if ANT_VALGRIND
    if (!mem)
        return ant_tracked_alloc(size, ANT_ALIGN, site);
    if (!size) {
        ant_tracked_free(mem, site);
        return 0;
    }
    return ant_vg_realloc(mem, size, site);
#else
    return ant_resize(mem, size, site);
#endif
}

ANT_TRACKED size_t ant_tracked_usable_size(const void *mem)
{
#if ANT_VALGRIND
    ant_quiet_begin();
    size_t size = ant_requested_size(mem);
    ant_quiet_end();
    return size;
#else
    return ant_requested_size(mem);
#endif
}

#endif
