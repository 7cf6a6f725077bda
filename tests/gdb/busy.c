/*
 * busy.c: a correct program that keeps the allocator busy in three threads,
 * for the tests that stop it at random instants (stress.py).
 *
 * The threads swap blocks through shared slots, so most blocks are freed
 * by another thread than the one that allocated them; they allocate,
 * reallocate (shrink, grow, move), calloc, align, and now and then take a
 * big block with a mapping of its own, and a fourth thread comes and goes.
 * Every block holds a pattern made from its address and size, checked
 * before it is freed: the program itself proves the heap serves it right.
 *
 *   busy SECONDS     runs that long (0: until killed), printing "ready"
 *                    once every thread runs.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SLOTS 2048
#define WORKERS 3

static _Atomic(unsigned char *) slots[SLOTS];
static atomic_int running = 1;
static atomic_int started;

static uint64_t next_random(uint64_t *state)
{
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return *state;
}

/* Every block starts with its size, then bytes that depend on where it is. */
static void fill(unsigned char *p, size_t size)
{
    memcpy(p, &size, sizeof size);
    for (size_t i = sizeof size; i < size && i < 256; i++)
        p[i] = (unsigned char)((uintptr_t)p + i);
}

static void verify(const unsigned char *p)
{
    size_t size;
    memcpy(&size, p, sizeof size);
    for (size_t i = sizeof size; i < size && i < 256; i++)
        if (p[i] != (unsigned char)((uintptr_t)p + i)) {
            fprintf(stderr, "busy: block %p of %zu bytes changed at byte %zu\n", (const void *)p, size, i);
            abort();
        }
}

static size_t pick_size(uint64_t *r)
{
    uint64_t x = next_random(r) % 1000;
    if (x < 900)
        return sizeof(size_t) + next_random(r) % 400;
    if (x < 995)
        return 512 + next_random(r) % 16384;
    return (256u << 10) + next_random(r) % (768u << 10);
}

static unsigned char *make(uint64_t *r)
{
    size_t size = pick_size(r);
    unsigned char *p;
    switch (next_random(r) % 8) {
    case 0: p = calloc(1, size); break;
    case 1: p = aligned_alloc(64, (size + 63) & ~(size_t)63); break;
    default: p = malloc(size);
    }
    if (p)
        fill(p, size);
    return p;
}

static unsigned char *change(unsigned char *p, uint64_t *r)
{
    verify(p);
    size_t size = pick_size(r);
    unsigned char *q = realloc(p, size);
    if (!q)
        return p;
    fill(q, size);
    return q;
}

static void work(uint64_t seed, long rounds)
{
    uint64_t r = seed | 1;
    for (long i = 0; atomic_load(&running) && (rounds < 0 || i < rounds); i++) {
        unsigned slot = (unsigned)(next_random(&r) % SLOTS);
        unsigned char *p = atomic_exchange(&slots[slot], NULL);
        if (p && next_random(&r) % 4 == 0)
            p = change(p, &r);
        else if (p) {
            verify(p);
            free(p);
            p = make(&r);
        } else {
            p = make(&r);
        }
        p = atomic_exchange(&slots[slot], p);
        if (p) {
            verify(p);
            free(p);
        }
    }
}

static void *worker(void *arg)
{
    atomic_fetch_add(&started, 1);
    work((uint64_t)(uintptr_t)arg * 0x9e3779b97f4a7c15ull, -1);
    return NULL;
}

/* A thread that lives briefly: its cache is made, filled and given back. */
static void *visitor(void *arg)
{
    work((uint64_t)(uintptr_t)arg * 0xc2b2ae3d27d4eb4full, 2000);
    return NULL;
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 0;
    pthread_t threads[WORKERS];
    for (uintptr_t i = 0; i < WORKERS; i++)
        pthread_create(&threads[i], NULL, worker, (void *)(i + 1));
    while (atomic_load(&started) < WORKERS)
        usleep(1000);
    printf("ready\n");
    fflush(stdout);
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (uintptr_t round = 1;; round++) {
        pthread_t visiting;
        pthread_create(&visiting, NULL, visitor, (void *)round);
        pthread_join(visiting, NULL);
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (seconds > 0 && (double)(now.tv_sec - start.tv_sec) + (now.tv_nsec - start.tv_nsec) / 1e9 > seconds)
            break;
    }
    atomic_store(&running, 0);
    for (int i = 0; i < WORKERS; i++)
        pthread_join(threads[i], NULL);
    for (unsigned i = 0; i < SLOTS; i++) {
        unsigned char *p = atomic_exchange(&slots[i], NULL);
        if (p) {
            verify(p);
            free(p);
        }
    }
    return 0;
}
