/*
 * The error rules through the public header: the per-handle record
 * (dd_handle_error) that does not depend on the calling thread, and the
 * rule that a successful call leaves the thread's error untouched. The
 * generated abi.hostile_calls test checks both for every function; these
 * are the stories behind it.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "ddata.h"
#include "test.h"

#define PID(s) (const uint8_t *)(s), strlen(s)

static dd_journal *memory_journal(void)
{
    dd_store_options o = DD_STORE_OPTIONS_INIT;
    dd_journal *j = NULL;
    ASSERT_OK(dd_journal_open(&j, &o));
    return j;
}

static void append_one(dd_journal *j, const char *pid, uint64_t expected)
{
    dd_append_event ev = {(const uint8_t *)"x", 1, 0, NULL, 0};
    ASSERT_OK(dd_journal_append(j, PID(pid), expected, &ev, 1));
}

TEST(test_handle_error_records_the_failure_of_a_call_made_with_it)
{
    dd_journal *j = memory_journal();
    const dd_error *e = NULL;
    ASSERT_OK(dd_handle_error(&e, j));
    ASSERT_EQ_INT(e->code, DD_OK);
    ASSERT_STR_EQ(e->message, "no error");
    append_one(j, "p", 0);
    dd_append_event ev = {(const uint8_t *)"y", 1, 0, NULL, 0};
    ASSERT_STATUS(dd_journal_append(j, PID("p"), 0, &ev, 1), DD_ECONFLICT);
    dd_error_clear(); /* the thread's error is gone; the handle keeps its own */
    ASSERT_OK(dd_handle_error(&e, j));
    ASSERT_EQ_INT(e->code, DD_ECONFLICT);
    ASSERT(strstr(e->message, "'p'") != NULL);
    /* A successful call on the handle leaves the record alone. */
    append_one(j, "p", 1);
    ASSERT_OK(dd_handle_error(&e, j));
    ASSERT_EQ_INT(e->code, DD_ECONFLICT);
    ASSERT_OK(dd_journal_close(j));
}

typedef struct failing_call {
    dd_journal *j;
    int rc;
} failing_call;

static void *fail_on_another_thread(void *arg)
{
    failing_call *c = arg;
    uint64_t seq;
    c->rc = dd_journal_highest_seq(&seq, c->j, NULL, 3); /* NULL pid, length 3 */
    return NULL;
}

TEST(test_handle_error_is_read_from_any_thread)
{
    dd_journal *j = memory_journal();
    dd_error_clear();
    failing_call c = {j, 0};
    pthread_t t;
    ASSERT(pthread_create(&t, NULL, fail_on_another_thread, &c) == 0);
    ASSERT(pthread_join(t, NULL) == 0);
    ASSERT_EQ_INT(c.rc, DD_EINVAL);
    /* This thread never failed; the handle remembers the other thread's
     * failure, as a goroutine that moved threads would need. */
    ASSERT_EQ_INT(dd_error_last()->code, DD_OK);
    const dd_error *e = NULL;
    ASSERT_OK(dd_handle_error(&e, j));
    ASSERT_EQ_INT(e->code, DD_EINVAL);
    ASSERT(strstr(e->message, "persistence id") != NULL);
    ASSERT_OK(dd_journal_close(j));
}

TEST(test_handle_error_of_a_null_closed_or_forged_handle_is_misuse)
{
    const dd_error *e = NULL;
    ASSERT_STATUS(dd_handle_error(&e, NULL), DD_EMISUSE);
    ASSERT(e == NULL);
    ASSERT_STATUS(dd_handle_error(&e, (const void *)(uintptr_t)0x7ffe00fffff1ull), DD_EMISUSE);
    dd_journal *j = memory_journal();
    ASSERT_OK(dd_journal_close(j));
    ASSERT_STATUS(dd_handle_error(&e, j), DD_EMISUSE);
    ASSERT_STATUS(dd_handle_error(NULL, j), DD_EINVAL);
}

TEST(test_handle_error_works_for_every_kind_of_handle)
{
    dd_crdt *v = NULL;
    ASSERT_OK(dd_crdt_new(&v, DD_GSET));
    dd_op op = DD_OP_INIT;
    op.kind = DD_OP_REMOVE; /* a GSet cannot remove */
    op.value = (const uint8_t *)"a";
    op.value_len = 1;
    ASSERT_STATUS(dd_crdt_apply(v, &op, 1, 0, NULL), DD_ETYPE);
    const dd_error *e = NULL;
    ASSERT_OK(dd_handle_error(&e, v));
    ASSERT_EQ_INT(e->code, DD_ETYPE);
    ASSERT_OK(dd_crdt_free(v));
}

static int count_event(void *ctx, const dd_journal_event *ev)
{
    (void)ev;
    ++*(int *)ctx;
    return 0;
}

