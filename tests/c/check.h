/*
 * check.h: the assertions of the C tests. A failed check prints where it
 * failed and what it expected, then exits non-zero at once: later checks
 * would only run on a heap already known to be wrong.
 */
#ifndef ANT_TEST_CHECK_H
#define ANT_TEST_CHECK_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline void check_fail(const char *file, int line, const char *expr)
{
    fprintf(stderr, "%s:%d: CHECK failed: %s\n", file, line, expr);
    fflush(stderr);
    exit(1);
}

static inline void check_eq_fail(const char *file, int line, const char *a_text, const char *b_text, uintmax_t a,
                                 uintmax_t b)
{
    fprintf(stderr, "%s:%d: CHECK failed: %s == %s (%ju == %ju, 0x%jx == 0x%jx)\n", file, line, a_text, b_text, a, b, a,
            b);
    fflush(stderr);
    exit(1);
}

static inline void check_contains_fail(const char *file, int line, const char *text, const char *needle)
{
    fprintf(stderr, "%s:%d: CHECK failed: expected to find\n  %s\nin\n%s\n", file, line, needle, text);
    fflush(stderr);
    exit(1);
}

#define CHECK(expr)                                \
    do {                                           \
        if (!(expr))                               \
            check_fail(__FILE__, __LINE__, #expr); \
    } while (0)

/* Compares two integers (or pointers cast to uintptr_t) and prints both. */
#define CHECK_EQ(a, b)                                                     \
    do {                                                                   \
        uintmax_t check_a_ = (uintmax_t)(a), check_b_ = (uintmax_t)(b);    \
        if (check_a_ != check_b_)                                          \
            check_eq_fail(__FILE__, __LINE__, #a, #b, check_a_, check_b_); \
    } while (0)

#define CHECK_CONTAINS(text, needle)                                     \
    do {                                                                 \
        const char *check_t_ = (text), *check_n_ = (needle);             \
        if (!strstr(check_t_, check_n_))                                 \
            check_contains_fail(__FILE__, __LINE__, check_t_, check_n_); \
    } while (0)

#endif
