/*
 * double-free.c: the same block freed twice, as when two owners each think
 * the buffer is theirs to release.
 *
 * The first ant_free() marks the block's node FREE. The second finds a node
 * with a sound head sentinel in state FREE, reports "ant: double-free: ..."
 * with the block's last owner (serial and site), and aborts.
 */
#include <ant/ant.h>

struct buffer {
    char *data;
};

static void release(struct buffer *b)
{
    ant_free(b->data); /* the bug: b->data is not set to NULL afterwards */
}

int main(void)
{
    struct buffer buf = {ant_malloc(64)};
    struct buffer alias = buf; /* a second owner of the same bytes */
    release(&buf);
    release(&alias);
    return 0;
}
