/*
 * cross_free.c: several threads, every block freed by a thread that did
 * not allocate it, in random order, as in mimalloc-bench's xmalloc-test
 * and larson. PRODUCERS threads allocate blocks of 16-128 bytes, fill them
 * and put them on one shared queue, BATCH blocks to a batch (the batch
 * itself a malloc'd block too); CONSUMERS threads take whichever batch
 * comes next, from either producer. A consumer keeps what it takes in a
 * holding array of HOLD slots: each block takes a random slot, and the
 * block that was there is checked and freed. So the frees come in random
 * order, each consumer frees blocks of both producers, and every
 * allocator's cross-thread path (whatever sends a block back to the arena,
 * heap or page that owns it) carries all of them.
 *
 * The blocks each producer makes are fixed by its seed; which consumer
 * frees them, and when, is the scheduler's, so the checksum adds one value
 * a block, in any order.
 *
 * Usage: cross_free [blocks]
 */
#define _POSIX_C_SOURCE 200809L
#include "workload.h"

#include <pthread.h>
#include <string.h>

#define PRODUCERS 2
#define CONSUMERS 2
#define BATCH 1024
#define QUEUE 64  /* batches in flight, at most: 64 Ki blocks */
#define HOLD 4096 /* blocks each consumer holds */
#define SMALLEST 16
#define LARGEST 128

typedef struct batch {
    struct batch *next;
    size_t count;
    unsigned char *block[BATCH];
} batch_t;

static struct {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    batch_t *first, *last;
    size_t queued;
    int producing; /* producers not yet done */
} queue = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0, PRODUCERS};

static size_t per_producer;

typedef struct {
    uint32_t id;
    uint64_t sum; /* of the blocks a consumer freed */
    size_t freed;
} worker_t;

static void put(batch_t *b)
{
    pthread_mutex_lock(&queue.lock);
    while (queue.queued == QUEUE)
        pthread_cond_wait(&queue.changed, &queue.lock);
    b->next = 0;
    if (queue.last)
        queue.last->next = b;
    else
        queue.first = b;
    queue.last = b;
    queue.queued++;
    pthread_cond_broadcast(&queue.changed);
    pthread_mutex_unlock(&queue.lock);
}

/* The next batch, or null when the producers are done and none is left. */
static batch_t *take(void)
{
    pthread_mutex_lock(&queue.lock);
    while (!queue.first && queue.producing)
        pthread_cond_wait(&queue.changed, &queue.lock);
    batch_t *b = queue.first;
    if (b) {
        queue.first = b->next;
        if (!queue.first)
            queue.last = 0;
        queue.queued--;
        pthread_cond_broadcast(&queue.changed);
    }
    pthread_mutex_unlock(&queue.lock);
    return b;
}

/* A block: its size (4 bytes), its producer (4 bytes), then a byte of the
 * producer's sequence number to the end. */
static void *produce(void *arg)
{
    worker_t *w = arg;
    rng_t rng = {0x5eed0007 + (uint64_t)w->id * 0x1000};
    batch_t *b = 0;
    for (size_t i = 0; i < per_producer; i++) {
        if (!b) {
            b = must(malloc(sizeof *b), "cross_free");
            b->count = 0;
        }
        uint32_t n = (uint32_t)rng_range(&rng, SMALLEST, LARGEST);
        unsigned char *p = must(malloc(n), "cross_free");
        memcpy(p, &n, 4);
        memcpy(p + 4, &w->id, 4);
        memset(p + 8, (int)(i & 0xff), n - 8);
        b->block[b->count++] = p;
        if (b->count == BATCH) {
            put(b);
            b = 0;
        }
    }
    if (b)
        put(b);
    pthread_mutex_lock(&queue.lock);
    queue.producing--;
    pthread_cond_broadcast(&queue.changed);
    pthread_mutex_unlock(&queue.lock);
    return 0;
}

static void release(worker_t *w, unsigned char *p)
{
    uint32_t n, producer;
    memcpy(&n, p, 4);
    memcpy(&producer, p + 4, 4);
    if (n < SMALLEST || n > LARGEST || producer >= PRODUCERS || p[8] != p[n - 1])
        corrupt("cross_free", w->freed);
    /* Added, not mixed: the order of the frees is the scheduler's. */
    w->sum += (n * 0x9e3779b97f4a7c15ull) ^ ((uint64_t)producer << 56) ^ p[n - 1];
    w->freed++;
    free(p);
}

static void *consume(void *arg)
{
    worker_t *w = arg;
    rng_t rng = {0x5eed0107 + (uint64_t)w->id * 0x1000};
    unsigned char **held = must(calloc(HOLD, sizeof *held), "cross_free");
    batch_t *b;
    while ((b = take())) {
        for (size_t i = 0; i < b->count; i++) {
            size_t slot = (size_t)(rng_next(&rng) % HOLD);
            if (held[slot])
                release(w, held[slot]);
            held[slot] = b->block[i];
        }
        free(b);
    }
    for (size_t slot = 0; slot < HOLD; slot++)
        if (held[slot])
            release(w, held[slot]);
    free(held);
    return 0;
}

int main(int argc, char **argv)
{
    per_producer = scale_arg(argc, argv, 5000000) / PRODUCERS;
    worker_t producers[PRODUCERS], consumers[CONSUMERS];
    pthread_t threads[PRODUCERS + CONSUMERS];
    int failed = 0;
    for (uint32_t t = 0; t < CONSUMERS; t++) {
        consumers[t] = (worker_t){t, 0, 0};
        failed |= pthread_create(&threads[t], 0, consume, &consumers[t]);
    }
    for (uint32_t t = 0; t < PRODUCERS; t++) {
        producers[t] = (worker_t){t, 0, 0};
        failed |= pthread_create(&threads[CONSUMERS + t], 0, produce, &producers[t]);
    }
    if (failed) {
        fprintf(stderr, "cross_free: cannot start the threads\n");
        return 2;
    }
    uint64_t sum = 0;
    size_t freed = 0;
    for (int t = 0; t < PRODUCERS + CONSUMERS; t++)
        pthread_join(threads[t], 0);
    for (int t = 0; t < CONSUMERS; t++) {
        sum += consumers[t].sum;
        freed += consumers[t].freed;
    }
    if (freed != per_producer * PRODUCERS)
        corrupt("cross_free", freed);
    print_checksum("cross_free", sum);
    return 0;
}
