/*
 * use-after-free.c: a write through a dangling pointer.
 *
 * After ant_free(), Ant fills the block's mem with poison (0xa5 bytes past
 * its first 16, which hold free-list links). The late write below changes
 * the poison. When the next ant_malloc() of that size is about to hand the
 * block out again, Ant checks the poison, reports "ant: use-after-free: ..."
 * naming the block's last owner, and aborts.
 */
#include <ant/ant.h>

#include <stdio.h>
#include <string.h>

struct session {
    char user[16];
    int logged_in;
};

int main(void)
{
    struct session *s = ant_malloc(sizeof *s);
    strcpy(s->user, "ada");
    s->logged_in = 1;

    ant_free(s);
    s->logged_in = 0; /* the bug: s is dangling, this lands in poison */

    struct session *next = ant_malloc(sizeof *next);
    printf("never reached: %p\n", (void *)next);
    return 0;
}
