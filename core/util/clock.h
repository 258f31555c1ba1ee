/*
 * Clocks. The engine never reads these itself (it is given `now`); only the
 * node shell, the stores' timestamps and the benchmarks do.
 */
#ifndef DD_UTIL_CLOCK_H
#define DD_UTIL_CLOCK_H

#include <stdint.h>

uint64_t clock_monotonic_ms(void);
uint64_t clock_monotonic_ns(void);
uint64_t clock_wall_ms(void); /* milliseconds since the Unix epoch */

#endif
