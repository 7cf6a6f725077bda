/*
 * groups.c: blocks summed by site, for ant-sites, for speed.
 *
 * gdb/antgdb/sitegroups.py groups the blocks selection.py chose by the
 * site their node records: how many, their bytes and requested bytes,
 * their lowest and highest serial. A dict in Python takes about a second
 * for a million blocks; this sums them in an open-addressed table the
 * caller provides. Python (sitegroups.python_groups) is the reference and
 * tests/python/test_sites.py holds this to it.
 */
#include "target.h"

#include <stdint.h>

/* One site's sums; a slot whose `blocks` is 0 is empty. */
struct group {
    uint64_t site;
    uint64_t blocks;
    uint64_t bytes;
    uint64_t requested;
    uint64_t first_serial;
    uint64_t last_serial;
};

/* The columns of gdb/antgdb/columns.py that a group sums, indexed by node
 * index. */
struct group_columns {
    const uint64_t *sites;
    const uint64_t *sizes;
    const uint64_t *requested;
    const uint64_t *serials;
};

EXPORT int ant_fastwalk_groups(const uint64_t *picks, uint64_t count, const struct group_columns *columns,
                               struct group *table, uint64_t slots, uint64_t *taken);

/* Adds the blocks of node indices picks[0 .. count) to `table` of `slots`
 * slots (a power of two), `taken` of them in use (in and out), and
 * returns 0; or 1 when the table would fill past three quarters, the
 * caller then starting again with a larger one. */
int ant_fastwalk_groups(const uint64_t *picks, uint64_t count, const struct group_columns *columns, struct group *table,
                        uint64_t slots, uint64_t *taken)
{
    if (!slots || (slots & (slots - 1)))
        return 1;
    uint64_t mask = slots - 1;
    for (uint64_t i = 0; i < count; i++) {
        uint64_t index = picks[i];
        uint64_t site = columns->sites[index];
        uint64_t at = (site * 0x9e3779b97f4a7c15ull) >> 17 & mask;
        while (table[at].blocks && table[at].site != site)
            at = (at + 1) & mask;
        struct group *group = &table[at];
        uint64_t serial = columns->serials[index];
        if (!group->blocks) {
            if (++*taken > slots / 4 * 3)
                return 1;
            group->site = site;
            group->first_serial = group->last_serial = serial;
        }
        group->blocks++;
        group->bytes += columns->sizes[index];
        group->requested += columns->requested[index];
        if (serial < group->first_serial)
            group->first_serial = serial;
        if (serial > group->last_serial)
            group->last_serial = serial;
    }
    return 0;
}
