/*
 * The body of a store-side handle call (journal, state store, keyring)
 * that is one core call: STORE_ACQUIRE's bracket around it, stated once
 * for the files whose calls are mostly that (dd_journal.c, dd_keyring.c,
 * dd_state_blocks.c).
 */
#ifndef DD_ABI_STORE_CALL_INTERNAL_H
#define DD_ABI_STORE_CALL_INTERNAL_H

#include "dd_store.h"
#include "handle.h"

/* Acquires handle `h` as `var` (a `type`; DD_EMISUSE naming `what` when it
 * is not one), runs `call`, releases the handle and returns the call's
 * status. Ends the function it stands in. */
#define STORE_CALL(type, var, h, kind, what, call)                                                 \
    do {                                                                                           \
        STORE_ACQUIRE(type, var, h, kind, what);                                                   \
        int store_call_rc_ = (call);                                                               \
        handle_release(h);                                                                         \
        return store_call_rc_;                                                                     \
    } while (0)

#endif
