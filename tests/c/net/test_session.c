/*
 * The handshake and frame state machine, in memory (no sockets): who gets
 * in, what a wrong secret learns, and what hostile frames do.
 */
#include <sodium.h>
#include <string.h>

#include "net/session.h"
#include "test.h"
#include "util/rng.h"
#include "util/status.h"

static const uint8_t SECRET[32] = "0123456789abcdef0123456789abcde";
static const uint8_t OTHER[32] = "a-different-cluster-secret-here";

typedef struct pair {
    session a, b; /* a connected to b */
    bytes a_out, b_out;
    session_item last_a, last_b;
    int opened_a, opened_b;
    int msgs_a, msgs_b;
    int rc_a, rc_b;
} pair;

static session_config config(const uint8_t *secret, const char *id, const char *addr)
{
    session_config c = {.secret = secret,
                        .plaintext = secret == NULL,
                        .node_id = id,
                        .incarnation = strlen(id) * 1000,
                        .advertised_addr = addr,
                        .max_message_bytes = 1 << 16};
    return c;
}

/* Moves `from_out` into `to` and drains `to`; returns its last status. */
static int deliver(bytes *from_out, session *to, bytes *to_out, session_item *last, int *opened,
                   int *msgs)
{
    if (from_out->len == 0)
        return ST_EDONE;
    int rc = session_input(to, from_out->data, from_out->len);
    bytes_reset(from_out);
    if (rc != ST_OK)
        return rc;
    for (;;) {
        session_item it;
        rc = session_next(to, to_out, &it);
        if (rc != ST_OK)
            return rc;
        *last = it;
        if (it.kind == SESSION_ITEM_OPENED)
            (*opened)++;
        else
            (*msgs)++;
    }
}

static void pump(pair *p)
{
    for (int round = 0; round < 8; round++) {
        p->rc_b = deliver(&p->a_out, &p->b, &p->b_out, &p->last_b, &p->opened_b, &p->msgs_b);
        p->rc_a = deliver(&p->b_out, &p->a, &p->a_out, &p->last_a, &p->opened_a, &p->msgs_a);
        if (p->a_out.len == 0 && p->b_out.len == 0)
            return;
    }
}

static void pair_init(pair *p, const uint8_t *sa, const uint8_t *sb)
{
    memset(p, 0, sizeof(*p));
    session_config ca = config(sa, "node-a", "127.0.0.1:7001");
    session_config cb = config(sb, "b", "127.0.0.1:7002");
    ASSERT_OK(session_init(&p->a, &ca, true, &p->a_out));
    ASSERT_OK(session_init(&p->b, &cb, false, &p->b_out));
}

static void pair_free(pair *p)
{
    session_free(&p->a);
    session_free(&p->b);
    bytes_free(&p->a_out);
    bytes_free(&p->b_out);
}

/* A pair with the same secret, its handshake pumped through. */
static void open_pair(pair *p)
{
    pair_init(p, SECRET, SECRET);
    pump(p);
}

TEST(test_handshake_opens_both_sides_and_exchanges_identities)
{
    pair p;
    open_pair(&p);
    ASSERT_EQ_INT(p.a.state, SESSION_OPEN);
    ASSERT_EQ_INT(p.b.state, SESSION_OPEN);
    ASSERT_EQ_INT(p.opened_a, 1);
    ASSERT_EQ_INT(p.opened_b, 1);
    ASSERT_STR_EQ(p.a.peer.node_id, "b");
    ASSERT_STR_EQ(p.b.peer.node_id, "node-a");
    ASSERT_EQ_U64(p.b.peer.incarnation, 6000);
    ASSERT_STR_EQ(p.a.peer.addr, "127.0.0.1:7002");
    ASSERT_STR_EQ(p.b.peer.addr, "127.0.0.1:7001");
    pair_free(&p);
}

