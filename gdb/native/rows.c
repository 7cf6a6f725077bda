/*
 * rows.c: the rows of `ant-walk`, JSON or text, formatted in C, for speed.
 *
 * A million rows formatted one by one in Python cost three seconds or
 * more, more than the walk that found them. This writes the same text for
 * the plain rows: a block of a HEAP region with no problem, whose size is
 * its node's own, decoded by <ant/layout.h>'s accessors. Python (gdb/antgdb/render.py, JsonRows and TextRows) stays the reference
 * and formats every other row itself; gdb/antgdb/native.py drives this
 * function and says which rows it may take. The text must match Python's byte for byte,
 * which tests/python/test_native.py checks.
 *
 * The window is a snapshot of memory that may be anything: a node that
 * does not lie wholly inside it stops the call, never a read past it. It
 * shares FASTWALK_ABI with fastwalk.c, in the same library.
 */
#include "target.h"

#include <stdint.h>
#include <string.h>

/* Why ant_fastwalk_rows() returned. */
enum rows_stop {
    ROWS_DONE = 0,   /* every node given was written or left out */
    ROWS_WINDOW = 1, /* the node at `next` does not lie in the window, or is
                        one whose row Python writes */
    ROWS_SITE = 2,   /* its site is not in the table: `missing` names it */
    ROWS_FULL = 3,   /* the output has no room for its row */
    ROWS_LIMIT = 4,  /* as many rows as `limit` allowed were written */
    ROWS_UNSUPPORTED = 5, /* columns wider than this code writes */
};

/* Between Python and C, in and out; every member 64 bits, as ctypes
   mirrors it simply. */
struct rows {
    uint64_t text_mode;     /* 0: JSON rows; 1: ant-walk's text columns */
    uint64_t address_width; /* text: the columns' widths, at most WIDTH_MAX */
    uint64_t size_width;
    uint64_t want;          /* 0: every state; else the state to keep (ANT_STATE_*) */
    uint64_t min_size;
    uint64_t limit;         /* in and out: rows still allowed */
    const char *place;      /* JSON: '"arena": A, "region": R, "big": B' of the region */
    uint64_t place_length;
    const uint64_t *sites;  /* site addresses, ascending */
    const uint64_t *starts; /* where site i's members (JSON) or name (text) start in `text` */
    const uint64_t *lengths; /* and how long they are */
    const char *text;
    uint64_t site_count;
    char *out;
    uint64_t out_room;
    uint64_t out_length;    /* in and out: rows written, ",\n" (JSON) or "\n" between two */
    uint64_t next;          /* in and out: the index of the next node */
    uint64_t missing;       /* out: the site ROWS_SITE asks for */
};

EXPORT int ant_fastwalk_rows(const unsigned char *window, uint64_t length, uint64_t base,
                             const uint64_t *nodes, uint64_t count, struct rows *r);

/* Where site's text is in the table, or -1. */
static int64_t site_index(const struct rows *r, uint64_t site)
{
    uint64_t low = 0, high = r->site_count;
    while (low < high) {
        uint64_t middle = low + (high - low) / 2;
        if (r->sites[middle] < site)
            low = middle + 1;
        else
            high = middle;
    }
    return low < r->site_count && r->sites[low] == site ? (int64_t)low : -1;
}

static char *put_text(char *at, const char *text, uint64_t length)
{
    memcpy(at, text, length);
    return at + length;
}

#define PUT(at, literal) put_text(at, literal, sizeof literal - 1)

/* A number in decimal, as Python's %d writes it. */
static char *put_number(char *at, uint64_t value)
{
    char digits[20];
    int n = 0;
    do {
        digits[n++] = (char)('0' + value % 10);
        value /= 10;
    } while (value);
    while (n)
        *at++ = digits[--n];
    return at;
}

static char *put_hex(char *at, uint64_t value)
{
    char digits[16];
    int n = 0;
    do {
        digits[n++] = "0123456789abcdef"[value % 16];
        value /= 16;
    } while (value);
    *at++ = '0';
    *at++ = 'x';
    while (n)
        *at++ = digits[--n];
    return at;
}

/* Python's "%-*s" and "%*s": text shorter than `width` padded with spaces
 * after it (left) or before it (right). */
static char *pad_to(char *start, char *at, uint64_t width, int left)
{
    uint64_t length = (uint64_t)(at - start);
    if (length >= width)
        return at;
    uint64_t pad = width - length;
    if (!left) {
        memmove(start + pad, start, length);
        memset(start, ' ', pad);
    } else {
        memset(at, ' ', pad);
    }
    return start + width;
}

