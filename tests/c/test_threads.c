/*
 * test_threads.c: threads that allocate, and threads that free what others
 * allocated. Producers fill messages of random sizes (a few big ones among
 * them) with a pattern of their number and pass them through a bounded
 * queue; consumers verify each one, grow some with realloc, verify again and
 * free them. Every thread also allocates and frees its own blocks, and an
 * observer runs ant_check(), ant_stats() and ant_walk() all along. At the
 * end the heap is empty and sound.
 */
#include "check.h"

#include <ant/ant.h>
#include <pthread.h>
#include <time.h>

#define PRODUCERS 3
#define CONSUMERS 3
#define MESSAGES 30000 /* per producer */
#define QUEUE 256

struct message {
    uint64_t number;
    size_t length;
    unsigned char bytes[];
};

static struct message *queue[QUEUE];
static size_t head, tail, count;
static int producers_left = PRODUCERS;
static int observing = 1;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t not_full = PTHREAD_COND_INITIALIZER;
static pthread_cond_t not_empty = PTHREAD_COND_INITIALIZER;

static uint64_t step(uint64_t *state)
{
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return *state;
}

static size_t message_length(uint64_t *rng)
{
    uint64_t r = step(rng) % 10000;
    if (r == 0)
        return 300000 + step(rng) % 100000;
    return step(rng) % (r < 9000 ? 256 : 4096);
}

static unsigned char byte_of(uint64_t number, size_t i)
{
    return (unsigned char)(number * 7 + i);
}

static void verify(const struct message *m)
{
    for (size_t i = 0; i < m->length; i++)
        CHECK_EQ(m->bytes[i], byte_of(m->number, i));
}

/* Blocks of its own, allocated and freed on one thread. */
static void churn(uint64_t *rng)
{
    size_t n = step(rng) % 512;
    unsigned char *p = ant_malloc(n);
    CHECK(p != 0);
    memset(p, 0x5c, n);
    p = ant_realloc(p, n + 1 + step(rng) % 512);
    CHECK(p != 0);
    for (size_t i = 0; i < n; i++)
        CHECK_EQ(p[i], 0x5c);
    ant_free(p);
}

static void *produce(void *arg)
{
    uint64_t id = (uint64_t)(uintptr_t)arg;
    uint64_t rng = 0x9e3779b97f4a7c15ull * (id + 1);
    for (uint64_t k = 0; k < MESSAGES; k++) {
        size_t length = message_length(&rng);
        struct message *m = ant_malloc(sizeof *m + length);
        CHECK(m != 0);
        m->number = id * MESSAGES + k;
        m->length = length;
        for (size_t i = 0; i < length; i++)
            m->bytes[i] = byte_of(m->number, i);
        pthread_mutex_lock(&lock);
        while (count == QUEUE)
            pthread_cond_wait(&not_full, &lock);
        queue[tail] = m;
        tail = (tail + 1) % QUEUE;
        count++;
        pthread_cond_signal(&not_empty);
        pthread_mutex_unlock(&lock);
        churn(&rng);
    }
    pthread_mutex_lock(&lock);
    producers_left--;
    pthread_cond_broadcast(&not_empty);
    pthread_mutex_unlock(&lock);
    return 0;
}

static void *consume(void *arg)
{
    uint64_t rng = 0xd1b54a32d192ed03ull * ((uint64_t)(uintptr_t)arg + 1);
    size_t *received = malloc(sizeof *received);
    CHECK(received != 0);
    *received = 0;
    for (;;) {
        pthread_mutex_lock(&lock);
        while (count == 0 && producers_left > 0)
            pthread_cond_wait(&not_empty, &lock);
        if (count == 0) {
            pthread_mutex_unlock(&lock);
            return received;
        }
        struct message *m = queue[head];
        head = (head + 1) % QUEUE;
        count--;
        pthread_cond_signal(&not_full);
        pthread_mutex_unlock(&lock);

        verify(m);
        CHECK_EQ(ant_usable_size(m), sizeof *m + m->length);
        if (step(&rng) % 4 == 0) {
            size_t more = step(&rng) % 1024;
            m = ant_realloc(m, sizeof *m + m->length + more);
            CHECK(m != 0);
            verify(m);
        }
        ant_free(m);
        (*received)++;
        churn(&rng);
    }
}

static int count_block(const ant_block_info_t *block, void *arg)
{
    (void)block;
    (*(size_t *)arg)++;
    return 0;
}

static void *observe(void *arg)
{
    (void)arg;
    while (__atomic_load_n(&observing, __ATOMIC_ACQUIRE)) {
        CHECK_EQ(ant_check(), 0);
        ant_stats_t s;
        ant_stats(&s);
        size_t blocks = 0;
        ant_walk(count_block, &blocks);
        CHECK(blocks > 0 || s.used_blocks + s.free_blocks == 0);
        /* Each check holds every arena lock for its length, and locks are
         * not fair: looping without a pause, the observer would take them
         * back before a waiting thread wakes, and starve it. */
        nanosleep(&(struct timespec){0, 200000}, 0);
    }
    return 0;
}

int main(void)
{
    pthread_t producers[PRODUCERS], consumers[CONSUMERS], observer;
    CHECK(pthread_create(&observer, 0, observe, 0) == 0);
    for (uintptr_t i = 0; i < CONSUMERS; i++)
        CHECK(pthread_create(&consumers[i], 0, consume, (void *)i) == 0);
    for (uintptr_t i = 0; i < PRODUCERS; i++)
        CHECK(pthread_create(&producers[i], 0, produce, (void *)i) == 0);
    for (int i = 0; i < PRODUCERS; i++)
        CHECK(pthread_join(producers[i], 0) == 0);
    size_t received = 0;
    for (int i = 0; i < CONSUMERS; i++) {
        void *n;
        CHECK(pthread_join(consumers[i], &n) == 0);
        received += *(size_t *)n;
        free(n);
    }
    __atomic_store_n(&observing, 0, __ATOMIC_RELEASE);
    CHECK(pthread_join(observer, 0) == 0);

    CHECK_EQ(received, (size_t)PRODUCERS * MESSAGES);
    CHECK_EQ(ant_check(), 0);
    ant_stats_t s;
    ant_stats(&s);
    CHECK_EQ(s.used_blocks, 0);
    CHECK_EQ(s.allocations, s.frees);
    return 0;
}
