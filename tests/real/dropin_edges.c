/*
 * dropin_edges.c: the malloc family's edge cases, as glibc documents them,
 * in a program linked against libantmalloc. Also checks that what the C
 * library allocates for the program (strdup, getline, stdio) lands in Ant.
 */
#define _GNU_SOURCE
#include <ant/ant.h>

#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int failures;

/* Sizes the compiler cannot see, so it does not reject the calls that
 * test them. */
static volatile size_t size_max = SIZE_MAX;
static volatile size_t ptrdiff_max = PTRDIFF_MAX;

#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (!(cond)) {                                                               \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
            failures++;                                                              \
        }                                                                            \
    } while (0)

struct find {
    const void *mem;
    int found;
};

static int look(const ant_block_info_t *block, void *arg)
{
    struct find *f = arg;
    if (block->mem == f->mem && block->state == ANT_BLOCK_USED)
        f->found = 1;
    return f->found;
}

/* True if mem is the start of a live block of Ant's heap. */
static int in_ant(const void *mem)
{
    struct find f = {mem, 0};
    ant_walk(look, &f);
    return f.found;
}

static int aligned(const void *p, size_t alignment)
{
    return (uintptr_t)p % alignment == 0;
}

static void zero_sizes(void)
{
    void *a = malloc(0), *b = malloc(0);
    CHECK(a && b && a != b);
    CHECK(in_ant(a) && in_ant(b));
    free(a);
    free(b);
    free(NULL);
}

/* A failed realloc leaves the block alone, so the test reads it after. */
#pragma GCC diagnostic ignored "-Wuse-after-free"

static void overflowing_sizes(void)
{
    errno = 0;
    CHECK(malloc(size_max) == NULL && errno == ENOMEM);
    errno = 0;
    CHECK(malloc(ptrdiff_max + 1) == NULL && errno == ENOMEM);
    errno = 0;
    CHECK(calloc(size_max / 2, 3) == NULL && errno == ENOMEM);
    char *p = malloc(8);
    strcpy(p, "intact");
    errno = 0;
    CHECK(realloc(p, size_max) == NULL && errno == ENOMEM);
    errno = 0;
    CHECK(reallocarray(p, size_max / 2, 3) == NULL && errno == ENOMEM);
    CHECK(strcmp(p, "intact") == 0);
    free(p);
}

static void alignments(void)
{
    void *p = (void *)1;
    errno = 1234;
    CHECK(posix_memalign(&p, 3, 16) == EINVAL && errno == 1234 && p == (void *)1);
    CHECK(posix_memalign(&p, 0, 16) == EINVAL);
    CHECK(posix_memalign(&p, 4, 16) == EINVAL);
    CHECK(posix_memalign(&p, 64, 100) == 0 && aligned(p, 64) && in_ant(p));
    free(p);
    for (size_t a = 8; a <= (1u << 20); a <<= 1) {
        void *q = aligned_alloc(a, 33);
        CHECK(q && aligned(q, a) && in_ant(q));
        memset(q, 1, 33);
        free(q);
    }
    errno = 0;
    CHECK(aligned_alloc(24, 48) == NULL && errno == EINVAL);
    void *m = memalign(24, 100);
    CHECK(m && aligned(m, 32));
    free(m);
    long page = sysconf(_SC_PAGESIZE);
    void *v = valloc(10);
    CHECK(v && aligned(v, (size_t)page));
    free(v);
    void *pv = pvalloc(10);
    CHECK(pv && aligned(pv, (size_t)page) && malloc_usable_size(pv) >= (size_t)page);
    free(pv);
}

static void reallocs(void)
{
    /* Through a volatile, so the compiler does not take realloc(NULL, n)
     * for malloc(n) and warn that the fresh block is read uninitialised. */
    static void *volatile null_block = NULL;
    char *p = realloc(null_block, 10);
    CHECK(p && in_ant(p));
    strcpy(p, "abcdefghi");
    p = realloc(p, 100000);
    CHECK(p && strcmp(p, "abcdefghi") == 0);
    p = realloc(p, 1 << 22);
    CHECK(p && strcmp(p, "abcdefghi") == 0);
    p = realloc(p, 5);
    CHECK(p && memcmp(p, "abcde", 5) == 0);
    /* glibc frees the block and returns NULL. */
    CHECK(realloc(p, 0) == NULL);
    CHECK(malloc_usable_size(NULL) == 0);
    void *q = malloc(40);
    CHECK(malloc_usable_size(q) >= 40);
    free(q);
}

static void libc_allocates_with_ant(void)
{
    char *s = strdup("copied by the C library");
    CHECK(s && in_ant(s));
    free(s);
    FILE *f = fopen("/proc/self/status", "r");
    CHECK(f != NULL);
    char *line = NULL;
    size_t cap = 0;
    CHECK(getline(&line, &cap, f) > 0 && in_ant(line));
    free(line);
    fclose(f);
    char *formatted = NULL;
    CHECK(asprintf(&formatted, "%d ants", 42) > 0 && in_ant(formatted));
    free(formatted);
}

static void dlopen_works(void)
{
    void *libm = dlopen("libm.so.6", RTLD_NOW);
    CHECK(libm != NULL);
    if (libm) {
        double (*cosine)(double);
        *(void **)&cosine = dlsym(libm, "cos");
        CHECK(cosine && cosine(0.0) == 1.0);
        dlclose(libm);
    }
}

int main(void)
{
    zero_sizes();
    overflowing_sizes();
    alignments();
    reallocs();
    libc_allocates_with_ant();
    dlopen_works();
    CHECK(ant_check() == 0);
    printf("%d failed, %d passed\n", failures ? 1 : 0, failures ? 0 : 1);
    return failures != 0;
}