TEST(test_recover_without_a_snapshot_leaves_the_error_untouched)
{
    dd_journal *j = memory_journal();
    append_one(j, "p", 0);
    dd_limits lim;
    ASSERT_STATUS(dd_limits_init(&lim, 77), DD_EINVAL); /* a sentinel failure */
    char sentinel[512];
    snprintf(sentinel, sizeof sentinel, "%s", dd_error_last()->message);
    uint64_t last = 0;
    int events = 0;
    ASSERT_OK(dd_journal_recover(&last, j, PID("p"), NULL, count_event, &events));
    ASSERT_EQ_U64(last, 1);
    ASSERT_EQ_INT(events, 1);
    ASSERT_EQ_INT(dd_error_last()->code, DD_EINVAL);
    ASSERT_STR_EQ(dd_error_last()->message, sentinel);
    const dd_error *e = NULL;
    ASSERT_OK(dd_handle_error(&e, j));
    ASSERT_EQ_INT(e->code, DD_OK);
    ASSERT_OK(dd_journal_close(j));
}

TEST(test_done_is_not_an_error_and_leaves_outputs_empty)
{
    dd_journal *j = memory_journal();
    dd_journal_cursor *c = NULL;
    ASSERT_OK(dd_journal_pids(&c, j, NULL, 0, 10));
    dd_error_clear();
    dd_journal_event ev;
    memset(&ev, 0xab, sizeof ev);
    ASSERT_STATUS(dd_journal_cursor_next(&ev, c), DD_EDONE);
    ASSERT(ev.pid == NULL && ev.pid_len == 0 && ev.payload == NULL);
    ASSERT_EQ_INT(dd_error_last()->code, DD_OK);
    const dd_error *e = NULL;
    ASSERT_OK(dd_handle_error(&e, c));
    ASSERT_EQ_INT(e->code, DD_OK);
    ASSERT_OK(dd_journal_cursor_close(c));
    ASSERT_OK(dd_journal_close(j));
}

typedef struct callback_story {
    dd_journal *j;
    int stop_with;     /* what on_event returns */
    int appended_seq;  /* > 0: append inside the callback (re-entrancy) */
    int forward_inner; /* 1: make a ddata call fail and return its status */
    int events;
} callback_story;

static int story_event(void *ctx, const dd_journal_event *ev)
{
    callback_story *s = ctx;
    s->events++;
    if (s->appended_seq) {
        /* ddata inside a callback, on the journal being recovered */
        dd_append_event more = {(const uint8_t *)"z", 1, 0, NULL, 0};
        ASSERT_OK(dd_journal_append(s->j, PID("other"), 0, &more, 1));
        uint64_t seq = 0;
        ASSERT_OK(dd_journal_highest_seq(&seq, s->j, PID("other")));
        s->appended_seq = (int)seq;
    }
    if (s->forward_inner)
        return dd_journal_append(s->j, PID("other"), 99,
                                 &(dd_append_event){ev->payload, 1, 0, NULL, 0}, 1);
    return s->stop_with;
}

TEST(test_a_positive_callback_code_is_ecallback_with_the_code_in_the_message)
{
    dd_journal *j = memory_journal();
    append_one(j, "p", 0);
    callback_story s = {j, 7, 0, 0, 0};
    ASSERT_STATUS(dd_journal_recover(NULL, j, PID("p"), NULL, story_event, &s), DD_ECALLBACK);
    ASSERT(strstr(dd_error_last()->message, "stopped with code 7") != NULL);
    const dd_error *e = NULL;
    ASSERT_OK(dd_handle_error(&e, j));
    ASSERT_EQ_INT(e->code, DD_ECALLBACK);
    /* -5 is a status (DD_ECONFLICT), said to come from the callback, and a
     * number below the DD_E* range is DD_ECALLBACK. */
    s.stop_with = DD_ECONFLICT;
    ASSERT_STATUS(dd_journal_recover(NULL, j, PID("p"), NULL, story_event, &s), DD_ECONFLICT);
    ASSERT(strstr(dd_error_last()->message, "callback on_event returned DD_ECONFLICT") != NULL);
    s.stop_with = -1000;
    ASSERT_STATUS(dd_journal_recover(NULL, j, PID("p"), NULL, story_event, &s), DD_ECALLBACK);
    ASSERT(strstr(dd_error_last()->message, "-1000") != NULL);
    ASSERT_OK(dd_journal_close(j));
}

TEST(test_ddata_calls_inside_a_callback_work_and_forwarded_failures_keep_their_message)
{
    dd_journal *j = memory_journal();
    append_one(j, "p", 0);
    callback_story s = {j, 0, 1, 0, 0};
    uint64_t last = 0;
    ASSERT_OK(dd_journal_recover(&last, j, PID("p"), NULL, story_event, &s));
    ASSERT_EQ_U64(last, 1);
    ASSERT_EQ_INT(s.appended_seq, 1);
    s = (callback_story){j, 0, 0, 1, 0};
    ASSERT_STATUS(dd_journal_recover(NULL, j, PID("p"), NULL, story_event, &s), DD_ECONFLICT);
    ASSERT(strstr(dd_error_last()->message, "recovery callback on_event: ") != NULL);
    ASSERT(strstr(dd_error_last()->message, "'other'") != NULL);
    ASSERT_OK(dd_journal_close(j));
}
