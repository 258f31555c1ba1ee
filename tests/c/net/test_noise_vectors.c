/*
 * The published Noise test vectors (cacophony's and snow's, see
 * tests/vectors/noise/README.md) against our three state machines: every
 * vector whose pattern we implement must produce its ciphertexts and its
 * handshake hash byte for byte, on both sides, through the handshake and
 * the transport messages after it. A vector for a pattern we lack fails
 * the test rather than being skipped, so a new vector file cannot quietly
 * cover less.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conformance.h"
#include "net/noise.h"
#include "test.h"
#include "util/status.h"

static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = strlen(hex) / 2;
    ASSERT(n <= cap);
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        ASSERT(sscanf(hex + 2 * i, "%2x", &v) == 1);
        out[i] = (uint8_t)v;
    }
    return n;
}

static const char *str(const cJSON *v, const char *field)
{
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(v, field);
    return cJSON_IsString(f) ? f->valuestring : NULL;
}

/* A field holding a key (hex), or the first of a list of psks; NULL if absent. */
static const uint8_t *key_field(const cJSON *v, const char *field, uint8_t out[32])
{
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(v, field);
    if (cJSON_IsArray(f))
        f = cJSON_GetArrayItem(f, 0);
    if (!cJSON_IsString(f))
        return NULL;
    ASSERT_EQ_INT(unhex(f->valuestring, out, 32), 32);
    return out;
}

static bool pattern_of(const char *protocol, noise_pattern *out)
{
    static const struct {
        const char *name;
        noise_pattern p;
    } known[] = {{"NN", NOISE_NN},         {"NNpsk0", NOISE_NNPSK0}, {"XX", NOISE_XX},
                 {"XXpsk3", NOISE_XXPSK3}, {"IK", NOISE_IK},         {"IKpsk2", NOISE_IKPSK2}};
    const char *suffix = "_25519_ChaChaPoly_BLAKE2b";
    if (strncmp(protocol, "Noise_", 6) != 0)
        return false;
    const char *name = protocol + 6;
    const char *end = strstr(name, suffix);
    if (!end || strcmp(end, suffix) != 0)
        return false;
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (strlen(known[i].name) == (size_t)(end - name) &&
            strncmp(name, known[i].name, (size_t)(end - name)) == 0) {
            *out = known[i].p;
            return true;
        }
    return false;
}

static void init_side(noise_handshake *hs, const cJSON *v, noise_pattern p, bool initiator)
{
    const char *side = initiator ? "init" : "resp";
    char field[40];
    uint8_t prologue[256], s[32], e[32], rs[32], psk[32];
    snprintf(field, sizeof(field), "%s_prologue", side);
    const char *pro = str(v, field);
    noise_handshake_config c = {
        p,    initiator, prologue, pro ? unhex(pro, prologue, sizeof(prologue)) : 0, NULL, NULL,
        NULL, NULL,      NULL};
    snprintf(field, sizeof(field), "%s_static", side);
    c.static_sk = key_field(v, field, s);
    snprintf(field, sizeof(field), "%s_ephemeral", side);
    c.ephemeral_sk = key_field(v, field, e);
    snprintf(field, sizeof(field), "%s_remote_static", side);
    c.remote_static = key_field(v, field, rs);
    snprintf(field, sizeof(field), "%s_psks", side);
    c.psk = key_field(v, field, psk);
    ASSERT_OK(noise_handshake_init(hs, &c));
}