TEST(test_messages_flow_both_ways_with_class)
{
    pair p;
    open_pair(&p);
    ASSERT_OK(session_seal(&p.a, NET_CLASS_DELTA, (const uint8_t *)"hello", 5, &p.a_out));
    pump(&p);
    ASSERT_EQ_INT(p.msgs_b, 1);
    ASSERT_EQ_INT(p.last_b.msg_class, NET_CLASS_DELTA);
    ASSERT_MEM_EQ(p.last_b.data, p.last_b.len, "hello", 5);
    ASSERT_OK(session_seal(&p.b, NET_CLASS_FULL, (const uint8_t *)"", 0, &p.b_out));
    pump(&p);
    ASSERT_EQ_INT(p.msgs_a, 1);
    ASSERT_EQ_INT(p.last_a.len, 0);
    ASSERT_EQ_INT(p.last_a.msg_class, NET_CLASS_FULL);
    pair_free(&p);
}

TEST(test_ciphertext_does_not_contain_the_plaintext)
{
    pair p;
    open_pair(&p);
    const char *msg = "a very recognisable plaintext";
    ASSERT_OK(session_seal(&p.a, 0, (const uint8_t *)msg, strlen(msg), &p.a_out));
    ASSERT(memmem(p.a_out.data, p.a_out.len, "recognisable", 12) == NULL);
    pair_free(&p);
}

TEST(test_wrong_secret_fails_the_responder_and_reveals_no_identity)
{
    pair p;
    pair_init(&p, SECRET, OTHER);
    pump(&p);
    /* The responder finds the PSK wrong in message 3 and sends nothing
     * more; the initiator waits (the transport closes it on the hangup). */
    ASSERT(p.a.state != SESSION_OPEN);
    ASSERT_EQ_INT(p.b.state, SESSION_FAILED);
    ASSERT_EQ_INT(p.b.failure, SESSION_FAIL_HANDSHAKE);
    ASSERT_EQ_INT(p.opened_a + p.opened_b, 0);
    ASSERT_STR_EQ(p.a.peer.node_id, "");
    ASSERT_STR_EQ(p.b.peer.node_id, "");
    ASSERT_STR_EQ(p.b.peer.addr, "");
    pair_free(&p);
}

TEST(test_auth_message_does_not_show_node_id_or_address_in_clear)
{
    pair p;
    pair_init(&p, SECRET, SECRET);
    p.rc_b = deliver(&p.a_out, &p.b, &p.b_out, &p.last_b, &p.opened_b, &p.msgs_b);
    /* b_out now holds b's second handshake message. */
    ASSERT(memmem(p.b_out.data, p.b_out.len, "127.0.0.1", 9) == NULL);
    p.rc_a = deliver(&p.b_out, &p.a, &p.a_out, &p.last_a, &p.opened_a, &p.msgs_a);
    /* a_out now holds message 3, with a's id and address inside. */
    ASSERT(p.a_out.len > 0);
    ASSERT(memmem(p.a_out.data, p.a_out.len, "node-a", 6) == NULL);
    ASSERT(memmem(p.a_out.data, p.a_out.len, "127.0.0.1", 9) == NULL);
    pair_free(&p);
}

TEST(test_bad_node_ids_are_refused_at_init)
{
    session s;
    bytes out = BYTES_INIT;
    char long_id[SESSION_ID_MAX + 2];
    memset(long_id, 'x', sizeof(long_id) - 1);
    long_id[sizeof(long_id) - 1] = '\0';
    session_config c = config(SECRET, "", "");
    ASSERT_STATUS(session_init(&s, &c, true, &out), ST_EINVAL);
    c.node_id = long_id;
    ASSERT_STATUS(session_init(&s, &c, true, &out), ST_EINVAL);
    c.node_id = NULL;
    ASSERT_STATUS(session_init(&s, &c, true, &out), ST_EINVAL);
    bytes_free(&out);
}

