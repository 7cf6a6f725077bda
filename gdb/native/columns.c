/*
 * columns.c: the facts of many nodes read out of a window into columns,
 * for speed.
 *
 * ant-walk's filters and sort, ant-sites and ant-diff read each block's
 * size, requested bytes, serial, site and state. gdb/antgdb/columns.py
 * decodes them once into one array each, index for index with the walk's
 * nodes; in Python that costs about a microsecond a node. This does the
 * same for the nodes of one window, with <ant/layout.h>'s accessors, and
 * Python then sets what a node does not say (a damaged block's extent, a
 * big block's sizes). The Python is the reference.
 *
 * The window is a snapshot of memory that may be anything: a node that
 * does not lie wholly inside it stops the call, never a read past it.
 */
#include "target.h"

#include <stdint.h>

/* Where a call writes: arrays the length of the walk's nodes. */
struct columns {
    uint64_t *sizes;
    uint64_t *requested;
    uint64_t *serials;
    uint64_t *sites;
    uint8_t *states;
};

EXPORT uint64_t ant_fastwalk_columns(const unsigned char *window, uint64_t length, uint64_t base, const uint64_t *nodes,
                                     uint64_t index, uint64_t stop, const struct columns *out);

/* Decodes nodes[index .. stop) and returns the index of the first node not
 * wholly in the window, or stop. */
uint64_t ant_fastwalk_columns(const unsigned char *window, uint64_t length, uint64_t base, const uint64_t *nodes,
                              uint64_t index, uint64_t stop, const struct columns *out)
{
    if (!HOST_READS_TARGET)
        return index;
    for (; index < stop; index++) {
        uint64_t address = nodes[index];
        if (address < base || address - base > length || length - (address - base) < ANT_NODE_SIZE)
            break;
        ant_node_t node = node_at(window + (address - base));
        out->sizes[index] = node.size;
        out->requested[index] = node.requested;
        out->serials[index] = ant_node_serial(&node);
        out->sites[index] = ant_node_site(&node);
        out->states[index] = node.state;
    }
    return index;
}
