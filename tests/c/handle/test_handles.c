/*
 * The handle table: closed, stale, forged and wrong-kind handles are
 * refused; objects die only when the last reference goes.
 */
#include <pthread.h>

#include "handle.h"
#include "test.h"
#include "util/error.h"
#include "util/status.h"

static int destroyed;

static void count_destroy(void *obj)
{
    (void)obj;
    destroyed++;
}

TEST(test_acquire_returns_the_registered_object)
{
    int obj = 7;
    uintptr_t h = handle_register(&obj, HK_JOURNAL, NULL);
    ASSERT(h != 0);
    int *got = handle_acquire((void *)h, HK_JOURNAL, "journal");
    ASSERT(got == &obj);
    handle_release((void *)h);
    ASSERT_OK(handle_close((void *)h, HK_JOURNAL, "journal"));
}

TEST(test_closed_and_stale_handles_are_refused)
{
    int obj = 1;
    uintptr_t h = handle_register(&obj, HK_CRDT, NULL);
    ASSERT_OK(handle_close((void *)h, HK_CRDT, "crdt"));
    ASSERT(handle_acquire((void *)h, HK_CRDT, "crdt") == NULL);
    ASSERT_EQ_INT(error_code(), ST_EMISUSE);
    ASSERT_STATUS(handle_close((void *)h, HK_CRDT, "crdt"), ST_EMISUSE);
    /* The slot is reused with a new generation; the old handle stays dead. */
    uintptr_t h2 = handle_register(&obj, HK_CRDT, NULL);
    ASSERT(h2 != h);
    ASSERT(handle_acquire((void *)h, HK_CRDT, "crdt") == NULL);
    ASSERT_OK(handle_close((void *)h2, HK_CRDT, "crdt"));
}

TEST(test_null_forged_and_wrong_kind_handles_are_refused)
{
    int obj = 1;
    ASSERT(handle_acquire(NULL, HK_CRDT, "crdt") == NULL);
    ASSERT(handle_acquire((void *)0x1234, HK_CRDT, "crdt") == NULL);
    ASSERT(handle_acquire((void *)(uintptr_t)0xdeadbeef00000001ull, HK_CRDT, "crdt") == NULL);
    uintptr_t h = handle_register(&obj, HK_SYSTEM, NULL);
    ASSERT(handle_acquire((void *)h, HK_CRDT, "crdt") == NULL);
    ASSERT_STATUS(handle_close((void *)h, HK_CRDT, "crdt"), ST_EMISUSE);
    ASSERT_OK(handle_close((void *)h, HK_SYSTEM, "system"));
    ASSERT_OK(handle_close(NULL, HK_SYSTEM, "system"));
}

TEST(test_close_during_a_call_defers_destruction)
{
    int obj = 1;
    destroyed = 0;
    uintptr_t h = handle_register(&obj, HK_REPLICA, count_destroy);
    ASSERT(handle_acquire((void *)h, HK_REPLICA, "replica") == &obj);
    ASSERT_OK(handle_close((void *)h, HK_REPLICA, "replica"));
    ASSERT_EQ_INT(destroyed, 0);
    handle_release((void *)h);
    ASSERT_EQ_INT(destroyed, 1);
}

TEST(test_many_handles_grow_the_table)
{
    enum { N = 5000 };
    static uintptr_t hs[N];
    static int objs[N];
    uint64_t before = handle_live_count();
    for (int i = 0; i < N; i++) {
        hs[i] = handle_register(&objs[i], HK_CRDT, NULL);
        ASSERT(hs[i] != 0);
    }
    ASSERT_EQ_U64(handle_live_count(), before + N);
    for (int i = 0; i < N; i++) {
        ASSERT(handle_acquire((void *)hs[i], HK_CRDT, "crdt") == &objs[i]);
        handle_release((void *)hs[i]);
        ASSERT_OK(handle_close((void *)hs[i], HK_CRDT, "crdt"));
    }
    ASSERT_EQ_U64(handle_live_count(), before);
}

static uintptr_t shared_handle;
static int shared_obj;

static void *hammer(void *arg)
{
    (void)arg;
    for (int i = 0; i < 100000; i++) {
        if (handle_acquire((void *)shared_handle, HK_CRDT, "crdt"))
            handle_release((void *)shared_handle);
    }
    return NULL;
}

TEST(test_concurrent_acquire_and_close_destroy_exactly_once)
{
    destroyed = 0;
    shared_handle = handle_register(&shared_obj, HK_CRDT, count_destroy);
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, hammer, NULL);
    ASSERT_OK(handle_close((void *)shared_handle, HK_CRDT, "crdt"));
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    ASSERT_EQ_INT(destroyed, 1);
}

TEST(test_every_kind_has_a_name_in_wrong_kind_messages)
{
    int obj = 1;
    for (int kind = HK_CRDT; kind < HK_KIND_COUNT; kind++) {
        uintptr_t h = handle_register(&obj, (handle_kind)kind, NULL);
        handle_kind other = kind == HK_CRDT ? HK_SYSTEM : HK_CRDT;
        ASSERT(handle_acquire((void *)h, other, "x") == NULL);
        ASSERT_MSG(strstr(error_message(), "got a ?") == NULL, "kind %d has no name: %s", kind,
                   error_message());
        ASSERT_OK(handle_close((void *)h, (handle_kind)kind, "x"));
    }
}
