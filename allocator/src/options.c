/*
 * options.c: ANT_OPTIONS, read once at start-up.
 *
 * The variable holds key=value pairs separated by ':' as the sanitizers'
 * options do. Every option is a row of one table; the parser knows nothing
 * about any of them. A bad entry is reported on one line and ignored, so the
 * option keeps its default and the program runs on. Nothing here allocates:
 * the drop-in reads its options from inside the first malloc.
 */
#include "internal.h"

#include <string.h>

struct ant_options ant_opt = {
    .fit = ANT_FIT_BINNED,
    .on_error = ANT_ON_ERROR_ABORT,
    .mmap_threshold = 256u << 10,
    .trim_threshold = 128u << 10,
    .region_size = 1u << 20,
    .poison_check = 4096,
    .cache_bytes = 256u << 10,
    .depot = 8,
    .guard = ANT_DEFAULT_GUARD,
    .stack = ANT_DEFAULT_STACK,
};

enum kind { WORD, SIZE };

struct word {
    const char *name;
    int value;
};

static const struct word fit_words[] = {{"first", ANT_FIT_FIRST},   {"next", ANT_FIT_NEXT},   {"best", ANT_FIT_BEST},
                                        {"binned", ANT_FIT_BINNED}, {"worst", ANT_FIT_WORST}, {0, 0}};
static const struct word on_error_words[] = {{"abort", ANT_ON_ERROR_ABORT}, {"report", ANT_ON_ERROR_REPORT}, {0, 0}};

struct option {
    const char *name;
    enum kind kind;
    void *value;
    const struct word *words; /* for WORD */
    size_t min, max;          /* for SIZE */
    const char *expect;       /* says what a good value looks like */
    bool *given;              /* set when the user gives this option, or 0 */
};

static const struct option table[] = {
    {"fit", WORD, &ant_opt.fit, fit_words, 0, 0, "first, next, best, worst or binned"},
    {"on_error", WORD, &ant_opt.on_error, on_error_words, 0, 0, "abort or report"},
    {"mmap_threshold", SIZE, &ant_opt.mmap_threshold, 0, 4096, (size_t)1 << 40, "a size from 4k to 1t, such as 256k",
     &ant_opt.thresholds_given},
    {"trim_threshold", SIZE, &ant_opt.trim_threshold, 0, 4096, (size_t)1 << 40, "a size from 4k to 1t, such as 128k",
     &ant_opt.thresholds_given},
    {"region_size", SIZE, &ant_opt.region_size, 0, 64u << 10, (size_t)1 << 40, "a size from 64k to 1t, such as 1m"},
    {"poison_check", SIZE, &ant_opt.poison_check, 0, 0, (size_t)1 << 40,
     "a size in bytes, such as 4096 (0 checks no poison)"},
    {"arenas", SIZE, &ant_opt.arenas, 0, 1, ANT_MAX_ARENAS, "a count of arenas from 1 to 64, such as 4"},
    {"cache", SIZE, &ant_opt.cache, 0, 0, 1024, "a count of blocks from 0 to 1024, such as 16 (0: no thread caches)",
     &ant_opt.cache_given},
    {"cache_bytes", SIZE, &ant_opt.cache_bytes, 0, 4096, (size_t)1 << 30, "a size from 4k to 1g, such as 256k"},
    {"depot", SIZE, &ant_opt.depot, 0, 0, 64, "a count of thread caches' worth from 0 to 64, such as 8 (0: no depots)"},
    {"break_serial", SIZE, &ant_opt.break_serial, 0, 0, ((size_t)1 << 48) - 1,
     "an allocation's serial, such as 1234 (0: none)"},
    {"leak_check", SIZE, &ant_opt.leak_check, 0, 0, 1, "0 or 1"},
    {"guard", SIZE, &ant_opt.guard, 0, 0, (size_t)1 << 30,
     "a count of allocations such as 10000, about one in which is guarded (0: none)"},
    {"quarantine", SIZE, &ant_opt.quarantine, 0, 0, (size_t)1 << 40,
     "a size from 0 to 1t, such as 1m (0: no quarantine)"},
    {"stack", SIZE, &ant_opt.stack, 0, 0, ANT_STACK_MAX, "a count of call frames from 0 to 32, such as 8 (0: none)"},
};

