/*
 * The test runner. See test.h.
 */
#include "test.h"

#include <dirent.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ddata.h"
#include "util/error.h"

#define MAX_TESTS 1024

static struct {
    const char *name;
    test_fn fn;
} tests[MAX_TESTS];
static int test_count;
static jmp_buf test_jump;
static uint64_t seed;
static char tmpdir[256];

void test_register(const char *name, test_fn fn)
{
    if (test_count == MAX_TESTS) {
        fprintf(stderr, "too many tests in one executable\n");
        exit(2);
    }
    tests[test_count].name = name;
    tests[test_count].fn = fn;
    test_count++;
}

void test_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "  %s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
    longjmp(test_jump, 1);
}

uint64_t test_seed(void)
{
    return seed;
}

unsigned test_cases(unsigned normal)
{
    const char *l = getenv("DD_LONG");
    return (l && *l && *l != '0') ? normal * 20 : normal;
}

/* ABI tests link the shared library, whose error storage is not the copy
 * of the core that this runner links; ask the library when it is there
 * (a weak reference: null when the test links only the core). */
#pragma weak dd_error_last

const char *test_last_error(void)
{
    return dd_error_last ? dd_error_last()->message : error_message();
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void remove_tree(const char *path)
{
    nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

const char *test_tmpdir(void)
{
    if (!tmpdir[0]) {
        const char *base = getenv("TMPDIR");
        snprintf(tmpdir, sizeof(tmpdir), "%s/ddata-test-XXXXXX", base && *base ? base : "/tmp");
        if (!mkdtemp(tmpdir)) {
            perror("mkdtemp");
            exit(2);
        }
    }
    return tmpdir;
}

static bool selected(const char *name, int argc, char **argv)
{
    if (argc < 2)
        return true;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return true;
    return false;
}

static uint64_t choose_seed(void)
{
    const char *s = getenv("DD_SEED");
    if (s && *s)
        return strtoull(s, NULL, 0);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ((uint64_t)ts.tv_nsec ^ (uint64_t)ts.tv_sec << 20 ^ (uint64_t)getpid()) % 1000000007ull;
}

/* Runs one test; kept apart from main so setjmp clobbers no loop state. */
static bool run_one(int i, const char *argv0)
{
    error_clear();
    tmpdir[0] = '\0';
    if (setjmp(test_jump) == 0) {
        tests[i].fn();
        printf("ok   %s\n", tests[i].name);
        if (tmpdir[0])
            remove_tree(tmpdir);
        return true;
    }
    printf("FAIL %s (seed %" PRIu64 "; replay: DD_SEED=%" PRIu64 " %s %s)\n", tests[i].name, seed,
           seed, argv0, tests[i].name);
    if (tmpdir[0])
        printf("     files kept in %s\n", tmpdir);
    return false;
}

int main(int argc, char **argv)
{
    int passed = 0, failed = 0;
    seed = choose_seed();
    setvbuf(stdout, NULL, _IONBF, 0);
    for (int i = 0; i < test_count; i++) {
        if (!selected(tests[i].name, argc, argv))
            continue;
        if (run_one(i, argv[0]))
            passed++;
        else
            failed++;
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : (passed ? 0 : 3);
}
