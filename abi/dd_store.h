/*
 * What abi/dd_journal.c, abi/dd_keyring.c and abi/backend_*.c use of
 * abi/dd_store.c: the store options turned into a backend, a sealer and the
 * journal's options, and the last step of every open.
 */
#ifndef DD_ABI_DD_STORE_H
#define DD_ABI_DD_STORE_H

#include "ddata.h"
#include "handle.h"
#include "seal/seal.h"
#include "store/journal.h"
#include "store/state_store.h"
#include "store/store.h"

/* Checks `o` and opens its backend and sealer (both freed by the caller on
 * success; none left open on failure). `jo` may be NULL. */
int abi_store_open_parts(const dd_store_options *o, store_backend **be, sealer **seal,
                         journal_options *jo);

/* The sealer and journal options of `o` (NULL: defaults), shared by the
 * built-in engines and a user's own (abi/backend_custom.c). */
int abi_store_sealer(const dd_store_options *o, sealer **seal, journal_options *jo);
/* The built-in engine `o` names (abi/backend_builtin.c). */
int abi_store_engine(const dd_store_options *o, store_backend **be);

/* The last step of opening a store-side object (journal, state store,
 * keyring): registers `obj` as a handle of `kind`; when the table has no
 * room, destroys `obj` and returns 0 (error set), so the caller writes
 * `*out = (dd_x *)h` and returns `h ? DD_OK : DD_ENOMEM`. */
uintptr_t abi_store_register(void *obj, handle_kind kind, handle_destroy_fn destroy);

/* Runs op on the state store behind `store`, inside the bracket below. */
int abi_state_store_call(dd_state_store *store, int (*op)(state_store *s));

/* The bracket every call on a store-side handle (journal, state store,
 * keyring) opens with: `var` is the `type` object behind handle `h`, or the
 * call returns DD_EMISUSE (error set, naming `what`). The call closes the
 * bracket with handle_release(h) once it is done with `var`. */
#define STORE_ACQUIRE(type, var, h, kind, what)                                                    \
    type *var = handle_acquire((h), (kind), (what));                                               \
    if (!var)                                                                                      \
    return DD_EMISUSE

#endif
