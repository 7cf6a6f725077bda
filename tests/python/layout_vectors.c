/*
 * layout_vectors.c: golden vectors of the sentinel formulas, computed by the
 * inline functions of <ant/layout.h> themselves, for test_layout.py to hold
 * antgdb/layout.py's Python to. Built with nothing but that header.
 *
 * Prints one line per vector, every number in hex:
 *   check    SECRET ADDRESS W0 W1 W2 W3 CHECK         ant_head_check
 *   check_as SECRET ADDRESS W0 W1 W2 MARK CHECK       ant_head_check_as
 *   tail     SECRET ADDRESS TAIL                      ant_tail_sentinel
 *   freed    SECRET ADDRESS SITE SERIAL CHECK         ant_freed_check
 *   fields   W1 W2 SERIAL SITE                        ant_node_serial, ant_node_site
 * Edge cases first (zeros, ones, sums that wrap), then seeded random ones.
 */
#include <ant/layout.h>

#include <inttypes.h>
#include <stdio.h>

#define RANDOM_VECTORS 300

/* splitmix64: a fixed sequence, the same on every machine. */
static uint64_t next_random(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/*
 * The functions bind a value to the node's own address, the pointer they
 * are given; a vector's node lies at `address` instead, so the secret
 * carries the difference (both are XOR-ed with it), as a debugger's copy
 * of a node must.
 */
static uint64_t rebound(uint64_t secret, const ant_node_t *node, uint64_t address)
{
    return secret ^ (uint64_t)(uintptr_t)node ^ address;
}

static void vector(uint64_t secret, uint64_t address, const uint64_t w[4], uint32_t mark, uint32_t serial)
{
    ant_node_t node = {.w = {w[0], w[1], w[2], w[3]}};
    uint64_t key = rebound(secret, &node, address);
    printf("check %" PRIx64 " %" PRIx64 " %" PRIx64 " %" PRIx64 " %" PRIx64 " %" PRIx64 " %" PRIx32 "\n", secret,
           address, w[0], w[1], w[2], w[3], ant_head_check(key, &node));
    printf("check_as %" PRIx64 " %" PRIx64 " %" PRIx64 " %" PRIx64 " %" PRIx64 " %" PRIx32 " %" PRIx32 "\n", secret,
           address, w[0], w[1], w[2], mark, ant_head_check_as(key, &node, mark));
    printf("tail %" PRIx64 " %" PRIx64 " %" PRIx64 "\n", secret, address, ant_tail_sentinel(key, &node));
    printf("freed %" PRIx64 " %" PRIx64 " %" PRIx64 " %" PRIx32 " %" PRIx32 "\n", secret, address, w[2], serial,
           ant_freed_check(key, &node, w[2], serial));
    printf("fields %" PRIx64 " %" PRIx64 " %" PRIx64 " %" PRIx64 "\n", w[1], w[2], ant_node_serial(&node),
           ant_node_site(&node));
}

int main(void)
{
    const uint64_t ones = UINT64_MAX;
    /* Words that make the additions wrap, or that cancel a constant. */
    const uint64_t edges[][4] = {
        {0, 0, 0, 0},
        {ones, ones, ones, ones},
        {0 - ANT_CHECK_ADD0, 0 - ANT_CHECK_ADD1, 0 - ANT_CHECK_ADD2, 0},
        {0x0000005000000040ull, 0x0000000700000018ull, 0x0001000000401136ull, 0x1234567800008055ull},
        {0x00000000000000a0ull, ones - ANT_CHECK_ADD1 + 1, 0xffff7fffffffffffull, 0xffffffffffff0146ull},
    };
    const uint64_t addresses[] = {0, 16, 0x7ffff0000050ull, ones - 15, (uint64_t)0 - ANT_CHECK_ADD3};
    const uint64_t secrets[] = {1, ones, 0x3c6ef372fe94f82bull};
    for (size_t e = 0; e < sizeof edges / sizeof edges[0]; e++)
        for (size_t a = 0; a < sizeof addresses / sizeof addresses[0]; a++)
            for (size_t s = 0; s < sizeof secrets / sizeof secrets[0]; s++)
                vector(secrets[s], addresses[a], edges[e], (uint32_t)(edges[e][3] >> 7), (uint32_t)edges[e][1]);
    uint64_t state = 20261203;
    for (int i = 0; i < RANDOM_VECTORS; i++) {
        uint64_t w[4];
        for (int k = 0; k < 4; k++)
            w[k] = next_random(&state);
        uint64_t secret = next_random(&state) | 1;
        uint64_t address = next_random(&state) & ~(uint64_t)15;
        uint64_t other = next_random(&state);
        vector(secret, address, w, (uint32_t)other, (uint32_t)(other >> 32));
    }
    return 0;
}
