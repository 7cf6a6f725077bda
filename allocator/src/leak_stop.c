/*
 * leak_stop.c: the other threads held still while the leak check reads
 * memory, and what their registers held.
 *
 * No thread may ptrace another of its own process, so each is sent a
 * signal instead. Its handler copies the registers the signal interrupted
 * (the ucontext) into the thread's record, says it is parked, and waits on
 * a futex until the check lets it go. A thread blocked in a system call is
 * interrupted like any other: the call restarts when the handler returns,
 * or fails with EINTR where the kernel never restarts it (nanosleep, poll).
 *
 * The signal is the highest real-time one that the program leaves at its
 * default; the handler stays installed once set, so that a stop signal
 * delivered late (to a thread that blocked it, then unblocked it) finds no
 * record waiting for it and returns. For the same reason the records'
 * mapping is never unmapped: a late handler may still read it.
 *
 * The caller holds every arena lock before it stops anyone, so no thread
 * parks inside a change made under an arena's lock; one parked inside a
 * thread cache's change is named by its cache.busy, which the check
 * allows for.
 */
#include "leak.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* A record's state: the check wants the thread, the thread is saving its
 * registers, is parked, has left the handler; or the thread ended, or
 * did not stop. */
enum { WANTED = 1, PARKING, PARKED, LEFT, GONE, UNSTOPPED };

/* How long a thread may take to stop: one whose mask blocks the signal
 * is given up on after the first wait, any other after the last. */
#define FIRST_WAIT_NS 100000000ll
#define LAST_WAIT_NS 3000000000ll
/* Rounds of listing the threads: stopped threads start no new ones, so
 * a round finds new threads only where one did not stop. */
#define ROUNDS 8u

static struct ant_leak_thread *records;
static unsigned record_count;
static unsigned record_capacity;
static struct ant_leak_range records_range;
/* Raised to let the parked threads go; they wait on it. */
static unsigned go;
static int stop_signal;

static long long now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000000000ll + t.tv_nsec;
}

static int tid_now(void)
{
    return (int)syscall(SYS_gettid);
}

static int signal_thread(int tid, int signal)
{
    return (int)syscall(SYS_tgkill, getpid(), tid, signal);
}

void ant_leak_regs_of(const ucontext_t *context, struct ant_leak_regs *out)
{
    *out = (struct ant_leak_regs){{0}, 0};
    const mcontext_t *m = &context->uc_mcontext;
#if defined(__x86_64__)
    _Static_assert(NGREG + 32 <= ANT_LEAK_REGS, "registers");
    for (unsigned i = 0; i < NGREG; i++)
        out->words[i] = (uint64_t)m->gregs[i];
    /* A struct copied through xmm registers holds its pointers there. */
    if (m->fpregs)
        memcpy(&out->words[NGREG], m->fpregs->_xmm, 16 * 16);
    out->sp = (uintptr_t)m->gregs[REG_RSP];
#elif defined(__aarch64__)
    _Static_assert(31 + 2 <= ANT_LEAK_REGS, "registers");
    for (unsigned i = 0; i < 31; i++)
        out->words[i] = m->regs[i];
    out->words[31] = m->sp;
    out->words[32] = m->pc;
    out->sp = (uintptr_t)m->sp;
#else
#error "the leak check reads the registers of x86-64 and AArch64 only"
#endif
}

static struct ant_leak_thread *record_of(int tid)
{
    struct ant_leak_thread *r = __atomic_load_n(&records, __ATOMIC_ACQUIRE);
    unsigned n = __atomic_load_n(&record_count, __ATOMIC_ACQUIRE);
    for (unsigned i = 0; i < n; i++)
        if (__atomic_load_n(&r[i].tid, __ATOMIC_ACQUIRE) == tid)
            return &r[i];
    return 0;
}

/* Runs in the stopped thread: async-signal-safe, and nothing but system
 * calls and its own record. */