TEST(test_plaintext_mode_works_only_when_both_agree)
{
    pair p;
    pair_init(&p, NULL, NULL);
    pump(&p);
    ASSERT_EQ_INT(p.a.state, SESSION_OPEN);
    ASSERT_OK(session_seal(&p.a, 0, (const uint8_t *)"plain", 5, &p.a_out));
    ASSERT(memmem(p.a_out.data, p.a_out.len, "plain", 5) != NULL);
    pump(&p);
    ASSERT_EQ_INT(p.msgs_b, 1);
    pair_free(&p);

    pair_init(&p, NULL, SECRET);
    pump(&p);
    ASSERT(p.a.state != SESSION_OPEN);
    ASSERT_EQ_INT(p.b.state, SESSION_FAILED);
    pair_free(&p);

    pair_init(&p, SECRET, NULL);
    pump(&p);
    ASSERT(p.a.state != SESSION_OPEN);
    ASSERT_EQ_INT(p.b.state, SESSION_FAILED);
    ASSERT_EQ_INT(p.opened_a + p.opened_b, 0);
    pair_free(&p);
}

TEST(test_replayed_frame_fails_the_session)
{
    pair p;
    open_pair(&p);
    ASSERT_OK(session_seal(&p.a, 0, (const uint8_t *)"pay 10", 6, &p.a_out));
    bytes copy = BYTES_INIT;
    bytes_put(&copy, p.a_out.data, p.a_out.len);
    pump(&p);
    ASSERT_EQ_INT(p.msgs_b, 1);
    ASSERT_OK(session_input(&p.b, copy.data, copy.len));
    session_item it;
    ASSERT_STATUS(session_next(&p.b, &p.b_out, &it), ST_ECRYPTO);
    ASSERT_EQ_INT(p.b.failure, SESSION_FAIL_AUTH);
    ASSERT_EQ_INT(p.msgs_b, 1);
    bytes_free(&copy);
    pair_free(&p);
}

TEST(test_reordered_frames_fail_the_session)
{
    pair p;
    open_pair(&p);
    bytes first = BYTES_INIT, second = BYTES_INIT;
    ASSERT_OK(session_seal(&p.a, 0, (const uint8_t *)"one", 3, &first));
    ASSERT_OK(session_seal(&p.a, 0, (const uint8_t *)"two", 3, &second));
    ASSERT_OK(session_input(&p.b, second.data, second.len));
    session_item it;
    ASSERT_STATUS(session_next(&p.b, &p.b_out, &it), ST_ECRYPTO);
    bytes_free(&first);
    bytes_free(&second);
    pair_free(&p);
}

TEST(test_flipped_bit_anywhere_in_a_frame_is_rejected)
{
    rng g;
    rng_seed(&g, test_seed());
    for (unsigned i = 0; i < test_cases(50); i++) {
        pair p;
        pair_init(&p, SECRET, SECRET);
        pump(&p);
        ASSERT_OK(session_seal(&p.a, 1, (const uint8_t *)"payload", 7, &p.a_out));
        size_t at = rng_below(&g, p.a_out.len);
        p.a_out.data[at] ^= (uint8_t)(1u << rng_below(&g, 8));
        pump(&p);
        ASSERT_EQ_INT(p.msgs_b, 0);
        /* A larger length just waits for bytes that never come. */
        if (at >= 4 || p.b.state != SESSION_OPEN)
            ASSERT_EQ_INT(p.b.state, SESSION_FAILED);
        pair_free(&p);
    }
}

TEST(test_zero_and_oversized_lengths_fail_before_buffering)
{
    session s;
    bytes out = BYTES_INIT;
    session_config c = config(SECRET, "x", "");
    ASSERT_OK(session_init(&s, &c, false, &out));
    uint8_t huge[6] = {'D', 'D', 'N', SESSION_VERSION, 0xff, 0xff};
    ASSERT_OK(session_input(&s, huge, 6));
    session_item it;
    ASSERT_STATUS(session_next(&s, &out, &it), ST_ELIMIT);
    ASSERT_EQ_INT(s.failure, SESSION_FAIL_MALFORMED);
    ASSERT(s.in.cap < 1024);
    session_free(&s);

    ASSERT_OK(session_init(&s, &c, false, &out));
    uint8_t zero[6] = {'D', 'D', 'N', SESSION_VERSION, 0, 0};
    ASSERT_OK(session_input(&s, zero, 6));
    ASSERT_STATUS(session_next(&s, &out, &it), ST_ECORRUPT);
    session_free(&s);
    bytes_free(&out);
}

