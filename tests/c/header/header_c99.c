/* Compiled as C99 with -pedantic -Werror: the public header stands alone. */
#include "ddata.h"

int header_c99_probe(void);
int header_c99_probe(void)
{
    dd_limits l = DD_LIMITS_INIT;
    dd_buf b = DD_BUF_INIT;
    return (int)l.version + (int)b.len;
}
