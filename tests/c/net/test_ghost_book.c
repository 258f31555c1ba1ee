/*
 * Ghost node ids: a member that holds the cluster secret announces, in
 * its address book, thousands of throwaway ids at addresses where nothing
 * listens. A dd_system (through libddata.so) must not redial them forever:
 * each announcer gets a small quota of entries that never answered, those
 * stop being dialled after a while and cool before they may be dialled
 * again. The hostile member is a raw transport from core/net (it can send
 * any book); everything runs over real loopback sockets.
 */
#include <stdlib.h>

#include "ddata.h"
#include "net_test_util.h"
#include "tcp_node.h"
#include "util/bytes.h"

#define GHOSTS 3000
#define CH_BOOK 1

/* One counter of the victim's "transport" stats. */
static uint64_t transport_stat(dd_system *sys, const char *name)
{
    char *text = tcp_stats_text(sys);
    ASSERT(text);
    char pattern[64];
    snprintf(pattern, sizeof pattern, "\"%s\":", name);
    const char *at = strstr(text, pattern);
    uint64_t v = at ? strtoull(at + strlen(pattern), NULL, 10) : UINT64_MAX;
    free(text);
    ASSERT_MSG(v != UINT64_MAX, "no transport stat '%s'", name);
    return v;
}

/* A book of `count` ids nobody runs, each at its own closed loopback
 * address (all of 127/8 is loopback; port 9 has no listener). */
static void ghost_book(bytes *b, int count)
{
    bytes_put_u8(b, CH_BOOK);
    bytes_put_varint(b, (uint64_t)count);
    for (int i = 0; i < count; i++) {
        char id[32], addr[32];
        snprintf(id, sizeof id, "ghost-%d", i);
        snprintf(addr, sizeof addr, "127.1.%d.%d:9", i / 250, i % 250 + 1);
        bytes_put_blob(b, id, strlen(id));
        bytes_put_blob(b, addr, strlen(addr));
    }
    ASSERT(!b->failed);
}

typedef struct victim_view {
    dd_system *sys;
} victim_view;

static bool some_ghost_expired(void *arg)
{
    return transport_stat(((victim_view *)arg)->sys, "book_expired") > 0;
}

TEST(test_ghost_ids_from_one_member_are_dialled_a_bounded_number_of_times)
{
    dd_system *victim = NULL;
    char addr[TCP_NODE_ADDR_BYTES];
    tcp_node_options o = {"victim", TEST_SECRET, NULL, 0, 0};
    ASSERT_OK(tcp_system_open(&victim, addr, &o));
    net *mallory = open_net(666, TEST_SECRET);
    ASSERT_OK(net_connect(mallory, addr));
    ASSERT(wait_event(mallory, NET_EV_CONNECTED, 5000, NULL));
    uint64_t dialled_before = transport_stat(victim, "dialled");

    bytes book = BYTES_INIT;
    ghost_book(&book, GHOSTS);
    ASSERT_OK(net_send(mallory, "victim", book.data, book.len, NET_RELIABLE, NET_CLASS_OTHER));
    tcp_sleep_ms(3000);
    /* The quota lets 32 ghosts in; the transport's backoff (100 ms doubling)
     * allows each a handful of dials in 3 s. Without a quota every one of
     * the 3,000 is dialled at once (the old code: thousands). */
    uint64_t dialled = transport_stat(victim, "dialled") - dialled_before;
    printf("dials to %d ghosts in 3 s: %llu\n", GHOSTS, (unsigned long long)dialled);
    ASSERT_MSG(dialled <= 32 * 8, "%llu dials to ghosts in 3 s", (unsigned long long)dialled);
    ASSERT(transport_stat(victim, "book_refused") >= GHOSTS - 32);
    ASSERT(transport_stat(victim, "book_entries") <= 32 + 1);

    /* Announced entries that never answer stop being dialled; announcing
     * them again while they cool changes nothing. */
    victim_view view = {victim};
    ASSERT(tcp_wait_until(some_ghost_expired, &view, 60000));
    tcp_sleep_ms(2000); /* the rest of the first 32 expire in the same round or the next */
    uint64_t after_expiry = transport_stat(victim, "dialled");
    ASSERT_OK(net_send(mallory, "victim", book.data, book.len, NET_RELIABLE, NET_CLASS_OTHER));
    tcp_sleep_ms(3000);
    uint64_t redialled = transport_stat(victim, "dialled") - after_expiry;
    printf("dials in 3 s after expiry and a second announcement: %llu\n",
           (unsigned long long)redialled);
    ASSERT_MSG(redialled <= 8, "%llu dials after the ghosts expired",
               (unsigned long long)redialled);

    bytes_free(&book);
    net_close(mallory);
    ASSERT_OK(dd_system_close(victim));
}