TEST(test_frame_limit_is_small_until_the_peer_authenticated)
{
    pair p;
    pair_init(&p, SECRET, SECRET);
    uint32_t before = session_max_frame_len(&p.b);
    ASSERT(before < 1024);
    pump(&p);
    ASSERT_EQ_INT(session_max_frame_len(&p.b), NOISE_MAX_MESSAGE);
    pair_free(&p);
}

TEST(test_oversized_message_is_refused_by_seal_and_by_receiver)
{
    pair p;
    open_pair(&p);
    static uint8_t big[(1 << 16) + 1];
    ASSERT_STATUS(session_seal(&p.a, 0, big, sizeof(big), &p.a_out), ST_ELIMIT);
    ASSERT_OK(session_seal(&p.a, 0, big, sizeof(big) - 1, &p.a_out));
    pump(&p);
    ASSERT_EQ_INT(p.msgs_b, 1);
    ASSERT_EQ_INT(p.last_b.len, sizeof(big) - 1);
    pair_free(&p);
}

TEST(test_byte_at_a_time_delivery_gives_the_same_messages)
{
    pair p;
    open_pair(&p);
    for (int i = 0; i < 5; i++)
        ASSERT_OK(session_seal(&p.a, 0, (const uint8_t *)"abcdef", (size_t)i, &p.a_out));
    int msgs = 0;
    for (size_t i = 0; i < p.a_out.len; i++) {
        ASSERT_OK(session_input(&p.b, p.a_out.data + i, 1));
        session_item it;
        int rc;
        while ((rc = session_next(&p.b, &p.b_out, &it)) == ST_OK) {
            ASSERT_EQ_INT(it.len, msgs);
            msgs++;
        }
        ASSERT_STATUS(rc, ST_EDONE);
    }
    ASSERT_EQ_INT(msgs, 5);
    pair_free(&p);
}

TEST(test_random_bytes_never_open_a_session)
{
    rng g;
    rng_seed(&g, test_seed());
    session_config c = config(SECRET, "x", "");
    for (unsigned i = 0; i < test_cases(500); i++) {
        session s;
        bytes out = BYTES_INIT;
        ASSERT_OK(session_init(&s, &c, rng_below(&g, 2), &out));
        uint8_t junk[512];
        size_t n = rng_below(&g, sizeof(junk));
        for (size_t k = 0; k < n; k++)
            junk[k] = (uint8_t)rng_next(&g);
        if (n >= 4 && rng_below(&g, 2))
            store_u32le(junk, (uint32_t)rng_below(&g, n)); /* plausible lengths too */
        ASSERT_OK(session_input(&s, junk, n));
        session_item it;
        int rc;
        while ((rc = session_next(&s, &out, &it)) == ST_OK)
            ASSERT_MSG(it.kind != SESSION_ITEM_OPENED, "random bytes opened a session");
        ASSERT(s.state != SESSION_OPEN);
        session_free(&s);
        bytes_free(&out);
    }
}

TEST(test_frame_larger_than_one_noise_message_arrives_whole)
{
    pair p;
    memset(&p, 0, sizeof(p));
    session_config ca = config(SECRET, "a", ""), cb = config(SECRET, "b", "");
    ca.max_message_bytes = cb.max_message_bytes = 1u << 20;
    ASSERT_OK(session_init(&p.a, &ca, true, &p.a_out));
    ASSERT_OK(session_init(&p.b, &cb, false, &p.b_out));
    pump(&p);
    static uint8_t big[300000];
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (uint8_t)(i * 7);
    size_t before = p.a_out.len;
    ASSERT_OK(session_seal(&p.a, NET_CLASS_FULL, big, sizeof(big), &p.a_out));
    ASSERT_EQ_INT(p.a_out.len - before, session_frame_size(&p.a, sizeof(big)));
    ASSERT_OK(session_seal(&p.a, NET_CLASS_DELTA, big, 5, &p.a_out));
    pump(&p);
    ASSERT_EQ_INT(p.msgs_b, 2);
    ASSERT_EQ_INT(p.last_b.len, 5);
    pair_free(&p);

    /* The same, checked as it arrives (the item points at the reassembly). */
    memset(&p, 0, sizeof(p));
    ASSERT_OK(session_init(&p.a, &ca, true, &p.a_out));
    ASSERT_OK(session_init(&p.b, &cb, false, &p.b_out));
    pump(&p);
    ASSERT_OK(session_seal(&p.a, NET_CLASS_FULL, big, sizeof(big), &p.a_out));
    pump(&p);
    ASSERT_EQ_INT(p.msgs_b, 1);
    ASSERT_EQ_INT(p.last_b.msg_class, NET_CLASS_FULL);
    ASSERT_MEM_EQ(p.last_b.data, p.last_b.len, big, sizeof(big));
    ASSERT_EQ_INT(p.last_b.frame_bytes, session_frame_size(&p.a, sizeof(big)));
    pair_free(&p);
}

