/*
 * stack.c: the call stack of an allocation or a free (ANT_OPTIONS=stack=N).
 *
 * Debian's builds keep no frame pointers, so walking a stack means the
 * unwinder: the program's .eh_frame tables, read by libgcc's
 * _Unwind_Backtrace, a few microseconds a walk. A program allocates from
 * the same few call paths over and over, so each thread keeps a memo of
 * the paths it walked, keyed by the allocator's return address and the
 * caller's stack pointer (its CFA). Those two alone do not name a path:
 * two callers of one xmalloc can call it at the same depth. So the memo
 * also keeps, for each frame, where its return address lay on the stack,
 * and a hit reads those slots again: the same return addresses in the
 * same slots are the same path (x86-64's return address always lies right
 * below the CFA of the frame that called, so a slot is found from the
 * caller's CFA). A hit costs a dozen loads; a miss walks and then fills
 * the memo.
 *
 * What a memo hit cannot see: a caller whose frame size changes between
 * two calls from the same return address at the same depth (alloca, a
 * variable-length array) while an old return address still sits in the
 * slot the memo reads. Paths through signal frames are walked every time.
 */
#include "internal.h"

#include <dlfcn.h>
#include <string.h>
#include <unwind.h>

__thread struct ant_memo *ant_memo __attribute__((tls_model("initial-exec")));
static __thread bool walking __attribute__((tls_model("initial-exec")));

uint32_t ant_stack_depth;

/* Memos of threads that ended, for new threads to take: a program that
 * starts a thread per task would otherwise leave one behind each time. */
static pthread_key_t memo_key;
static struct ant_memo *spare;
static pthread_mutex_t spare_lock = PTHREAD_MUTEX_INITIALIZER;

static void thread_ends(void *value)
{
    struct ant_memo *m = value;
    ant_memo = 0;
    pthread_mutex_lock(&spare_lock);
    m->next = spare;
    spare = m;
    pthread_mutex_unlock(&spare_lock);
}

void ant_stack_setup(void)
{
    ant_stack_depth = (uint32_t)ant_opt.stack;
    if (ant_stack_depth && pthread_key_create(&memo_key, thread_ends) != 0)
        ant_stack_depth = 0;
    ant_heap_root.stack_depth = ant_stack_depth;
}

static size_t memo_shift(void)
{
    size_t shift = 5;
    while (((size_t)1 << shift) < sizeof(struct ant_memo_entry) + ant_stack_depth * sizeof(struct ant_memo_frame))
        shift++;
    return shift;
}

/* A thread's memo: a spare one emptied (its slots lay on another thread's
 * stack), or one mapped apart from the heap at the thread's first walk. */
static struct ant_memo *memo_mine(void)
{
    if (ant_memo)
        return ant_memo;
    pthread_mutex_lock(&spare_lock);
    struct ant_memo *m = spare;
    if (m)
        spare = m->next;
    pthread_mutex_unlock(&spare_lock);
    if (m) {
        for (size_t i = 0; i < ANT_MEMO_SLOTS; i++)
            ((struct ant_memo_entry *)(void *)(m->entries + (i << m->shift)))->ra = 0;
    } else {
        size_t shift = memo_shift();
        m = ant_os_map(sizeof *m + ((size_t)ANT_MEMO_SLOTS << shift));
        if (!m)
            return 0;
        m->shift = shift;
    }
    /* Set first: a pthread_setspecific that allocates walks with it. */
    ant_memo = m;
    pthread_setspecific(memo_key, m);
    return m;
}

/* A fork's child has only the forking thread. */
void ant_stack_fork_child(void)
{
    pthread_mutex_init(&spare_lock, 0);
}

struct walk {
    uint64_t ra;  /* the return address into the program */
    uint64_t cfa; /* the CFA of the frame it called: the entry point's */
    uint32_t depth, max, skipped;
    bool memoable;
    uint64_t frames[ANT_STACK_MAX];
    int64_t slots[ANT_STACK_MAX];
};

/* Called for each frame outwards; the CFA the context gives is the one of
 * the frame it left, right above which this frame's return address lies.
 * The allocator's own frames come first (the entry point's among them,
 * unless it jumped on), up to the first frame that resumes at `ra`. */
static _Unwind_Reason_Code collect(struct _Unwind_Context *context, void *arg)
{
    struct walk *w = arg;
    int before = 0;
    uint64_t ip = (uint64_t)_Unwind_GetIPInfo(context, &before);
    uint64_t below = (uint64_t)_Unwind_GetCFA(context);
    if (!w->depth) {
        if (ip != w->ra || before)
            return ++w->skipped > 16 ? _URC_END_OF_STACK : _URC_NO_REASON;
        w->cfa = below;
    }
    if (!ip)
        return _URC_END_OF_STACK;
    if (before || *(const uint64_t *)(uintptr_t)(below - 8) != ip)
        w->memoable = false;
    w->frames[w->depth] = ip;
    w->slots[w->depth] = (int64_t)(below - 8 - w->cfa);
    return ++w->depth == w->max ? _URC_END_OF_STACK : _URC_NO_REASON;
}

/* How many of the frames lie above the C library's start of the program:
 * __libc_start_main, and the frame of its own that called main, are left
 * out, as gdb's backtrace stops at main. They say nothing, and the memo
 * need not read them again. */
static uint32_t above_start(const uint64_t *frames, uint32_t depth)
{
    for (uint32_t i = 1; i < depth; i++) {
        Dl_info info, before;
        if (!dladdr((void *)(uintptr_t)frames[i], &info) || !info.dli_sname ||
            strcmp(info.dli_sname, "__libc_start_main") != 0)
            continue;
        bool same = dladdr((void *)(uintptr_t)frames[i - 1], &before) && before.dli_fbase == info.dli_fbase;
        return same && i > 1 ? i - 1 : i;
    }
    return depth;
}

/* Walks the stack for a site its entry point marked unwalked, stores it,
 * and tells the memo. The first call of the process reads the options. */
void *ant_site_walked(void *marked)
{
    uint64_t ra = (uint64_t)(uintptr_t)marked & ~ANT_SITE_UNWALKED;
    ant_ensure_init();
    if (!ant_stack_depth || walking)
        return (void *)(uintptr_t)ra;
    struct walk w = {.ra = ra, .max = ant_stack_depth, .memoable = true};
    walking = true;
    _Unwind_Backtrace(collect, &w);
    walking = false;
    w.depth = above_start(w.frames, w.depth);
    if (!w.depth)
        return (void *)(uintptr_t)ra;
    uint64_t site = ant_stacks_add(w.frames, w.depth);
    if (!site)
        return (void *)(uintptr_t)ra;
    struct ant_memo *m = memo_mine();
    if (m && w.memoable) {
        uint64_t cfa = w.cfa;
        struct ant_memo_entry *e = (struct ant_memo_entry *)(uintptr_t)ant_memo_entry(m, ra, cfa);
        e->ra = 0;
        __atomic_signal_fence(__ATOMIC_SEQ_CST);
        struct ant_memo_frame *f = e->frames;
        for (uint32_t i = 1; i < w.depth; i++)
            *f++ = (struct ant_memo_frame){(const uint64_t *)(uintptr_t)(cfa + (uint64_t)w.slots[i]), w.frames[i]};
        e->end = f;
        e->site = site;
        e->cfa = cfa;
        __atomic_signal_fence(__ATOMIC_SEQ_CST);
        e->ra = ra;
    }
    return (void *)(uintptr_t)site;
}