#define OPTION_COUNT (sizeof table / sizeof table[0])

static bool same(const char *a, size_t a_len, const char *b)
{
    return strlen(b) == a_len && memcmp(a, b, a_len) == 0;
}

/* "4096", "64k", "1m", "2g", "1t": decimal with an optional binary suffix. */
static bool parse_size(const char *s, size_t len, size_t *out)
{
    if (len == 0)
        return false;
    unsigned shift = 0;
    switch (s[len - 1] | 0x20) {
    case 'k': shift = 10; break;
    case 'm': shift = 20; break;
    case 'g': shift = 30; break;
    case 't': shift = 40; break;
    default: break;
    }
    if (shift)
        len--;
    if (len == 0)
        return false;
    size_t value = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        if (value > (SIZE_MAX - 9) / 10)
            return false;
        value = value * 10 + (size_t)(s[i] - '0');
    }
    if (shift && value > (SIZE_MAX >> shift))
        return false;
    *out = value << shift;
    return true;
}

static bool set_word(const struct option *o, const char *v, size_t len)
{
    for (const struct word *w = o->words; w->name; w++) {
        if (same(v, len, w->name)) {
            *(int *)o->value = w->value;
            return true;
        }
    }
    return false;
}

static bool set_size(const struct option *o, const char *v, size_t len)
{
    size_t value;
    if (!parse_size(v, len, &value) || value < o->min || value > o->max)
        return false;
    *(size_t *)o->value = value;
    return true;
}

/* Copies at most `cap - 1` bytes of s into dst, NUL-ended. */
static const char *clip(char *dst, size_t cap, const char *s, size_t len)
{
    if (len >= cap)
        len = cap - 1;
    memcpy(dst, s, len);
    dst[len] = 0;
    return dst;
}

static void apply(const char *entry, size_t len)
{
    char key[64], value[64];
    const char *eq = memchr(entry, '=', len);
    if (!eq) {
        ant_warn("ANT_OPTIONS: '", clip(key, sizeof key, entry, len),
                 "' is not key=value; ignored (keys: fit, on_error, mmap_threshold, "
                 "trim_threshold, region_size, poison_check, arenas, cache, cache_bytes, depot, "
                 "break_serial, leak_check, guard, quarantine, stack)");
        return;
    }
    size_t key_len = (size_t)(eq - entry);
    const char *v = eq + 1;
    size_t v_len = len - key_len - 1;
    for (size_t i = 0; i < OPTION_COUNT; i++) {
        const struct option *o = &table[i];
        if (!same(entry, key_len, o->name))
            continue;
        bool ok = o->kind == WORD ? set_word(o, v, v_len) : set_size(o, v, v_len);
        if (ok && o->given)
            *o->given = true;
        if (!ok) {
            char message[160];
            size_t n = 0;
            const char *parts[] = {"' for ", o->name, " is not ", o->expect, "; the default holds"};
            for (size_t p = 0; p < sizeof parts / sizeof parts[0]; p++) {
                size_t l = strlen(parts[p]);
                if (n + l >= sizeof message)
                    break;
                memcpy(message + n, parts[p], l);
                n += l;
            }
            message[n] = 0;
            ant_warn("ANT_OPTIONS: '", clip(value, sizeof value, v, v_len), message);
        }
        return;
    }
    ant_warn("ANT_OPTIONS: unknown key '", clip(key, sizeof key, entry, key_len),
             "'; ignored (keys: fit, on_error, mmap_threshold, trim_threshold, region_size, "
             "poison_check, arenas, cache, cache_bytes, depot, break_serial, leak_check, guard, quarantine, stack)");
}

void ant_options_read(const char *text)
{
    if (!text)
        return;
    while (*text) {
        const char *end = strchr(text, ':');
        size_t len = end ? (size_t)(end - text) : strlen(text);
        if (len)
            apply(text, len);
        text += len + (end ? 1 : 0);
    }
}