TEST(test_frame_total_over_the_limit_fails_before_reassembly)
{
    pair p;
    memset(&p, 0, sizeof(p));
    session_config ca = config(SECRET, "a", ""), cb = config(SECRET, "b", "");
    ca.max_message_bytes = 1u << 20;
    cb.max_message_bytes = 100000;
    ASSERT_OK(session_init(&p.a, &ca, true, &p.a_out));
    ASSERT_OK(session_init(&p.b, &cb, false, &p.b_out));
    pump(&p);
    static uint8_t big[200000];
    ASSERT_OK(session_seal(&p.a, 0, big, sizeof(big), &p.a_out));
    pump(&p);
    ASSERT_EQ_INT(p.b.state, SESSION_FAILED);
    ASSERT_EQ_INT(p.b.failure, SESSION_FAIL_MALFORMED);
    ASSERT_EQ_INT(p.msgs_b, 0);
    ASSERT(p.b.frame.cap < 100000);
    pair_free(&p);
}

TEST(test_rekeying_every_few_messages_keeps_both_sides_in_step)
{
    pair p;
    memset(&p, 0, sizeof(p));
    session_config ca = config(SECRET, "a", ""), cb = config(SECRET, "b", "");
    ca.rekey_interval = cb.rekey_interval = 3;
    ASSERT_OK(session_init(&p.a, &ca, true, &p.a_out));
    ASSERT_OK(session_init(&p.b, &cb, false, &p.b_out));
    pump(&p);
    uint8_t key_before[NOISE_KEYLEN];
    memcpy(key_before, p.a.tx.k, NOISE_KEYLEN);
    for (int i = 0; i < 10; i++) {
        ASSERT_OK(session_seal(&p.a, 0, (const uint8_t *)"ping", 4, &p.a_out));
        ASSERT_OK(session_seal(&p.b, 0, (const uint8_t *)"pong", 4, &p.b_out));
        pump(&p);
    }
    ASSERT_EQ_INT(p.msgs_a, 10);
    ASSERT_EQ_INT(p.msgs_b, 10);
    ASSERT(memcmp(key_before, p.a.tx.k, NOISE_KEYLEN) != 0);
    pair_free(&p);

    /* One side that does not rekey loses the other at the first rekey. */
    memset(&p, 0, sizeof(p));
    cb.rekey_interval = 0;
    ASSERT_OK(session_init(&p.a, &ca, true, &p.a_out));
    ASSERT_OK(session_init(&p.b, &cb, false, &p.b_out));
    pump(&p);
    for (int i = 0; i < 4; i++)
        ASSERT_OK(session_seal(&p.a, 0, (const uint8_t *)"ping", 4, &p.a_out));
    pump(&p);
    ASSERT_EQ_INT(p.b.state, SESSION_FAILED);
    ASSERT_EQ_INT(p.b.failure, SESSION_FAIL_AUTH);
    pair_free(&p);
}

