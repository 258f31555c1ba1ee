/*
 * The one assertion the C tests of the conformance vectors make
 * (tests/c/abi/test_*_conformance.c). Apart from conformance.h because it
 * asserts with test.h, which the standalone runner does not link.
 */
#ifndef DD_TEST_CONFORMANCE_TEST_H
#define DD_TEST_CONFORMANCE_TEST_H

#include "conformance.h"
#include "test.h"

/* Every case of tests/conformance/<area>/ plays through play and passes
 * (or fails as known_failures_c.txt lists), and the area is not empty: a
 * missing folder must not pass as zero failures. */
static inline void expect_conformance_area_passes(const char *area, conf_case_fn play)
{
    conf_tally t;
    ASSERT_MSG(conf_run_area(area, play, &t) == 0, "cannot read the %s vectors", area);
    ASSERT_MSG(t.files > 0 && t.cases > 0, "%s: %d files, %d cases", area, t.files, t.cases);
    ASSERT_MSG(t.failures == 0, "%s: %d of %d cases failed", area, t.failures, t.cases);
}

#endif
