/*
 * The handle table: how the ABI hands out objects without handing out
 * pointers.
 *
 * A public handle (dd_journal *, dd_crdt *, ...) is not the address of
 * anything. It encodes a slot index and the slot's generation. Looking it up
 * checks the generation, the kind and that the slot is open, so a NULL,
 * closed, stale or forged handle yields DD_EMISUSE instead of a crash; this
 * is what lets GC'd hosts run finalizers in any order.
 *
 * Each slot carries a reference count. handle_acquire takes a reference for
 * the duration of one ABI call, so a concurrent close never frees an object
 * under a running call: the object is destroyed when the last reference
 * goes. Children (a replica of a system) hold a reference on their parent,
 * which defers closing the parent as sqlite3_close_v2 does.
 *
 * Slots live in segments that are never freed or moved, so a lookup is two
 * array indexings and one atomic compare-and-swap, with no lock.
 */
#ifndef DD_ABI_HANDLE_H
#define DD_ABI_HANDLE_H

#include <stdint.h>

typedef enum handle_kind {
    HK_CRDT = 1,
    HK_SYSTEM,
    HK_REPLICA,
    HK_JOURNAL,
    HK_STATE_STORE,
    HK_KEYRING,
    HK_OWNED,
    HK_JOURNAL_CURSOR,
    HK_KIND_COUNT
} handle_kind;

typedef void (*handle_destroy_fn)(void *obj);

/* Registers `obj`; returns the handle value (never 0), or 0 when out of
 * memory (error set). The table holds one reference until handle_close. */
uintptr_t handle_register(void *obj, handle_kind kind, handle_destroy_fn destroy);

/* Returns the object and takes a reference, or NULL (error set, naming
 * `what`) when the handle is NULL, closed, stale or of another kind. */
void *handle_acquire(const void *h, handle_kind kind, const char *what);
void handle_release(const void *h);

/* The last step of every opener: registers `obj` and hands the handle out
 * through *out, returning DD_OK from the caller; when out of memory destroys
 * `obj` with `destroy` and returns DD_ENOMEM. */
#define HANDLE_PUBLISH(out, obj, kind, destroy)                                                    \
    do {                                                                                           \
        uintptr_t handle_ = handle_register((obj), (kind), (destroy));                             \
        if (!handle_) {                                                                            \
            (destroy)(obj);                                                                        \
            return DD_ENOMEM;                                                                      \
        }                                                                                          \
        *(out) = (void *)handle_;                                                                  \
        return DD_OK;                                                                              \
    } while (0)

/* Takes an extra reference on an already-acquired handle (a child holding
 * its parent). Pair with handle_release. */
void handle_retain(const void *h);

/* Marks the handle closed and drops the table's reference. Later lookups
 * fail; the object is destroyed once no call is using it. Closing NULL is a
 * no-op returning 0; closing an already closed handle returns ST_EMISUSE. */
int handle_close(const void *h, handle_kind kind, const char *what);

/* Per-handle errors (dd_handle_error): the last failure of a call made
 * with a handle, kept in its slot so that a runtime whose tasks move
 * between threads reads the right message. */

/* Records a failed call's `code` and `message` on `h`; does nothing when
 * `h` is not an open handle (a call that closed it, a forged value) or
 * when there is no memory for the record (the thread's error still has
 * it). Any kind. */
void handle_record_error(const void *h, int code, const char *message);

/* Points *out at `h`'s last recorded failure ({DD_OK, "no error"} when
 * none); ST_EMISUSE (error set) when `h` is not an open handle. It stays
 * valid until the next failed call on `h` or until `h` is destroyed. */
struct dd_error;
int handle_last_error(const void *h, const struct dd_error **out);

/* Number of live (registered, not yet destroyed) objects; for leak tests. */
uint64_t handle_live_count(void);

#endif
