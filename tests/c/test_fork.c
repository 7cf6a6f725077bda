/*
 * test_fork.c: fork() from a program whose threads are busy allocating.
 * The allocator holds every arena lock across fork, so the child's copy of
 * the heap is whole and its locks are free: the child allocates, frees and
 * passes ant_check().
 *
 * A thread cache's change does not fence; a fork makes the other threads
 * fence with membarrier(2). With --no-membarrier the test runs again in a
 * process where a seccomp filter refuses that call, as some sandboxes do,
 * and the changes must fence themselves.
 */
#include "check.h"

#include <ant/ant.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define THREADS 3
#define FORKS 40

static int running = 1;

static void *busy(void *arg)
{
    uint64_t rng = (uint64_t)(uintptr_t)arg * 2654435761u + 1;
    void *held[64] = {0};
    while (__atomic_load_n(&running, __ATOMIC_ACQUIRE)) {
        rng = rng * 6364136223846793005ull + 1442695040888963407ull;
        size_t i = (size_t)(rng >> 58);
        ant_free(held[i]);
        held[i] = ant_malloc((size_t)(rng >> 40) % 3000);
        CHECK(held[i] != 0);
    }
    for (size_t i = 0; i < 64; i++)
        ant_free(held[i]);
    return 0;
}

static void child(void)
{
    /* A deadlock shows as SIGALRM rather than a hang. */
    alarm(20);
    void *p[100];
    for (int i = 0; i < 100; i++) {
        p[i] = ant_malloc((size_t)i * 37);
        if (!p[i])
            _exit(2);
        memset(p[i], i, (size_t)i * 37);
    }
    for (int i = 0; i < 100; i += 2)
        ant_free(p[i]);
    void *big = ant_malloc(400000);
    ant_free(big);
    for (int i = 1; i < 100; i += 2)
        ant_free(p[i]);
    _exit(ant_check() == 0 ? 0 : 3);
}

/* Execs this program again with membarrier(2) failing with ENOSYS: the
 * filter holds across exec, so the allocator never sees the call work. */
static int without_membarrier(char **argv)
{
    struct sock_filter code[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_membarrier, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog program = {.len = sizeof code / sizeof *code, .filter = code};
    CHECK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0);
    CHECK(prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) == 0);
    CHECK(syscall(SYS_membarrier, 0, 0, 0) == -1 && errno == ENOSYS);
    char *again[] = {argv[0], 0};
    execv(argv[0], again);
    perror("execv");
    return 1;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--no-membarrier") == 0)
        return without_membarrier(argv);
    pthread_t threads[THREADS];
    for (uintptr_t i = 0; i < THREADS; i++)
        CHECK(pthread_create(&threads[i], 0, busy, (void *)i) == 0);
    for (int k = 0; k < FORKS; k++) {
        pid_t pid = fork();
        CHECK(pid >= 0);
        if (pid == 0)
            child();
        int status;
        CHECK(waitpid(pid, &status, 0) == pid);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fprintf(stderr, "fork %d: child %s %d\n", k, WIFEXITED(status) ? "exited with" : "died of signal",
                    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
            return 1;
        }
    }
    __atomic_store_n(&running, 0, __ATOMIC_RELEASE);
    for (int i = 0; i < THREADS; i++)
        CHECK(pthread_join(threads[i], 0) == 0);
    CHECK_EQ(ant_check(), 0);
    return 0;
}
