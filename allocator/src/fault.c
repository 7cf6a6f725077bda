/*
 * fault.c: the SIGSEGV handler that names a fault in a guard page or in a
 * freed mapping kept inaccessible (root.kept), and passes every other
 * fault on.
 *
 * It is installed when the first guarded block is made or the first freed
 * big block kept, and remembers the action it replaced. A program that
 * installs its own SIGSEGV handler later replaces it in turn; the next
 * guarded allocation or kept free finds that out (one sigaction call,
 * beside the mmap it makes anyway), installs this handler again and from
 * then on passes the program's faults to the program's handler. Until
 * then a fault in a guard page goes to the program's handler alone. A
 * program's handler that itself passes faults on to the action it
 * replaced (this one) gets them back once: the second time round the same
 * fault takes the default action.
 *
 * A fault it names is reported like any other problem (report.c) and
 * ends in abort(), for the core: the access cannot be let through.
 */
#include "internal.h"

#include <signal.h>
#include <stdlib.h>
#include <ucontext.h>

static struct sigaction passed_to;
static int arm_lock;
/* The fault being passed on in this thread, to know it when it comes back. */
static __thread const siginfo_t *passing;
static __thread void *passing_addr;

static void default_action(int sig, const siginfo_t *info)
{
    struct sigaction dfl = {.sa_handler = SIG_DFL};
    sigemptyset(&dfl.sa_mask);
    sigaction(sig, &dfl, 0);
    /* A fault comes back when the handler returns; a signal sent by a
     * process would not. */
    if (info->si_code <= 0)
        raise(sig);
}

static void pass_on(int sig, siginfo_t *info, void *context)
{
    struct sigaction next = passed_to;
    if ((passing == info && passing_addr == info->si_addr) || next.sa_handler == SIG_DFL ||
        next.sa_handler == SIG_IGN) {
        default_action(sig, info);
        return;
    }
    passing = info;
    passing_addr = info->si_addr;
    if (next.sa_flags & SA_SIGINFO)
        next.sa_sigaction(sig, info, context);
    else
        next.sa_handler(sig);
    passing = 0;
}

/* Bit 1 of x86-64's page-fault error code: the access was a write. */
static const char *access_of(const void *context)
{
#if defined(__x86_64__)
    const ucontext_t *uc = context;
    return uc->uc_mcontext.gregs[REG_ERR] & 2 ? "write" : "read";
#else
    (void)context;
    return "access";
#endif
}

static void on_fault(int sig, siginfo_t *info, void *context)
{
    const struct ant_kept *k = info->si_code > 0 ? ant_kept_at(info->si_addr) : 0;
    if (!k) {
        pass_on(sig, info, context);
        return;
    }
    int kind = ANT_PROBLEM_USE_AFTER_FREE;
    if (k->state == ANT_KEPT_GUARDED)
        kind = (uint64_t)(uintptr_t)info->si_addr < k->mem ? ANT_PROBLEM_UNDERFLOW : ANT_PROBLEM_OVERFLOW;
    ant_report_kept(kind, access_of(context), k, info->si_addr, 0);
    abort();
}

void ant_fault_arm(void)
{
    while (__atomic_exchange_n(&arm_lock, 1, __ATOMIC_ACQUIRE))
        ant_cpu_relax();
    struct sigaction now;
    if (!sigaction(SIGSEGV, 0, &now) && !((now.sa_flags & SA_SIGINFO) && now.sa_sigaction == on_fault)) {
        struct sigaction mine = {.sa_sigaction = on_fault, .sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART};
        sigemptyset(&mine.sa_mask);
        /* The handler may run between these two calls: it passes on to the
         * action that was there, as it should. */
        passed_to = now;
        sigaction(SIGSEGV, &mine, 0);
    }
    __atomic_store_n(&arm_lock, 0, __ATOMIC_RELEASE);
}
