/*
 * rows.c: the rows of `ant-walk`, JSON or text, formatted in C, for speed.
 *
 * A million rows formatted one by one in Python cost three seconds or
 * more, more than the walk that found them. This writes the same text for
 * the plain rows: a block with no problem, whose size is the node's own.
 * Python (gdb/antgdb/render.py, JsonRows and TextRows) stays the reference
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

/* The node's words that a row shows: offsets fixed in every layout version. */
enum { SIZE_AT = 16, REQUESTED_AT = 24, SERIAL_AT = 32, SITE_AT = 40, STATE_AT = 48 };

/* Between Python and C, in and out; every member 64 bits, as ctypes
   mirrors it simply. */
struct rows {
    uint64_t text_mode;     /* 0: JSON rows; 1: ant-walk's text columns */
    uint64_t address_width; /* text: the columns' widths, at most WIDTH_MAX */
    uint64_t size_width;
    uint64_t node_size;
    uint64_t used_state, free_state, cached_state; /* the state words (32 bits) */
    uint64_t want;          /* 0: every state; else the state word to keep */
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

static const char *state_name(const struct rows *r, uint64_t state)
{
    return state == r->used_state     ? "used"
           : state == r->free_state   ? "free"
           : state == r->cached_state ? "cached"
                                      : "unknown";
}

static char *json_row(char *at, const struct rows *r, uint64_t node, const unsigned char *words,
                      const char *site_text, uint64_t site_length)
{
    uint64_t state = le64(words + STATE_AT) & 0xffffffffu;
    const char *name = state_name(r, state);
    at = PUT(at, "{\"node\": ");
    at = put_number(at, node);
    at = PUT(at, ", \"mem\": ");
    at = put_number(at, node + r->node_size);
    at = PUT(at, ", \"size\": ");
    at = put_number(at, le64(words + SIZE_AT));
    at = PUT(at, ", \"requested\": ");
    at = put_number(at, le64(words + REQUESTED_AT));
    at = PUT(at, ", \"state\": \"");
    at = put_text(at, name, strlen(name));
    at = PUT(at, "\", \"serial\": ");
    at = put_number(at, le64(words + SERIAL_AT));
    at = PUT(at, ", \"site\": ");
    at = put_number(at, le64(words + SITE_AT));
    at = PUT(at, ", ");
    at = put_text(at, r->place, r->place_length);
    at = PUT(at, ", \"problems\": [], ");
    at = put_text(at, site_text, site_length);
    return PUT(at, "}");
}

/* render.TextRows.row: node, mem, size, requested ("-" unless used),
 * state, serial ("-" for 0) and site, two spaces apart. */
static char *text_row(char *at, const struct rows *r, uint64_t node, const unsigned char *words,
                      const char *site_text, uint64_t site_length)
{
    uint64_t state = le64(words + STATE_AT) & 0xffffffffu;
    uint64_t serial = le64(words + SERIAL_AT);
    const char *name = state_name(r, state);
    char *start = at;
    at = pad_to(start, put_hex(start, node), r->address_width, 1);
    at = PUT(at, "  ");
    at = pad_to(at, put_hex(at, node + r->node_size), r->address_width, 1);
    at = PUT(at, "  ");
    at = pad_to(at, put_number(at, le64(words + SIZE_AT)), r->size_width, 0);
    at = PUT(at, "  ");
    start = at;
    at = state == r->used_state ? put_number(at, le64(words + REQUESTED_AT)) : PUT(at, "-");
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
    if (r->address_width > WIDTH_MAX || r->size_width > WIDTH_MAX)
        return ROWS_UNSUPPORTED;
    for (; r->next < count; r->next++) {
        uint64_t node = nodes[r->next];
        /* A mem address past 2^64 is Python's to print. */
        if (node < base || node - base > length || length - (node - base) < r->node_size ||
            r->node_size < STATE_AT + 8 || node > UINT64_MAX - r->node_size)
            return ROWS_WINDOW;
        const unsigned char *words = window + (node - base);
        uint64_t size = le64(words + SIZE_AT);
        uint64_t state = le64(words + STATE_AT) & 0xffffffffu;
        if ((r->want && state != r->want) || size < r->min_size)
            continue;
        if (!r->limit)
            return ROWS_LIMIT;
        uint64_t site = le64(words + SITE_AT);
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
        at = r->text_mode ? text_row(at, r, node, words, site_text, site_length)
                          : json_row(at, r, node, words, site_text, site_length);
        r->out_length = (uint64_t)(at - r->out);
        r->limit--;
    }
    return ROWS_DONE;
}
