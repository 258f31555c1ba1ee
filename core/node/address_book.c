/*
 * The address book the node swaps with its peers (channel 1), so it can
 * reach members it never dialled: on every new link each node sends its
 * connected peers' (id, address) pairs to all its peers, and dials the
 * addresses it did not know.
 *
 * A member holding the secret can announce anything, so the book trusts an
 * announcement only so far: each peer may have at most BOOK_PER_ANNOUNCER
 * entries that never answered (further ones are refused, so no peer fills
 * the book); an announced address that has not answered within
 * BOOK_UNANSWERED_MS stops being dialled (the transport's own backoff,
 * doubling up to its cap, paces the dials until then) and stays in the
 * book, cooling and still counted against its announcer, for
 * BOOK_COOLDOWN_MS, so re-announcing it does not restart the dialling.
 * Thousands of throwaway ids then cost a few hundred dials, not a flood.
 */
#include <stdlib.h>
#include <string.h>

#include "node/node_internal.h"
#include "util/bytes.h"
#include "util/clock.h"
#include "util/hash.h"
#include "util/status.h"

book_entry *address_book_find(node_net *nn, const char *id)
{
    for (size_t i = 0; i < nn->book_n; i++)
        if (strcmp(nn->book[i].id, id) == 0)
            return &nn->book[i];
    return NULL;
}

book_entry *address_book_put(node_net *nn, const char *id, const char *addr)
{
    book_entry *b = address_book_find(nn, id);
    if (!b) {
        if (nn->book_n >= BOOK_MAX)
            return NULL;
        if (nn->book_n == nn->book_cap) {
            size_t cap = nn->book_cap ? nn->book_cap * 2 : 8;
            book_entry *nb = realloc(nn->book, cap * sizeof(*nb));
            if (!nb)
                return NULL;
            nn->book = nb;
            nn->book_cap = cap;
        }
        b = &nn->book[nn->book_n];
        memset(b, 0, sizeof(*b));
        b->id = strdup(id);
        b->addr = strdup(addr ? addr : "");
        if (!b->id || !b->addr) {
            free(b->id);
            free(b->addr);
            return NULL;
        }
        nn->book_n++;
        return b;
    }
    if (addr && addr[0] && strcmp(b->addr, addr) != 0) {
        char *a = strdup(addr);
        if (a) {
            free(b->addr);
            b->addr = a;
            b->dialled = false;
        }
    }
    return b;
}

void address_book_send(node_net *nn)
{
    bytes *b = &nn->scratch;
    bytes_reset(b);
    bytes_put_u8(b, CH_BOOK);
    size_t n = 0;
    for (size_t i = 0; i < nn->book_n; i++)
        n += nn->book[i].connected && nn->book[i].addr[0];
    bytes_put_varint(b, n);
    for (size_t i = 0; i < nn->book_n; i++) {
        if (!nn->book[i].connected || !nn->book[i].addr[0])
            continue;
        bytes_put_blob(b, nn->book[i].id, strlen(nn->book[i].id));
        bytes_put_blob(b, nn->book[i].addr, strlen(nn->book[i].addr));
    }
    if (b->failed)
        return;
    for (size_t i = 0; i < nn->book_n; i++)
        if (nn->book[i].connected)
            (void)net_send(nn->n, nn->book[i].id, b->data, b->len, NET_DROPPABLE, NET_CLASS_OTHER);
}

/* Entries announced by `announcer` that never answered (dialling or
 * cooling): what its quota counts. */
static size_t book_unanswered_by(const node_net *nn, uint64_t announcer)
{
    size_t n = 0;
    for (size_t i = 0; i < nn->book_n; i++)
        n += nn->book[i].announcer == announcer && !nn->book[i].answered;
    return n;
}

/* A peer's book: dial every address of a node we have no link to, within
 * the announcer's quota. Bounded like every decoder; a bad book is counted
 * and ignored. */
