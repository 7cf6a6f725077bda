/*
 * leaks.c: blocks reachable only from one kind of root each, and leaks of
 * each kind, for ant-leaks and ant-refs to find.
 *
 * Usage: leaks FILE
 *
 * Writes to FILE one line per planted block, "KIND ROOT MEM": KIND is
 * reachable, definite, indirect or possible as memcheck would say, ROOT
 * names what holds it. Then stops in leaks_stop() (a breakpoint) with one
 * block held in register r12 alone. Pointers to lost blocks are made in
 * functions that return before the stop, so none lingers above a stack
 * pointer; the file holds addresses as text only.
 */
#define _GNU_SOURCE
#include <ant/ant.h>

#ifndef __x86_64__
#error "leaks.c holds a block in x86-64's r12; tests/gdb/CMakeLists.txt builds it there only"
#endif

#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

void leaks_keep(void *mem);
__attribute__((noinline)) void leaks_stop(void);
__attribute__((noinline)) void *leaks_register_block(void);

static FILE *out;
void *keep_global;
char *keep_interior; /* into a block: it is only possibly reachable */
static __thread void *keep_tls;
static sem_t started, forever;

static void *planted(const char *kind, const char *root, size_t size)
{
    void *mem = ant_malloc(size);
    if (!mem) {
        perror("ant_malloc");
        exit(2);
    }
    memset(mem, 0, size);
    fprintf(out, "%s %s %llu\n", kind, root, (unsigned long long)(uintptr_t)mem);
    return mem;
}

void leaks_stop(void)
{
    __asm__ volatile("" ::: "memory");
}

void *leaks_register_block(void)
{
    void *mem = planted("reachable", "register", 40);
    fflush(out);
    return mem;
}

static void *worker(void *unused)
{
    (void)unused;
    keep_tls = planted("reachable", "thread-tls", 48);
    void *volatile on_stack = planted("reachable", "thread-stack", 56);
    sem_post(&started);
    sem_wait(&forever);
    return on_stack;
}

/* Leaks of every kind; each pointer to them dies with this frame. */
__attribute__((noinline)) static void lose(void)
{
    planted("definite", "none", 100);
    void **head = planted("definite", "none", 64);
    void **child = planted("indirect", "head", 64);
    head[0] = child;
    child[1] = (char *)planted("indirect", "child-interior", 80) + 8;
    /* A cycle that nothing reaches: memcheck calls the lower one definite. */
    void **a = ant_malloc(48), **b = ant_malloc(48);
    a[0] = b;
    b[0] = a;
    fprintf(out, "%s cycle %llu\n%s cycle %llu\n", a < b ? "definite" : "indirect", (unsigned long long)(uintptr_t)a,
            a < b ? "indirect" : "definite", (unsigned long long)(uintptr_t)b);
    planted("definite", "none-big", 300000);
    void **possible = planted("possible", "global-interior", 96);
    keep_interior = (char *)possible + 16;
    possible[2] = planted("possible", "possible-block", 32);
    void *gone = ant_malloc(64);
    ant_free(gone); /* free or cached: never a leak */
}

/* Blocks each reachable from one kind of root. */
__attribute__((noinline)) static void keep(void **area, void **other)
{
    void **global = planted("reachable", "global", 72);
    keep_global = global;
    global[3] = planted("reachable", "block", 24);
    leaks_keep(planted("reachable", "library-static", 88));
    keep_tls = planted("reachable", "tls", 120);
    area[5] = planted("reachable", "mmap", 16);
    other[1] = planted("reachable", "other-allocator", 200);
    void **big = planted("reachable", "global-big", 400000);
    global[4] = big;
    big[1000] = planted("reachable", "big-block", 8);
}

/* Overwrites the stack below, where the frames that made leaks were. */
__attribute__((noinline)) static void scrub(void)
{
    volatile char dirt[65536];
    memset((char *)dirt, 0, sizeof dirt);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: leaks FILE\n");
        return 2;
    }
    out = fopen(argv[1], "w");
    if (!out) {
        perror(argv[1]);
        return 2;
    }
    void **area = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    void **other = malloc(64);
    if (area == MAP_FAILED || !other)
        return 2;
    sem_init(&started, 0, 0);
    sem_init(&forever, 0, 0);
    pthread_t thread;
    if (pthread_create(&thread, 0, worker, 0))
        return 2;
    sem_wait(&started);
    keep(area, other);
    lose();
    void *volatile on_stack = planted("reachable", "stack", 32);
    scrub();
    /* The register block's pointer lives in r12 alone, across the stop. */
    __asm__ volatile("call leaks_register_block\n\t"
                     "mov %%rax, %%r12\n\t"
                     "xor %%eax, %%eax\n\t"
                     "call leaks_stop\n\t"
                     "xor %%r12d, %%r12d" ::
                         : "rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "memory", "cc", "xmm0",
                           "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11",
                           "xmm12", "xmm13", "xmm14", "xmm15");
    (void)on_stack;
    fclose(out);
    return 0;
}