/* Runs one vector; returns true when it matched in full. */
static void run_vector(const cJSON *v, int index)
{
    const char *protocol = str(v, "protocol_name");
    noise_pattern p;
    ASSERT_MSG(protocol && pattern_of(protocol, &p), "vector %d: unsupported protocol %s", index,
               protocol ? protocol : "(none)");
    noise_handshake init, resp;
    init_side(&init, v, p, true);
    init_side(&resp, v, p, false);
    noise_cipher i_tx, i_rx, r_tx, r_rx;
    bool split = false;
    const cJSON *messages = cJSON_GetObjectItemCaseSensitive(v, "messages");
    const cJSON *m;
    int i = 0;
    static uint8_t payload[NOISE_MAX_MESSAGE], expect[NOISE_MAX_MESSAGE], wire[NOISE_MAX_MESSAGE],
        back[NOISE_MAX_MESSAGE];
    cJSON_ArrayForEach(m, messages)
    {
        size_t plen = unhex(str(m, "payload"), payload, sizeof(payload));
        size_t elen = unhex(str(m, "ciphertext"), expect, sizeof(expect));
        bool from_init = i % 2 == 0;
        noise_handshake *tx = from_init ? &init : &resp, *rx = from_init ? &resp : &init;
        size_t wlen = 0, blen = 0;
        if (!split) {
            ASSERT(noise_handshake_my_turn(tx));
            ASSERT_OK(noise_handshake_write(tx, payload, plen, wire, sizeof(wire), &wlen));
            ASSERT_MSG(wlen == elen && memcmp(wire, expect, elen) == 0,
                       "vector %d (%s, %s): handshake message %d differs", index, protocol,
                       str(v, "source_file"), i);
            ASSERT_OK(noise_handshake_read(rx, wire, wlen, back, &blen));
            ASSERT_MEM_EQ(back, blen, payload, plen);
            if (noise_handshake_complete(&init)) {
                ASSERT(noise_handshake_complete(&resp));
                ASSERT_MEM_EQ(init.sym.h, NOISE_HASHLEN, resp.sym.h, NOISE_HASHLEN);
                const char *hh = str(v, "handshake_hash");
                if (hh) {
                    uint8_t want[NOISE_HASHLEN];
                    ASSERT_EQ_INT(unhex(hh, want, sizeof(want)), NOISE_HASHLEN);
                    ASSERT_MEM_EQ(init.sym.h, NOISE_HASHLEN, want, NOISE_HASHLEN);
                }
                noise_handshake_split(&init, &i_tx, &i_rx);
                noise_handshake_split(&resp, &r_tx, &r_rx);
                split = true;
            }
        } else {
            noise_cipher *c_tx = from_init ? &i_tx : &r_tx, *c_rx = from_init ? &r_rx : &i_rx;
            ASSERT_OK(noise_cipher_encrypt(c_tx, NULL, 0, payload, plen, wire, &wlen));
            ASSERT_MSG(wlen == elen && memcmp(wire, expect, elen) == 0,
                       "vector %d (%s, %s): transport message %d differs", index, protocol,
                       str(v, "source_file"), i);
            ASSERT_OK(noise_cipher_decrypt(c_rx, NULL, 0, wire, wlen, back, &blen));
            ASSERT_MEM_EQ(back, blen, payload, plen);
        }
        i++;
    }
    ASSERT_MSG(split, "vector %d: the handshake never completed", index);
    noise_handshake_wipe(&init);
    noise_handshake_wipe(&resp);
}

TEST(test_every_published_vector_produces_its_bytes)
{
    const char *src = getenv("DDATA_SOURCE_DIR");
    char path[4096];
    snprintf(path, sizeof(path), "%s/tests/vectors/noise/25519_ChaChaPoly_BLAKE2b.json",
             src ? src : ".");
    size_t len = 0;
    char *text = conf_read_file(path, &len);
    ASSERT_MSG(text, "cannot read %s", path);
    cJSON *doc = cJSON_ParseWithLength(text, len);
    free(text);
    ASSERT(doc);
    const cJSON *vectors = cJSON_GetObjectItemCaseSensitive(doc, "vectors");
    const cJSON *v;
    int count = 0, xxpsk3 = 0;
    cJSON_ArrayForEach(v, vectors)
    {
        run_vector(v, count);
        if (strcmp(str(v, "protocol_name"), "Noise_XXpsk3_25519_ChaChaPoly_BLAKE2b") == 0)
            xxpsk3++;
        count++;
    }
    cJSON_Delete(doc);
    printf("noise vectors: %d matched byte for byte (%d of them XXpsk3)\n", count, xxpsk3);
    ASSERT(count > 0);
    ASSERT(xxpsk3 > 0);
}

TEST(test_rekey_matches_the_spec_definition)
{
    /* Rekey() = first 32 bytes of ENCRYPT(k, 2^64-1, "", zeros): two sides
     * that rekey at the same point keep talking; one that does not, fails. */
    uint8_t key[32] = {7}, msg[32] = "after the rekey", wire[64], back[64];
    noise_cipher a, b, c;
    noise_cipher_init(&a, key);
    noise_cipher_init(&b, key);
    noise_cipher_init(&c, key);
    noise_cipher_rekey(&a);
    noise_cipher_rekey(&b);
    size_t wlen = 0, blen = 0;
    ASSERT_OK(noise_cipher_encrypt(&a, NULL, 0, msg, sizeof(msg), wire, &wlen));
    ASSERT_STATUS(noise_cipher_decrypt(&c, NULL, 0, wire, wlen, back, &blen), ST_ECRYPTO);
    ASSERT_OK(noise_cipher_decrypt(&b, NULL, 0, wire, wlen, back, &blen));
    ASSERT_MEM_EQ(back, blen, msg, sizeof(msg));
}

TEST(test_exhausted_nonce_refuses_to_encrypt)
{
    uint8_t key[32] = {1}, msg[4] = {0}, wire[32];
    noise_cipher a;
    noise_cipher_init(&a, key);
    a.n = UINT64_MAX;
    size_t wlen = 0;
    ASSERT_STATUS(noise_cipher_encrypt(&a, NULL, 0, msg, sizeof(msg), wire, &wlen), ST_ELIMIT);
}