static void on_stop(int signal, siginfo_t *info, void *context)
{
    (void)signal;
    if (info->si_code != SI_TKILL || info->si_pid != getpid())
        return;
    int saved = errno;
    struct ant_leak_thread *r = record_of(tid_now());
    int wanted = WANTED;
    if (r && __atomic_compare_exchange_n(&r->state, &wanted, PARKING, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        ant_leak_regs_of(context, &r->regs);
        unsigned round = __atomic_load_n(&go, __ATOMIC_ACQUIRE);
        __atomic_store_n(&r->state, PARKED, __ATOMIC_RELEASE);
        while (__atomic_load_n(&go, __ATOMIC_ACQUIRE) == round)
            syscall(SYS_futex, &go, FUTEX_WAIT_PRIVATE, round, 0, 0, 0);
        __atomic_store_n(&r->state, LEFT, __ATOMIC_RELEASE);
    }
    errno = saved;
}

/* The signal, installed once: the highest real-time signal the program
 * has not taken, or the one taken before if the handler is still ours. */
static int pick_signal(void)
{
    struct sigaction old;
    if (stop_signal && sigaction(stop_signal, 0, &old) == 0 && (old.sa_flags & SA_SIGINFO) &&
        old.sa_sigaction == on_stop)
        return stop_signal;
    for (int s = SIGRTMAX; s > SIGRTMIN; s--) {
        if (sigaction(s, 0, &old) != 0 || (old.sa_flags & SA_SIGINFO) || old.sa_handler != SIG_DFL)
            continue;
        struct sigaction sa = {.sa_sigaction = on_stop, .sa_flags = SA_SIGINFO | SA_RESTART};
        sigfillset(&sa.sa_mask);
        if (sigaction(s, &sa, 0) == 0)
            return stop_signal = s;
    }
    return stop_signal = 0;
}

/* Decimal digits of a thread id into `out`, NUL-ended. */
static char *put_id(char *out, int id)
{
    char digits[12];
    size_t n = 0;
    do {
        digits[n++] = (char)('0' + id % 10);
        id /= 10;
    } while (id);
    while (n)
        *out++ = digits[--n];
    *out = 0;
    return out;
}

/* Whether the thread's mask blocks the signal, from its SigBlk line in
 * /proc; false if that cannot be read. */
static bool blocks_signal(int tid, int signal)
{
    char path[64] = "/proc/self/task/";
    char *end = put_id(path + strlen(path), tid);
    memcpy(end, "/status", sizeof "/status");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    char text[4096];
    ssize_t n = read(fd, text, sizeof text - 1);
    close(fd);
    if (n <= 0)
        return false;
    text[n] = 0;
    const char *line = strstr(text, "SigBlk:");
    if (!line)
        return false;
    line += strlen("SigBlk:");
    while (*line == ' ' || *line == '\t')
        line++;
    uint64_t mask = 0;
    for (; (*line >= '0' && *line <= '9') || (*line >= 'a' && *line <= 'f'); line++)
        mask = mask << 4 | (uint64_t)(*line <= '9' ? *line - '0' : *line - 'a' + 10);
    return (mask >> (signal - 1)) & 1;
}

struct task_entry {
    uint64_t ino;
    int64_t off;
    unsigned short reclen;
    unsigned char type;
    char name[];
};

/* Calls want(tid) for every thread of the process but this one; false if
 * they cannot be listed. */
static bool each_thread(void (*want)(int tid, struct ant_leak_world *w), struct ant_leak_world *w)
{
    int fd = open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return false;
    int me = tid_now();
    char buffer[4096] __attribute__((aligned(8)));
    long n;
    while ((n = syscall(SYS_getdents64, fd, buffer, sizeof buffer)) > 0) {
        for (long at = 0; at < n;) {
            const struct task_entry *e = (const struct task_entry *)(const void *)(buffer + at);
            int tid = 0;
            for (const char *c = e->name; *c >= '0' && *c <= '9'; c++)
                tid = tid * 10 + (*c - '0');
            if (tid > 0 && tid != me)
                want(tid, w);
            at += e->reclen;
        }
    }
    close(fd);
    return n == 0;
}

/* Records a thread not yet recorded, then signals it. */
static void want_thread(int tid, struct ant_leak_world *w)
{
    for (unsigned i = 0; i < record_count; i++)
        if (records[i].tid == tid)
            return;
    if (record_count == record_capacity) {
        w->unstopped++;
        return;
    }
    struct ant_leak_thread *r = &records[record_count];
    __atomic_store_n(&r->tid, tid, __ATOMIC_RELEASE);
    __atomic_store_n(&r->state, WANTED, __ATOMIC_RELEASE);
    __atomic_store_n(&record_count, record_count + 1, __ATOMIC_RELEASE);
    if (signal_thread(tid, w->signal) != 0)
        __atomic_store_n(&r->state, GONE, __ATOMIC_RELEASE);
}

/* Gives up on a thread still WANTED; false if it began to park. */
static bool give_up(struct ant_leak_thread *r, int state)
{
    int wanted = WANTED;
    return __atomic_compare_exchange_n(&r->state, &wanted, state, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

/* Waits until no record is WANTED or PARKING. */
static void wait_parked(struct ant_leak_world *w)
{
    long long start = now_ns();
    for (;;) {
        bool waiting = false;
        long long waited = now_ns() - start;
        for (unsigned i = 0; i < record_count; i++) {
            struct ant_leak_thread *r = &records[i];
            int state = __atomic_load_n(&r->state, __ATOMIC_ACQUIRE);
            if (state == PARKING)
                waiting = true;
            if (state != WANTED)
                continue;
            if (signal_thread(r->tid, 0) != 0 && give_up(r, GONE))
                continue;
            if (((waited > FIRST_WAIT_NS && blocks_signal(r->tid, w->signal)) || waited > LAST_WAIT_NS) &&
                give_up(r, UNSTOPPED)) {
                w->unstopped++;
                continue;
            }
            waiting = true;
        }
        if (!waiting)
            return;
        struct timespec pause = {0, 100000};
        nanosleep(&pause, 0);
    }
}

/* The threads of the process, this one included. */
static unsigned count_threads(void)
{
    unsigned threads = 0;
    int fd = open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    char buffer[4096] __attribute__((aligned(8)));
    long n;
    while ((n = syscall(SYS_getdents64, fd, buffer, sizeof buffer)) > 0)
        for (long at = 0; at < n; at += ((const struct task_entry *)(const void *)(buffer + at))->reclen)
            threads += ((const struct task_entry *)(const void *)(buffer + at))->name[0] != '.';
    close(fd);
    return threads;
}

/* Records for twice the threads there are now, and room for more to
 * appear while they stop; a mapping too small is kept, not unmapped. */
static bool make_records(unsigned threads)
{
    unsigned want = 2 * threads + 256;
    __atomic_store_n(&record_count, 0, __ATOMIC_RELEASE);
    if (want <= record_capacity)
        return true;
    size_t bytes = ((size_t)want * sizeof *records + ant_page_size - 1) & ~(ant_page_size - 1);
    struct ant_leak_thread *r = ant_os_map(bytes);
    if (!r)
        return false;
    __atomic_store_n(&records, r, __ATOMIC_RELEASE);
    record_capacity = (unsigned)(bytes / sizeof *records);
    records_range = (struct ant_leak_range){(uintptr_t)r, (uintptr_t)r + bytes};
    return true;
}

/*
 * A process whose /proc cannot be read, or that has other threads but no
 * free signal or no memory for their records, counts one thread unstopped:
 * the check then says so and judges nothing. So does one that still
 * starts threads after the last round.
 */
void ant_leak_stop(struct ant_leak_world *w)
{
    *w = (struct ant_leak_world){.signal = 0};
    unsigned threads = count_threads();
    if (threads == 1)
        return;
    w->signal = threads ? pick_signal() : 0;
    if (!w->signal || !make_records(threads)) {
        w->unstopped = 1;
        return;
    }
    bool settled = false;
    for (unsigned round = 0; round < ROUNDS && !settled; round++) {
        unsigned known = record_count;
        if (!each_thread(want_thread, w))
            break;
        settled = record_count == known;
        if (!settled)
            wait_parked(w);
    }
    if (!settled)
        w->unstopped++;
    w->threads = records;
    w->count = record_count;
    w->records = records_range;
}

bool ant_leak_stopped(const struct ant_leak_thread *thread)
{
    return __atomic_load_n(&thread->state, __ATOMIC_ACQUIRE) == PARKED;
}

/* Lets the parked threads go, and waits until each has left the handler,
 * so that its record can be reused by the next check. */
void ant_leak_resume(struct ant_leak_world *w)
{
    if (!w->threads)
        return;
    __atomic_add_fetch(&go, 1, __ATOMIC_RELEASE);
    syscall(SYS_futex, &go, FUTEX_WAKE_PRIVATE, 0x7fffffff, 0, 0, 0);
    for (unsigned i = 0; i < w->count; i++) {
        /* A record outlives the check, and a mapping of records that a
         * later check outgrows is not among that check's skipped ranges:
         * stale registers there must keep no block alive. */
        while (__atomic_load_n(&w->threads[i].state, __ATOMIC_ACQUIRE) == PARKED)
            sched_yield();
        w->threads[i].regs = (struct ant_leak_regs){{0}, 0};
    }
}
