/*
 * rows.c: rows of `ant-walk`, JSON or text, formatted in C, for speed.
 *
 * A million rows formatted one by one in Python cost three seconds or
 * more, more than the walk that found them. gdb/antgdb/selection.py alone
 * chooses the rows and their order; this writes a run of them from the
 * columns of gdb/antgdb/columns.py, stopping at a row it is told is not
 * plain (one with a problem), which Python writes. Python
 * (gdb/antgdb/render.py, JsonRows and TextRows) stays the reference: the
 * text must match it byte for byte, which tests/python/test_native.py
 * checks. It shares FASTWALK_ABI with fastwalk.c, in the same library.
 */
#include "target.h"

#include <stdint.h>
#include <string.h>

/* Why ant_fastwalk_rows() returned. */
enum rows_stop {
    ROWS_DONE = 0,        /* every pick was written */
    ROWS_ODD = 1,         /* the pick at `next` is not plain: Python writes it */
    ROWS_SITE = 2,        /* its site is not in the table: `missing` names it */
    ROWS_FULL = 3,        /* the output has no room for its row */
    ROWS_UNSUPPORTED = 4, /* columns wider than this code writes */
};

/* Between Python and C, in and out; every member 64 bits, as ctypes
   mirrors it simply. The columns are indexed by the walk's node index. */
struct rows {
    uint64_t text_mode;     /* 0: JSON rows; 1: ant-walk's text columns */
    uint64_t address_width; /* text: the columns' widths, at most WIDTH_MAX */
    uint64_t size_width;
    const uint64_t *nodes;
    const uint64_t *sizes;
    const uint64_t *requested; /* the node's, whatever its state */
    const uint64_t *serials;
    const uint64_t *sites;
    const uint8_t *states;
    const uint8_t *plain;       /* 1 where this code may write the row */
    const uint64_t *region_los; /* the first node index of each region, ascending */
    uint64_t region_count;
    const uint64_t *place_starts;  /* JSON: where region i's '"arena": A, "region": R, */
    const uint64_t *place_lengths; /* "big": B' is in place_text, and how long */
    const char *place_text;
    const uint64_t *site_list; /* site addresses, ascending */
    const uint64_t *starts;    /* where site i's members (JSON) or name (text) start in `text` */
    const uint64_t *lengths;   /* and how long they are */
    const char *text;
    uint64_t site_count;
    char *out;
    uint64_t out_room;
    uint64_t out_length;  /* in and out: rows written, ",\n" (JSON) or "\n" between two */
    uint64_t next;        /* in and out: the place in picks of the next row */
    uint64_t missing;     /* out: the site ROWS_SITE asks for */
    uint64_t state_width; /* text: the state column's width, at most WIDTH_MAX */
};

EXPORT int ant_fastwalk_rows(const uint64_t *picks, uint64_t count, struct rows *r);

/* The region of node index `index`: the last whose first index is at most
 * it, as Python's heap.region_of finds it. */
static uint64_t region_index(const struct rows *r, uint64_t index)
{
    uint64_t low = 0, high = r->region_count;
    while (low < high) {
        uint64_t middle = low + (high - low) / 2;
        if (r->region_los[middle] <= index)
            low = middle + 1;
        else
            high = middle;
    }
    return low ? low - 1 : 0;
}

/* Where site's text is in the table, or -1. */
static int64_t site_index(const struct rows *r, uint64_t site)
{
    uint64_t low = 0, high = r->site_count;
    while (low < high) {
        uint64_t middle = low + (high - low) / 2;
        if (r->site_list[middle] < site)
            low = middle + 1;
        else
            high = middle;
    }
    return low < r->site_count && r->site_list[low] == site ? (int64_t)low : -1;
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
    return state == ANT_STATE_USED          ? "used"
           : state == ANT_STATE_FREE        ? "free"
           : state == ANT_STATE_CACHED      ? "cached"
           : state == ANT_STATE_QUARANTINED ? "quarantined"
                                            : "unknown";
}

/* One row's facts, from the columns. */
struct row {
    uint64_t node;
    uint64_t size;
    uint64_t requested; /* a used block's, else 0: a free or cached node keeps
                           its last owner's, which a row does not show */
    uint64_t serial;
    uint8_t state;
};

