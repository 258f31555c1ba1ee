/*
 * The handle table. See handle.h for the model.
 *
 * A slot's `state` packs, in 64 bits: generation (32), closed flag (1) and
 * reference count (31). A handle value is (generation << 32 | index + 1)
 * so it is never 0 and never a small integer. Generations start at 1 and
 * are bumped when a slot is reused, so an old handle never matches a new
 * object in its slot.
 */
#include "abi.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "util/error.h"
#include "util/status.h"

_Static_assert(sizeof(uintptr_t) == 8, "ddata handles need 64-bit pointers");

#define SEGMENT_COUNT 26
#define FIRST_SEGMENT_SLOTS 64u
#define CLOSED_BIT (1ull << 31)
#define REFS_MASK (CLOSED_BIT - 1)

/* The last failure of a call made with a handle; allocated at the first
 * failure, so a handle that never fails costs nothing. */
typedef struct slot_error {
    dd_error view; /* what dd_handle_error hands out; message points below */
    char message[ERROR_MESSAGE_MAX];
} slot_error;

typedef struct slot {
    _Atomic uint64_t state;
    void *obj;
    handle_destroy_fn destroy;
    uint32_t kind;
    uint32_t next_free; /* index + 1 of the next free slot, 0 = none */
    atomic_flag error_lock;
    slot_error *error;
} slot;

static _Atomic(slot *) segments[SEGMENT_COUNT];
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static uint32_t free_head;  /* index + 1 */
static uint32_t slots_used; /* slots ever handed out (high-water mark) */
static _Atomic uint64_t live_objects;

/* Segment s holds FIRST_SEGMENT_SLOTS << s slots, so indexes map to
 * (segment, offset) by the position of the highest bit. */
static void locate(uint32_t index, uint32_t *seg, uint32_t *off)
{
    uint32_t n = index / FIRST_SEGMENT_SLOTS + 1;
    uint32_t s = 31u - (uint32_t)__builtin_clz(n);
    *seg = s;
    *off = index - FIRST_SEGMENT_SLOTS * ((1u << s) - 1u);
}

static slot *slot_at(uint32_t index)
{
    uint32_t seg, off;
    locate(index, &seg, &off);
    if (seg >= SEGMENT_COUNT)
        return NULL;
    slot *base = atomic_load_explicit(&segments[seg], memory_order_acquire);
    return base ? &base[off] : NULL;
}

static slot *slot_new_locked(uint32_t *index_out)
{
    if (free_head) {
        uint32_t index = free_head - 1;
        slot *s = slot_at(index);
        free_head = s->next_free;
        *index_out = index;
        return s;
    }
    uint32_t index = slots_used;
    uint32_t seg, off;
    locate(index, &seg, &off);
    if (seg >= SEGMENT_COUNT)
        return NULL;
    if (!atomic_load_explicit(&segments[seg], memory_order_relaxed)) {
        slot *base = calloc((size_t)FIRST_SEGMENT_SLOTS << seg, sizeof(slot));
        if (!base)
            return NULL;
        for (size_t i = 0; i < ((size_t)FIRST_SEGMENT_SLOTS << seg); i++) {
            atomic_init(&base[i].state, 0);
            atomic_flag_clear(&base[i].error_lock);
        }
        atomic_store_explicit(&segments[seg], base, memory_order_release);
    }
    slots_used++;
    *index_out = index;
    return slot_at(index);
}

uintptr_t handle_register(void *obj, handle_kind kind, handle_destroy_fn destroy)
{
    uint32_t index;
    pthread_mutex_lock(&table_lock);
    slot *s = slot_new_locked(&index);
    if (!s) {
        pthread_mutex_unlock(&table_lock);
        error_oom();
        return 0;
    }
    uint32_t gen = (uint32_t)(atomic_load_explicit(&s->state, memory_order_relaxed) >> 32) + 1;
    if (gen == 0)
        gen = 1;
    s->obj = obj;
    s->destroy = destroy;
    s->kind = (uint32_t)kind;
    s->next_free = 0;
    atomic_store_explicit(&s->state, (uint64_t)gen << 32 | 1u, memory_order_release);
    pthread_mutex_unlock(&table_lock);
    atomic_fetch_add_explicit(&live_objects, 1, memory_order_relaxed);
    return (uintptr_t)gen << 32 | (uintptr_t)(index + 1);
}

static slot *slot_of(const void *h, uint32_t *gen)
{
    uintptr_t v = (uintptr_t)h;
    uint32_t index1 = (uint32_t)v;
    *gen = (uint32_t)(v >> 32);
    if (index1 == 0 || *gen == 0 || index1 - 1 >= 0xffffffffu)
        return NULL;
    return slot_at(index1 - 1);
}

static const char *kind_name(uint32_t kind)
{
    /* Designated initialisers: a kind added to handle.h without a name here
     * prints "?" instead of reading past the table. */
    static const char *names[HK_KIND_COUNT] = {
        [HK_CRDT] = "crdt",
        [HK_SYSTEM] = "system",
        [HK_REPLICA] = "replica",
        [HK_JOURNAL] = "journal",
        [HK_STATE_STORE] = "state store",
        [HK_KEYRING] = "keyring",
        [HK_OWNED] = "owned state",
        [HK_JOURNAL_CURSOR] = "journal cursor",
    };
    return kind < HK_KIND_COUNT && names[kind] ? names[kind] : "?";
}

