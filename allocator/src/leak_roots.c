/*
 * leak_roots.c: the roots of the leak check, as memcheck has them: every
 * writable mapping of the process that is not the heap. That is the
 * program's data and bss and those of every library, thread-local storage,
 * the threads' stacks, memory mapped by hand, and other allocators' heaps,
 * all read from /proc/self/maps; the caller names what to skip (the heap,
 * the allocator's own state, its own scratch memory).
 *
 * Read-only anonymous mappings count too: a program may store pointers and
 * then protect the page. A mapping no one may read (PROT_NONE) is not read.
 *
 * A thread's stack counts from its stack pointer up, less the red zone
 * below it that x86-64 leaf functions use without moving the pointer: what
 * lies lower is dead frames. That is only where the mapping is a stack as
 * the C library makes them, [stack] or the mapping right above a guard
 * page; a stack the program placed in memory of its own (a stack pointer
 * in the middle of its data) leaves that memory read whole. Memory is read
 * with process_vm_readv, which fails where a plain read would fault (a
 * file mapping past the file's end), and the page is skipped.
 */
#include "leak.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

/* A writable mapping this big is address space held, not data (a
 * sanitizer's shadow memory): reading it would fault in terabytes of
 * zero pages. */
#define HELD_NOT_DATA ((uintptr_t)1 << 40)

#define MAPS_START (64u << 10)
#define RED_ZONE 128u

/* The whole of /proc/self/maps, in a mapping of *capacity bytes. */
static char *read_maps(size_t *length, size_t *capacity)
{
    int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    size_t cap = MAPS_START, len = 0;
    char *text = ant_os_map(cap);
    while (text) {
        if (len == cap) {
            char *more = ant_os_remap(text, cap, 2 * cap);
            if (!more) {
                munmap(text, cap);
                text = 0;
                break;
            }
            text = more;
            cap *= 2;
        }
        ssize_t n = read(fd, text + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    *length = len;
    *capacity = cap;
    return text;
}

struct mapping {
    uintptr_t low, high;
    bool writable, readable, guard; /* guard: no access at all */
    const char *path;               /* to the end of its line, or 0 */
};

static const char *parse_hex(const char *p, const char *end, uintptr_t *out)
{
    uintptr_t v = 0;
    for (; p < end; p++) {
        char c = *p;
        if (c >= '0' && c <= '9')
            v = v << 4 | (uintptr_t)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v = v << 4 | (uintptr_t)(c - 'a' + 10);
        else
            break;
    }
    *out = v;
    return p;
}

static const char *skip_field(const char *p, const char *end)
{
    while (p < end && *p != ' ' && *p != '\n')
        p++;
    while (p < end && *p == ' ')
        p++;
    return p;
}

/* One line, "low-high perms offset dev inode   path"; the cursor moves
 * past it. */
static bool next_mapping(const char **cursor, const char *end, struct mapping *m)
{
    const char *p = *cursor;
    if (p >= end)
        return false;
    const char *eol = memchr(p, '\n', (size_t)(end - p));
    if (!eol)
        eol = end;
    *cursor = eol + 1;
    p = parse_hex(p, eol, &m->low);
    p = parse_hex(p + 1, eol, &m->high);
    p++;
    m->readable = p + 1 < eol && p[0] == 'r';
    m->writable = p + 1 < eol && p[1] == 'w';
    m->guard = p + 2 < eol && p[0] == '-' && p[1] == '-' && p[2] == '-';
    for (int field = 0; field < 4; field++)
        p = skip_field(p, eol);
    m->path = p < eol ? p : 0;
    return true;
}

static bool starts(const char *text, const char *prefix)
{
    return text && strncmp(text, prefix, strlen(prefix)) == 0;
}

/* A device's memory may not be read without effects: only /dev/zero and
 * shared memory files are. The kernel's [vvar] and [vdso] hold none of the
 * program's pointers. */
static bool is_data(const struct mapping *m)
{
    if (!m->readable || m->high - m->low >= HELD_NOT_DATA || starts(m->path, "[v"))
        return false;
    if (!m->writable)
        return !m->path;
    return !starts(m->path, "/dev/") || starts(m->path, "/dev/zero") || starts(m->path, "/dev/shm/");
}

struct reader {
    uint64_t *buffer;
    size_t bytes;
    bool direct; /* process_vm_readv refused (a seccomp filter): plain reads */
    ant_leak_words_fn *fn;
    void *arg;
};

static void read_range(struct reader *r, uintptr_t low, uintptr_t high)
{
    low = (low + 7) & ~(uintptr_t)7;
    high &= ~(uintptr_t)7;
    while (low < high) {
        size_t want = high - low < r->bytes ? high - low : r->bytes;
        if (r->direct) {
            r->fn(r->arg, (const uint64_t *)low, want / 8);
            low += want;
            continue;
        }
        struct iovec local = {r->buffer, want}, remote = {(void *)low, want};
        ssize_t got = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
        if (got < 0 && (errno == ENOSYS || errno == EPERM)) {
            r->direct = true;
            continue;
        }
        if (got < 8) {
            low = (low | (ant_page_size - 1)) + 1;
            continue;
        }
        r->fn(r->arg, r->buffer, (size_t)got / 8);
        low += (size_t)got & ~(size_t)7;
    }
}

/* The first range of `skip` that ends above `address`. */
static size_t first_above(const struct ant_leak_ranges *skip, uintptr_t address)
{
    size_t lo = 0, hi = skip->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (skip->at[mid].high <= address)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void read_unskipped(struct reader *r, const struct ant_leak_ranges *skip, uintptr_t low, uintptr_t high)
{
    uintptr_t at = low;
    for (size_t i = first_above(skip, low); i < skip->count && skip->at[i].low < high && at < high; i++) {
        if (skip->at[i].low > at)
            read_range(r, at, skip->at[i].low);
        if (skip->at[i].high > at)
            at = skip->at[i].high;
    }
    if (at < high)
        read_range(r, at, high);
}

bool ant_leak_roots(struct ant_leak_ranges *skip, const uintptr_t *sps, size_t sp_count, uint64_t *buffer,
                    size_t buffer_bytes, ant_leak_words_fn *fn, void *arg)
{
    size_t length = 0, capacity = 0;
    char *text = read_maps(&length, &capacity);
    if (!text)
        return false;
    ant_leak_skip(skip, text, capacity);
    ant_leak_merge(skip);
    struct reader r = {.buffer = buffer, .bytes = buffer_bytes & ~(size_t)7, .fn = fn, .arg = arg};
    const char *cursor = text, *end = text + length;
    struct mapping m;
    uintptr_t guard_end = 0;
    while (next_mapping(&cursor, end, &m)) {
        bool stack = starts(m.path, "[stack]") || (m.low == guard_end && !m.path);
        guard_end = m.guard ? m.high : 0;
        if (!is_data(&m))
            continue;
        uintptr_t lowest = m.high;
        for (size_t i = 0; stack && i < sp_count; i++)
            if (sps[i] >= m.low && sps[i] < lowest)
                lowest = sps[i];
        uintptr_t low = lowest == m.high || lowest - m.low < RED_ZONE ? m.low : lowest - RED_ZONE;
        read_unskipped(&r, skip, low, m.high);
    }
    munmap(text, capacity);
    return length > 0;
}
