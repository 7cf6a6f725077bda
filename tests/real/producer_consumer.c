/*
 * producer_consumer.c: threads that free what other threads allocated.
 *
 * Producers allocate messages of random sizes, fill them with a pattern
 * derived from their number and pass them through a bounded queue;
 * consumers verify and free them. The printed total is the same under any
 * correct allocator, so the output under Ant is compared with glibc's.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PRODUCERS 3
#define CONSUMERS 3
#define MESSAGES 200000
#define QUEUE 1024

struct message {
    uint64_t number;
    size_t length;
    unsigned char bytes[];
};

static struct message *queue[QUEUE];
static size_t head, tail, count;
static int producers_left = PRODUCERS;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t not_full = PTHREAD_COND_INITIALIZER;
static pthread_cond_t not_empty = PTHREAD_COND_INITIALIZER;
static uint64_t checksum;
static int bad;

static uint64_t next_random(uint64_t *state)
{
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return *state;
}

static void *produce(void *arg)
{
    uint64_t state = 0x9e3779b97f4a7c15ull * (uint64_t)(uintptr_t)arg + 1;
    for (uint64_t i = 0; i < MESSAGES; i++) {
        size_t length = next_random(&state) % 2000;
        struct message *m = malloc(sizeof *m + length);
        if (!m)
            abort();
        m->number = i * PRODUCERS + (uint64_t)(uintptr_t)arg;
        m->length = length;
        memset(m->bytes, (int)(m->number & 0xff), length);
        pthread_mutex_lock(&lock);
        while (count == QUEUE)
            pthread_cond_wait(&not_full, &lock);
        queue[tail] = m;
        tail = (tail + 1) % QUEUE;
        count++;
        pthread_cond_signal(&not_empty);
        pthread_mutex_unlock(&lock);
    }
    pthread_mutex_lock(&lock);
    producers_left--;
    pthread_cond_broadcast(&not_empty);
    pthread_mutex_unlock(&lock);
    return 0;
}

static void *consume(void *arg)
{
    (void)arg;
    for (;;) {
        pthread_mutex_lock(&lock);
        while (count == 0 && producers_left)
            pthread_cond_wait(&not_empty, &lock);
        if (count == 0) {
            pthread_mutex_unlock(&lock);
            return 0;
        }
        struct message *m = queue[head];
        head = (head + 1) % QUEUE;
        count--;
        pthread_cond_signal(&not_full);
        pthread_mutex_unlock(&lock);

        uint64_t sum = m->number;
        for (size_t i = 0; i < m->length; i++) {
            if (m->bytes[i] != (m->number & 0xff))
                __atomic_store_n(&bad, 1, __ATOMIC_RELAXED);
            sum += m->bytes[i];
        }
        __atomic_add_fetch(&checksum, sum, __ATOMIC_RELAXED);
        free(m);
    }
}

int main(void)
{
    pthread_t threads[PRODUCERS + CONSUMERS];
    for (uintptr_t i = 0; i < PRODUCERS; i++)
        pthread_create(&threads[i], 0, produce, (void *)i);
    for (uintptr_t i = 0; i < CONSUMERS; i++)
        pthread_create(&threads[PRODUCERS + i], 0, consume, 0);
    for (size_t i = 0; i < PRODUCERS + CONSUMERS; i++)
        pthread_join(threads[i], 0);
    printf("messages %d checksum %llu %s\n", PRODUCERS * MESSAGES, (unsigned long long)checksum,
           bad ? "CORRUPT" : "intact");
    return bad;
}