static void *misuse(const void *h, const char *what, const char *why)
{
    if (!h)
        error_set(ST_EMISUSE, "%s handle is NULL", what);
    else
        error_set(ST_EMISUSE, "%s handle is %s", what, why);
    return NULL;
}

void *handle_acquire(const void *h, handle_kind kind, const char *what)
{
    uint32_t gen;
    slot *s = h ? slot_of(h, &gen) : NULL;
    if (!s)
        return misuse(h, what, "not a ddata handle");
    uint64_t state = atomic_load_explicit(&s->state, memory_order_acquire);
    for (;;) {
        if ((uint32_t)(state >> 32) != gen)
            return misuse(h, what, "stale: its object was closed");
        if (state & CLOSED_BIT || (state & REFS_MASK) == 0)
            return misuse(h, what, "closed");
        if ((state & REFS_MASK) == REFS_MASK)
            return misuse(h, what, "referenced too often");
        if (atomic_compare_exchange_weak_explicit(&s->state, &state, state + 1,
                                                  memory_order_acq_rel, memory_order_acquire))
            break;
    }
    if (s->kind != (uint32_t)kind) {
        handle_release(h);
        error_set(ST_EMISUSE, "%s handle expected, got a %s handle", what, kind_name(s->kind));
        return NULL;
    }
    return s->obj;
}

static void slot_free(slot *s, uint32_t index)
{
    void *obj = s->obj;
    handle_destroy_fn destroy = s->destroy;
    s->obj = NULL;
    s->destroy = NULL;
    free(s->error);
    s->error = NULL;
    if (destroy)
        destroy(obj);
    atomic_fetch_sub_explicit(&live_objects, 1, memory_order_relaxed);
    pthread_mutex_lock(&table_lock);
    s->next_free = free_head;
    free_head = index + 1;
    pthread_mutex_unlock(&table_lock);
}

void handle_release(const void *h)
{
    uint32_t gen;
    slot *s = h ? slot_of(h, &gen) : NULL;
    if (!s)
        return;
    uint64_t prev = atomic_fetch_sub_explicit(&s->state, 1, memory_order_acq_rel);
    /* Only the last reference of a closed slot reaches zero. */
    if ((prev & REFS_MASK) == 1)
        slot_free(s, (uint32_t)((uintptr_t)h) - 1);
}

void handle_retain(const void *h)
{
    uint32_t gen;
    slot *s = h ? slot_of(h, &gen) : NULL;
    if (s)
        atomic_fetch_add_explicit(&s->state, 1, memory_order_acq_rel);
}

int handle_close(const void *h, handle_kind kind, const char *what)
{
    if (!h)
        return ST_OK;
    uint32_t gen;
    slot *s = slot_of(h, &gen);
    if (!s) {
        misuse(h, what, "not a ddata handle");
        return ST_EMISUSE;
    }
    uint64_t state = atomic_load_explicit(&s->state, memory_order_acquire);
    for (;;) {
        if ((uint32_t)(state >> 32) != gen || state & CLOSED_BIT || (state & REFS_MASK) == 0) {
            misuse(h, what, "already closed");
            return ST_EMISUSE;
        }
        if (s->kind != (uint32_t)kind) {
            error_set(ST_EMISUSE, "%s handle expected, got a %s handle", what, kind_name(s->kind));
            return ST_EMISUSE;
        }
        if (atomic_compare_exchange_weak_explicit(&s->state, &state, state | CLOSED_BIT,
                                                  memory_order_acq_rel, memory_order_acquire))
            break;
    }
    handle_release(h);
    return ST_OK;
}

/* Takes a reference on an open handle of any kind without setting an
 * error; NULL when it is not one. */
static slot *slot_ref_quiet(const void *h)
{
    uint32_t gen;
    slot *s = h ? slot_of(h, &gen) : NULL;
    if (!s)
        return NULL;
    uint64_t state = atomic_load_explicit(&s->state, memory_order_acquire);
    for (;;) {
        if ((uint32_t)(state >> 32) != gen || state & CLOSED_BIT || (state & REFS_MASK) == 0 ||
            (state & REFS_MASK) == REFS_MASK)
            return NULL;
        if (atomic_compare_exchange_weak_explicit(&s->state, &state, state + 1,
                                                  memory_order_acq_rel, memory_order_acquire))
            return s;
    }
}

static void error_lock(slot *s)
{
    while (atomic_flag_test_and_set_explicit(&s->error_lock, memory_order_acquire))
        ;
}

static void error_unlock(slot *s)
{
    atomic_flag_clear_explicit(&s->error_lock, memory_order_release);
}

void handle_record_error(const void *h, int code, const char *message)
{
    slot *s = slot_ref_quiet(h);
    if (!s)
        return;
    error_lock(s);
    if (!s->error)
        s->error = malloc(sizeof(*s->error));
    if (s->error) {
        snprintf(s->error->message, sizeof(s->error->message), "%s", message);
        s->error->view.code = code;
        s->error->view.message = s->error->message;
    }
    error_unlock(s);
    handle_release(h);
}

int handle_last_error(const void *h, const dd_error **out)
{
    static const dd_error none = {DD_OK, "no error"};
    slot *s = slot_ref_quiet(h);
    if (!s) {
        misuse(h, "ddata", "closed, stale or not a ddata handle");
        return ST_EMISUSE;
    }
    error_lock(s);
    *out = s->error ? &s->error->view : &none;
    error_unlock(s);
    handle_release(h);
    return ST_OK;
}

uint64_t handle_live_count(void)
{
    return atomic_load_explicit(&live_objects, memory_order_relaxed);
}
