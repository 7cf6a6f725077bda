/*
 * leaky.c: three leaks of three kinds, for the leak check at exit. It uses
 * the C library's malloc, so that Ant serves it only when preloaded:
 *
 *   LD_PRELOAD=build/allocator/libantmalloc.so ANT_OPTIONS=leak_check=1 ./leaky
 *
 * push() mallocs a node. One node stays reachable from a global; b, and a
 * that only b points to, are dropped; and a copied string is kept only by
 * a pointer into its middle.
 */
/* strdup() is POSIX, not C11. */
#define _POSIX_C_SOURCE 200809L

#include <stdlib.h>
#include <string.h>

struct node {
    struct node *next;
    char name[24];
};

/* Global, so that -rdynamic names them in the report. */
struct node *push(struct node *next, const char *name);
void lose(void);

static struct node *kept;
static char *middle;

__attribute__((noinline)) struct node *push(struct node *next, const char *name)
{
    struct node *n = malloc(sizeof *n);
    if (!n)
        exit(1);
    n->next = next;
    strncpy(n->name, name, sizeof n->name - 1);
    n->name[sizeof n->name - 1] = 0;
    return n;
}

__attribute__((noinline)) void lose(void)
{
    struct node *a = push(0, "a");
    struct node *b = push(a, "b");
    (void)b;
    middle = strdup("nineteen characters") + 6;
}

int main(void)
{
    kept = push(0, "kept");
    lose();
    return 0;
}