TEST(test_pre_noise_peer_is_refused_with_a_clear_reason)
{
    /* What a version-1 node sent first: len:u32le = 70, "DDN1", version 1. */
    uint8_t old_hello[74] = {70, 0, 0, 0, 'D', 'D', 'N', '1', 1, 0};
    session_config c = config(SECRET, "x", "");
    for (int initiator = 0; initiator < 2; initiator++) {
        session s;
        bytes out = BYTES_INIT;
        ASSERT_OK(session_init(&s, &c, initiator, &out));
        ASSERT_OK(session_input(&s, old_hello, sizeof(old_hello)));
        session_item it;
        ASSERT_STATUS(session_next(&s, &out, &it), ST_EUNSUPPORTED);
        ASSERT(strstr(test_last_error(), "pre-Noise") != NULL);
        ASSERT_EQ_INT(s.failure, SESSION_FAIL_HANDSHAKE);
        session_free(&s);
        bytes_free(&out);
    }
    /* A later version byte is named too. */
    session s;
    bytes out = BYTES_INIT;
    ASSERT_OK(session_init(&s, &c, false, &out));
    uint8_t v3[4] = {'D', 'D', 'N', 3};
    ASSERT_OK(session_input(&s, v3, sizeof(v3)));
    session_item it;
    ASSERT_STATUS(session_next(&s, &out, &it), ST_EUNSUPPORTED);
    ASSERT(strstr(test_last_error(), "version 3") != NULL);
    session_free(&s);
    bytes_free(&out);
}

TEST(test_responder_accepts_the_next_psk_during_a_rotation)
{
    static const uint8_t NEXT[32] = "the-next-cluster-secret-rotated";
    pair p;
    memset(&p, 0, sizeof(p));
    session_config ca = config(NEXT, "a", ""), cb = config(SECRET, "b", "");
    cb.next_secret = NEXT;
    ASSERT_OK(session_init(&p.a, &ca, true, &p.a_out));
    ASSERT_OK(session_init(&p.b, &cb, false, &p.b_out));
    pump(&p);
    ASSERT_EQ_INT(p.a.state, SESSION_OPEN);
    ASSERT_EQ_INT(p.b.state, SESSION_OPEN);
    ASSERT_OK(session_seal(&p.a, 0, (const uint8_t *)"rotated", 7, &p.a_out));
    ASSERT_OK(session_seal(&p.b, 0, (const uint8_t *)"ack", 3, &p.b_out));
    pump(&p);
    ASSERT_EQ_INT(p.msgs_a + p.msgs_b, 2);
    pair_free(&p);

    /* A third secret is neither. */
    memset(&p, 0, sizeof(p));
    ca.secret = OTHER;
    ASSERT_OK(session_init(&p.a, &ca, true, &p.a_out));
    ASSERT_OK(session_init(&p.b, &cb, false, &p.b_out));
    pump(&p);
    ASSERT_EQ_INT(p.b.state, SESSION_FAILED);
    ASSERT_EQ_INT(p.opened_a + p.opened_b, 0);
    pair_free(&p);
}

static const char *refuse_all(void *ctx, const session_peer *peer)
{
    (void)peer;
    (*(int *)ctx)++;
    return "static key not in the allow-list";
}

TEST(test_admission_sees_the_proven_key_and_can_refuse_it)
{
    uint8_t a_sk[32], a_pk[32];
    randombytes_buf(a_sk, sizeof(a_sk));
    crypto_scalarmult_base(a_pk, a_sk);
    int asked = 0;
    pair p;
    memset(&p, 0, sizeof(p));
    session_config ca = config(SECRET, "a", "10.0.0.1:1"), cb = config(SECRET, "b", "10.0.0.2:2");
    ca.static_sk = a_sk;
    cb.admit = refuse_all;
    cb.admit_ctx = &asked;
    ASSERT_OK(session_init(&p.a, &ca, true, &p.a_out));
    ASSERT_OK(session_init(&p.b, &cb, false, &p.b_out));
    pump(&p);
    ASSERT_EQ_INT(asked, 1);
    ASSERT_EQ_INT(p.b.state, SESSION_FAILED);
    ASSERT_EQ_INT(p.b.failure, SESSION_FAIL_REFUSED);
    ASSERT_MEM_EQ(p.b.peer.static_pk, 32, a_pk, 32);
    /* The refused initiator never got the responder's AUTH. */
    ASSERT_EQ_INT(p.opened_a, 0);
    ASSERT_STR_EQ(p.a.peer.node_id, "");
    pair_free(&p);
}
