/*
 * fork_threads.c: fork() while other threads allocate. The atfork handlers
 * hold the heap's locks across the fork, so the child never inherits a lock
 * taken by a thread that does not exist in it; both sides go on allocating.
 */
#define _POSIX_C_SOURCE 200809L
#include <ant/ant.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile int stop;

static void *churn(void *arg)
{
    unsigned seed = (unsigned)(size_t)arg;
    void *slots[64] = {0};
    while (!stop) {
        unsigned i = (unsigned)rand_r(&seed) % 64;
        free(slots[i]);
        slots[i] = malloc((size_t)rand_r(&seed) % 4096 + 1);
        if (slots[i])
            memset(slots[i], 7, 1);
    }
    for (int i = 0; i < 64; i++)
        free(slots[i]);
    return 0;
}

int main(void)
{
    pthread_t threads[3];
    for (size_t i = 0; i < 3; i++)
        pthread_create(&threads[i], 0, churn, (void *)(i + 1));
    int bad = 0;
    for (int round = 0; round < 200; round++) {
        pid_t pid = fork();
        if (pid == 0) {
            void *blocks[100];
            for (int i = 0; i < 100; i++)
                blocks[i] = malloc((size_t)i * 13);
            for (int i = 0; i < 100; i++)
                free(blocks[i]);
            _exit(ant_check() == 0 ? 0 : 1);
        }
        int status = 0;
        if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status))
            bad++;
    }
    stop = 1;
    for (size_t i = 0; i < 3; i++)
        pthread_join(threads[i], 0);
    bad += ant_check() != 0;
    printf("%d failed, %d passed\n", bad ? 1 : 0, bad ? 0 : 1);
    return bad != 0;
}
