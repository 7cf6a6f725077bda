/*
 * cross_thread.c: two threads, every block freed by the thread that did not
 * allocate it. A producer allocates and fills blocks of 16-512 bytes and
 * hands them over in batches; a consumer checks and frees them. Batches keep
 * the hand-over cheap, so the time is the allocator's: how it takes back a
 * block that another thread's arena or cache owns.
 *
 * Usage: cross_thread [blocks]
 */
#define _POSIX_C_SOURCE 200809L
#include "workload.h"

#include <pthread.h>
#include <string.h>

#define BATCH 256
#define QUEUE 16 /* batches in flight: a few hundred KiB live at most */

typedef struct {
    unsigned char *block[BATCH];
    size_t count;
} batch_t;

static struct {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    batch_t ring[QUEUE];
    size_t head, tail; /* batches put, batches taken */
    int done;
} queue = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, {{{0}, 0}}, 0, 0, 0};

static size_t total_blocks;

static void put(const batch_t *b)
{
    pthread_mutex_lock(&queue.lock);
    while (queue.head - queue.tail == QUEUE)
        pthread_cond_wait(&queue.changed, &queue.lock);
    queue.ring[queue.head % QUEUE] = *b;
    queue.head++;
    pthread_cond_broadcast(&queue.changed);
    pthread_mutex_unlock(&queue.lock);
}

/* Zero when the producer is done and the queue is empty. */
static int take(batch_t *b)
{
    pthread_mutex_lock(&queue.lock);
    while (queue.head == queue.tail && !queue.done)
        pthread_cond_wait(&queue.changed, &queue.lock);
    int got = queue.head != queue.tail;
    if (got) {
        *b = queue.ring[queue.tail % QUEUE];
        queue.tail++;
        pthread_cond_broadcast(&queue.changed);
    }
    pthread_mutex_unlock(&queue.lock);
    return got;
}

/* A block starts with its own size and ends with a tag byte, so the
 * consumer can check it without any table shared with the producer. */
static void *produce(void *arg)
{
    rng_t rng = {0x5eed0003};
    batch_t b = {{0}, 0};
    (void)arg;
    for (size_t i = 0; i < total_blocks; i++) {
        size_t n = rng_range(&rng, 16, 512);
        unsigned char *p = must(malloc(n), "cross_thread");
        memcpy(p, &n, sizeof n);
        memset(p + sizeof n, (int)(i & 0xff), n - sizeof n);
        b.block[b.count++] = p;
        if (b.count == BATCH) {
            put(&b);
            b.count = 0;
        }
    }
    if (b.count)
        put(&b);
    pthread_mutex_lock(&queue.lock);
    queue.done = 1;
    pthread_cond_broadcast(&queue.changed);
    pthread_mutex_unlock(&queue.lock);
    return 0;
}

static void *consume(void *arg)
{
    uint64_t *sum = arg;
    batch_t b;
    size_t seen = 0;
    while (take(&b)) {
        for (size_t i = 0; i < b.count; i++, seen++) {
            unsigned char *p = b.block[i];
            size_t n;
            memcpy(&n, p, sizeof n);
            if (n < 16 || n > 512 || p[n - 1] != (unsigned char)(seen & 0xff))
                corrupt("cross_thread", seen);
            *sum = mix(*sum, n + p[n - 1]);
            free(p);
        }
    }
    if (seen != total_blocks)
        corrupt("cross_thread", seen);
    return 0;
}

int main(int argc, char **argv)
{
    total_blocks = scale_arg(argc, argv, 3000000);
    uint64_t sum = 0;
    pthread_t producer, consumer;
    if (pthread_create(&consumer, 0, consume, &sum) || pthread_create(&producer, 0, produce, 0)) {
        fprintf(stderr, "cross_thread: cannot start the threads\n");
        return 2;
    }
    pthread_join(producer, 0);
    pthread_join(consumer, 0);
    print_checksum("cross_thread", sum);
    return 0;
}