void address_book_receive(node_net *nn, const char *from, size_t from_len, const uint8_t *data,
                          size_t len)
{
    uint64_t announcer = hash_digest(from, from_len) | 1; /* never 0: that means "a link" */
    uint64_t now = clock_monotonic_ms();
    reader r = reader_make(data, len);
    uint64_t n = reader_varint(&r);
    if (!reader_ok(&r) || n > BOOK_MAX) {
        nn->book_errors++;
        return;
    }
    const char *self = net_node_id(nn->n);
    for (uint64_t i = 0; i < n; i++) {
        size_t id_len, addr_len;
        const uint8_t *id = reader_blob(&r, SESSION_ID_MAX, &id_len);
        const uint8_t *addr = reader_blob(&r, ADDR_MAX, &addr_len);
        if (!reader_ok(&r) || !id_len || !addr_len || memchr(id, 0, id_len) ||
            memchr(addr, 0, addr_len)) {
            nn->book_errors++;
            return;
        }
        char ids[SESSION_ID_MAX + 1], addrs[ADDR_MAX + 1];
        memcpy(ids, id, id_len);
        ids[id_len] = 0;
        memcpy(addrs, addr, addr_len);
        addrs[addr_len] = 0;
        if (strcmp(ids, self) == 0 || !net_book_entry_trusted(nn->n, from, ids))
            continue;
        book_entry *b = address_book_find(nn, ids);
        if (b && (b->connected || b->dialled || b->cooling_ms || b->departed))
            continue;
        if (!b) {
            if (book_unanswered_by(nn, announcer) >= BOOK_PER_ANNOUNCER) {
                nn->book_refused++;
                continue;
            }
            if (!(b = address_book_put(nn, ids, addrs)))
                continue;
            b->announcer = announcer;
        }
        if (net_connect(nn->n, b->addr) == ST_OK) {
            b->dialled = true;
            b->dial_ms = now;
        } else if (!b->answered) {
            b->cooling_ms = now + BOOK_COOLDOWN_MS; /* unusable: cool, do not hold a quota slot */
        }
    }
}

/* Whether stopping the dial to `addr` would cut something we want: a seed,
 * or a node that answered there (a ghost may be announced at a real
 * member's address). */
static bool book_addr_in_use(const node *n, const node_net *nn, const book_entry *ghost)
{
    for (size_t i = 0; i < n->seed_count; i++)
        if (strcmp(n->seeds[i], ghost->addr) == 0)
            return true;
    for (size_t i = 0; i < nn->book_n; i++) {
        const book_entry *b = &nn->book[i];
        if (b != ghost && (b->connected || b->answered) && strcmp(b->addr, ghost->addr) == 0)
            return true;
    }
    return false;
}

/* Announced addresses that never answered stop being dialled and cool;
 * cooled ones leave the book. Runs every tick; linear in the book, which
 * the quotas keep small. */
void address_book_expire(node *n, node_net *nn, uint64_t now)
{
    for (size_t i = 0; i < nn->book_n;) {
        book_entry *b = &nn->book[i];
        if (b->cooling_ms && now >= b->cooling_ms) {
            free(b->id);
            free(b->addr);
            nn->book[i] = nn->book[--nn->book_n];
            continue;
        }
        if (b->dialled && !b->connected && !b->answered && b->announcer &&
            now - b->dial_ms >= BOOK_UNANSWERED_MS) {
            if (!book_addr_in_use(n, nn, b))
                (void)net_disconnect(nn->n, b->addr);
            b->dialled = false;
            b->cooling_ms = now + BOOK_COOLDOWN_MS;
            nn->book_expired++;
        }
        i++;
    }
}

void address_book_free(node_net *nn)
{
    for (size_t i = 0; i < nn->book_n; i++) {
        free(nn->book[i].id);
        free(nn->book[i].addr);
    }
    free(nn->book);
    nn->book = NULL;
    nn->book_n = nn->book_cap = 0;
}