static const char *state_name(uint64_t state)
{
    return state == ANT_STATE_USED     ? "used"
           : state == ANT_STATE_FREE   ? "free"
           : state == ANT_STATE_CACHED ? "cached"
                                       : "unknown";
}

/* A row's requested bytes: a used block's; a free or cached node keeps its
 * last owner's, which a row does not show. */
static uint64_t requested(const ant_node_t *node)
{
    return node->state == ANT_STATE_USED ? node->requested : 0;
}

static char *json_row(char *at, const struct rows *r, uint64_t address, const ant_node_t *node,
                      const char *site_text, uint64_t site_length)
{
    const char *name = state_name(node->state);
    at = PUT(at, "{\"node\": ");
    at = put_number(at, address);
    at = PUT(at, ", \"mem\": ");
    at = put_number(at, address + ANT_NODE_SIZE);
    at = PUT(at, ", \"size\": ");
    at = put_number(at, node->size);
    at = PUT(at, ", \"requested\": ");
    at = put_number(at, requested(node));
    at = PUT(at, ", \"state\": \"");
    at = put_text(at, name, strlen(name));
    at = PUT(at, "\", \"serial\": ");
    at = put_number(at, ant_node_serial(node));
    at = PUT(at, ", \"site\": ");
    at = put_number(at, ant_node_site(node));
    at = PUT(at, ", ");
    at = put_text(at, r->place, r->place_length);
    at = PUT(at, ", \"problems\": [], ");
    at = put_text(at, site_text, site_length);
    return PUT(at, "}");
}

/* render.TextRows.row: node, mem, size, requested ("-" unless used),
 * state, serial ("-" for 0) and site, two spaces apart. */
static char *text_row(char *at, const struct rows *r, uint64_t address, const ant_node_t *node,
                      const char *site_text, uint64_t site_length)
{
    uint64_t serial = ant_node_serial(node);
    const char *name = state_name(node->state);
    char *start = at;
    at = pad_to(start, put_hex(start, address), r->address_width, 1);
    at = PUT(at, "  ");
    at = pad_to(at, put_hex(at, address + ANT_NODE_SIZE), r->address_width, 1);
    at = PUT(at, "  ");
    at = pad_to(at, put_number(at, node->size), r->size_width, 0);
    at = PUT(at, "  ");
    start = at;
    at = node->state == ANT_STATE_USED ? put_number(at, node->requested) : PUT(at, "-");
    at = pad_to(start, at, r->size_width, 0);
    at = PUT(at, "  ");
    at = pad_to(at, put_text(at, name, strlen(name)), 7, 1);
    at = PUT(at, "  ");
    start = at;
    at = serial ? put_number(at, serial) : PUT(at, "-");
    at = pad_to(start, at, 8, 0);
    at = PUT(at, "  ");
    return put_text(at, site_text, site_length);
}

/* The most a row takes besides the region's and the site's members, with
 * its columns at their widest. */
#define WIDTH_MAX 64
#define ROW_ROOM (320 + 4 * WIDTH_MAX)

int ant_fastwalk_rows(const unsigned char *window, uint64_t length, uint64_t base,
                      const uint64_t *nodes, uint64_t count, struct rows *r)
{
    if (!HOST_READS_TARGET || r->address_width > WIDTH_MAX || r->size_width > WIDTH_MAX)
        return ROWS_UNSUPPORTED;
    for (; r->next < count; r->next++) {
        uint64_t address = nodes[r->next];
        /* A mem address past 2^64 is Python's to print. */
        if (address < base || address - base > length || length - (address - base) < ANT_NODE_SIZE ||
            address > UINT64_MAX - ANT_NODE_SIZE)
            return ROWS_WINDOW;
        ant_node_t node = node_at(window + (address - base));
        if ((r->want && node.state != r->want) || node.size < r->min_size)
            continue;
        if (!r->limit)
            return ROWS_LIMIT;
        uint64_t site = ant_node_site(&node);
        int64_t known = site_index(r, site);
        if (known < 0) {
            r->missing = site;
            return ROWS_SITE;
        }
        const char *site_text = r->text + r->starts[known];
        uint64_t site_length = r->lengths[known];
        if (r->out_room - r->out_length < ROW_ROOM + r->place_length + site_length)
            return ROWS_FULL;
        char *at = r->out + r->out_length;
        if (r->out_length)
            at = r->text_mode ? PUT(at, "\n") : PUT(at, ",\n");
        at = r->text_mode ? text_row(at, r, address, &node, site_text, site_length)
                          : json_row(at, r, address, &node, site_text, site_length);
        r->out_length = (uint64_t)(at - r->out);
        r->limit--;
    }
    return ROWS_DONE;
}
