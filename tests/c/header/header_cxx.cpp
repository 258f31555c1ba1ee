// Compiled as C++11 with -pedantic -Werror: the public header stands alone.
#include "ddata.h"

int header_cxx_probe();
int header_cxx_probe()
{
    dd_limits l = DD_LIMITS_INIT;
    dd_buf b = DD_BUF_INIT;
    return static_cast<int>(l.version) + static_cast<int>(b.len);
}
