/*
 * The bracket of the abi/system*.c functions that work on a running system:
 * resolve the handle (DD_EMISUSE when closed) and hold the node's lock for
 * the call, then drop both. One bracket so the lock order (handle reference
 * first, lock second, released in reverse) is written once.
 */
#ifndef DD_ABI_SYSTEM_H
#define DD_ABI_SYSTEM_H

#include "abi.h"
#include "node/node.h"

#define SYSTEM_ENTER(var, h)                                                                       \
    node *var = handle_acquire((h), HK_SYSTEM, "system");                                          \
    if (!var)                                                                                      \
        return DD_EMISUSE;                                                                         \
    node_lock(var)

#define SYSTEM_LEAVE(var, h)                                                                       \
    node_unlock(var);                                                                              \
    handle_release(h)

#endif
