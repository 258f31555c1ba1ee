/*
 * The test harness every C test executable uses.
 *
 * A test is a function declared with TEST(name); it registers itself. The
 * runner runs all tests (or those named on the command line), one after
 * another, and ends with the line "N passed, N failed". A failed ASSERT
 * stops the current test (longjmp) and the runner goes on with the next.
 *
 * Randomness is seeded: test_seed() is fixed by DD_SEED or chosen per run,
 * and printed with every failure so the case replays exactly:
 *   DD_SEED=1234 ./test_orset test_merge_commutes
 * DD_LONG=1 asks property tests for their long mode (test_cases()).
 */
#ifndef DD_TEST_H
#define DD_TEST_H

#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef void (*test_fn)(void);

void test_register(const char *name, test_fn fn);
void test_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), noreturn));
/* The seed of this run; tests derive their RNGs from it. */
uint64_t test_seed(void);
/* How many random cases a property test should run: `normal`, or
 * `normal * 20` when DD_LONG is set. */
unsigned test_cases(unsigned normal);
/* A fresh temporary directory for this test (removed when it passes). */
const char *test_tmpdir(void);

#define TEST(name)                                                                                 \
    static void name(void);                                                                        \
    __attribute__((constructor)) static void register_##name(void)                                 \
    {                                                                                              \
        test_register(#name, name);                                                                \
    }                                                                                              \
    static void name(void)

#define ASSERT(cond)                                                                               \
    do {                                                                                           \
        if (!(cond))                                                                               \
            test_fail(__FILE__, __LINE__, "assertion failed: %s", #cond);                          \
    } while (0)

#define ASSERT_MSG(cond, ...)                                                                      \
    do {                                                                                           \
        if (!(cond))                                                                               \
            test_fail(__FILE__, __LINE__, __VA_ARGS__);                                            \
    } while (0)

#define ASSERT_EQ_INT(a, b)                                                                        \
    do {                                                                                           \
        long long a_ = (long long)(a), b_ = (long long)(b);                                        \
        if (a_ != b_)                                                                              \
            test_fail(__FILE__, __LINE__, "%s == %s: %lld != %lld", #a, #b, a_, b_);               \
    } while (0)

#define ASSERT_EQ_U64(a, b)                                                                        \
    do {                                                                                           \
        uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b);                                           \
        if (a_ != b_)                                                                              \
            test_fail(__FILE__, __LINE__, "%s == %s: %" PRIu64 " != %" PRIu64, #a, #b, a_, b_);    \
    } while (0)

#define ASSERT_STR_EQ(a, b)                                                                        \
    do {                                                                                           \
        const char *a_ = (a), *b_ = (b);                                                           \
        if (!a_ || !b_ || strcmp(a_, b_) != 0)                                                     \
            test_fail(__FILE__, __LINE__, "%s == %s: \"%s\" != \"%s\"", #a, #b,                    \
                      a_ ? a_ : "(null)", b_ ? b_ : "(null)");                                     \
    } while (0)

#define ASSERT_MEM_EQ(a, alen, b, blen)                                                            \
    do {                                                                                           \
        size_t al_ = (alen), bl_ = (blen);                                                         \
        if (al_ != bl_ || (al_ && memcmp((a), (b), al_) != 0))                                     \
            test_fail(__FILE__, __LINE__, "%s (%zu bytes) != %s (%zu bytes)", #a, al_, #b, bl_);   \
    } while (0)

/* Asserts a status code, printing its name and the last error message. */
#define ASSERT_STATUS(expr, expected)                                                              \
    do {                                                                                           \
        int rc_ = (expr);                                                                          \
        if (rc_ != (expected))                                                                     \
            test_fail(__FILE__, __LINE__, "%s returned %d, expected %d (%s)", #expr, rc_,          \
                      (int)(expected), test_last_error());                                         \
    } while (0)

#define ASSERT_OK(expr) ASSERT_STATUS(expr, 0)

/* The message of the last ddata error, for failure reports. Tests of the
 * core get the core's; ABI tests get dd_error_last()'s (same storage). */
const char *test_last_error(void);

#endif