/* render.JsonRows.row: the site's members (site_text) start with its
 * address, as Python writes them. */
static char *json_row(char *at, const struct row *row, const char *place, uint64_t place_length, const char *site_text,
                      uint64_t site_length)
{
    const char *name = state_name(row->state);
    at = PUT(at, "{\"node\": ");
    at = put_number(at, row->node);
    at = PUT(at, ", \"mem\": ");
    at = put_number(at, row->node + ANT_NODE_SIZE);
    at = PUT(at, ", \"size\": ");
    at = put_number(at, row->size);
    at = PUT(at, ", \"requested\": ");
    at = put_number(at, row->requested);
    at = PUT(at, ", \"state\": \"");
    at = put_text(at, name, strlen(name));
    at = PUT(at, "\", \"serial\": ");
    at = put_number(at, row->serial);
    at = PUT(at, ", \"site\": ");
    at = put_text(at, site_text, site_length);
    at = PUT(at, ", ");
    at = put_text(at, place, place_length);
    return PUT(at, ", \"problems\": []}");
}

/* render.TextRows.row: node, mem, size, requested ("-" unless used),
 * state, serial ("-" for 0) and site, two spaces apart. */
static char *text_row(char *at, const struct rows *r, const struct row *row, const char *site_text,
                      uint64_t site_length)
{
    const char *name = state_name(row->state);
    char *start = at;
    at = pad_to(start, put_hex(start, row->node), r->address_width, 1);
    at = PUT(at, "  ");
    at = pad_to(at, put_hex(at, row->node + ANT_NODE_SIZE), r->address_width, 1);
    at = PUT(at, "  ");
    at = pad_to(at, put_number(at, row->size), r->size_width, 0);
    at = PUT(at, "  ");
    start = at;
    at = row->state == ANT_STATE_USED ? put_number(at, row->requested) : PUT(at, "-");
    at = pad_to(start, at, r->size_width, 0);
    at = PUT(at, "  ");
    at = pad_to(at, put_text(at, name, strlen(name)), r->state_width, 1);
    at = PUT(at, "  ");
    start = at;
    at = row->serial ? put_number(at, row->serial) : PUT(at, "-");
    at = pad_to(start, at, 8, 0);
    at = PUT(at, "  ");
    return put_text(at, site_text, site_length);
}

/* The most a row takes besides the region's and the site's members, with
 * its columns at their widest. */
#define WIDTH_MAX 64
#define ROW_ROOM (320 + 4 * WIDTH_MAX)

/* Writes the rows of node indices picks[next .. count), in that order. */
int ant_fastwalk_rows(const uint64_t *picks, uint64_t count, struct rows *r)
{
    if (!HOST_READS_TARGET || r->address_width > WIDTH_MAX || r->size_width > WIDTH_MAX || r->state_width > WIDTH_MAX)
        return ROWS_UNSUPPORTED;
    for (; r->next < count; r->next++) {
        uint64_t index = picks[r->next];
        if (!r->plain[index])
            return ROWS_ODD;
        uint64_t site = r->sites[index];
        int64_t known = site_index(r, site);
        if (known < 0) {
            r->missing = site;
            return ROWS_SITE;
        }
        const char *site_text = r->text + r->starts[known];
        uint64_t site_length = r->lengths[known];
        uint64_t region = region_index(r, index);
        const char *place = r->place_text + r->place_starts[region];
        uint64_t place_length = r->place_lengths[region];
        if (r->out_room - r->out_length < ROW_ROOM + place_length + site_length)
            return ROWS_FULL;
        struct row row = {
            .node = r->nodes[index],
            .size = r->sizes[index],
            .requested = r->states[index] == ANT_STATE_USED ? r->requested[index] : 0,
            .serial = r->serials[index],
            .state = r->states[index],
        };
        char *at = r->out + r->out_length;
        if (r->out_length)
            at = r->text_mode ? PUT(at, "\n") : PUT(at, ",\n");
        at = r->text_mode ? text_row(at, r, &row, site_text, site_length)
                          : json_row(at, &row, place, place_length, site_text, site_length);
        r->out_length = (uint64_t)(at - r->out);
    }
    return ROWS_DONE;
}
