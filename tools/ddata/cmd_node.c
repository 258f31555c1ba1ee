/*
 * `ddata node`: one cluster node as a process (the built-in TCP transport,
 * optionally a SQLite store for durable keys), logging membership changes
 * to stderr.
 *
 * With --control it also reads line commands on stdin and answers each
 * with exactly one line on stdout; that is how `ddata demo` and the
 * integration tests drive real processes. Without it the node runs until
 * SIGINT/SIGTERM (or stdin closes, with --control).
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_options.h"
#include "commands.h"
#include "ddata.h"
#include "hex_key.h"
#include "json_out.h"
#include "log_print.h"
#include "metrics_http.h"
#include "peer_keys_file.h"

#define MAX_SEEDS 64
#define MAX_DURABLE 64
#define MAX_MEMBERS 256

typedef struct member_view {
    char id[256];
    uint32_t state;
} member_view;

typedef struct node_ctx {
    dd_system *sys;
    dd_replica *rep;
    dd_state_store *store;
    member_view members[MAX_MEMBERS];
    size_t nmembers;
    const char *id;
    const char *peer_keys_path; /* reloaded on SIGHUP; NULL = none */
    log_format log_fmt;
} node_ctx;

static volatile sig_atomic_t stop_flag, reload_flag;

static void on_signal(int sig)
{
    if (sig == SIGHUP)
        reload_flag = 1;
    else
        stop_flag = 1;
}

/* SIGHUP: re-read --peer-keys; a bad file keeps the list in force. */
static void reload_peer_keys(dd_system *sys, const char *path, const char *id)
{
    peer_keys_file pk;
    if (peer_keys_file_read(path, &pk) != 0) {
        fprintf(stderr, "[%s] peer keys not reloaded; the previous list stays in force\n", id);
        return;
    }
    if (dd_system_set_peer_keys(sys, pk.keys, (const char *const *)pk.node_ids, pk.count) != DD_OK)
        fprintf(stderr, "[%s] peer keys not reloaded: %s\n", id, dd_error_last()->message);
    else
        fprintf(stderr, "[%s] peer keys reloaded: %zu keys from %s\n", id, pk.count, path);
    peer_keys_file_free(&pk);
}

enum {
    OPT_ID,
    OPT_LISTEN,
    OPT_SEED,
    OPT_KEY_FILE,
    OPT_NEXT_KEY_FILE,
    OPT_NODE_KEY,
    OPT_PEER_KEYS,
    OPT_PLAINTEXT,
    OPT_STORE,
    OPT_STORE_KEY_FILE,
    OPT_STORE_KEY_ID,
    OPT_DURABLE,
    OPT_GOSSIP_MS,
    OPT_METRICS,
    OPT_LOG_FORMAT,
    OPT_CONTROL,
};

static const cli_option node_options[] = {
    [OPT_ID] = {"id", "ID", "this node's id, unique in the cluster (required)"},
    [OPT_LISTEN] = {"listen", "IP:PORT", "where to listen; port 0 picks one (required)"},
    [OPT_SEED] = {"seed", "IP:PORT", "a node to join through (repeatable)"},
    [OPT_KEY_FILE] = {"key-file", "FILE", "the cluster secret: 32 bytes, raw or as 64 hex digits"},
    [OPT_NEXT_KEY_FILE] = {"next-key-file", "F",
                           "a second cluster secret accepted while the secret rotates"},
    [OPT_NODE_KEY] = {"node-key", "FILE",
                      "this node's key pair, from `ddata keygen` (default: a new\n"
                      "one per start, and peers do not pin this node's id)"},
    [OPT_PEER_KEYS] = {"peer-keys", "FILE",
                       "allow-list: one public key (64 hex) per line, optionally\n"
                       "followed by the node id it must claim; SIGHUP reloads it"},
    [OPT_PLAINTEXT] = {"plaintext", NULL,
                       "no secret: unauthenticated and unencrypted (tests only)"},
    [OPT_STORE] = {"store", "PATH", "SQLite file or postgresql:// URI for durable keys"},
    [OPT_STORE_KEY_FILE] = {"store-key-file", "F",
                            "seal the store with this 32-byte key (id: --store-key-id)"},
    [OPT_STORE_KEY_ID] = {"store-key-id", "N",
                          "the id of that key (default 1; `ddata seal --rekey` moves\n"
                          "a store to a new key and id)"},
    [OPT_DURABLE] = {"durable", "PATTERN", "a durable key, or PREFIX* (repeatable; needs --store)"},
    [OPT_GOSSIP_MS] = {"gossip-ms", "N", "digest gossip interval (default 200)"},
    [OPT_METRICS] = {"metrics", "IP:PORT", "serve Prometheus metrics at http://IP:PORT/metrics"},
    [OPT_LOG_FORMAT] = {"log-format", "F",
                        "text (default) or json: the library's log records on\n"
                        "stderr, one per line"},
    [OPT_CONTROL] = {"control", NULL,
                     "read commands on stdin, answer one line each on stdout:\n"
                     "  inc KEY N | add KEY ELEM | remove KEY ELEM | get KEY |\n"
                     "  delete KEY | keys | members | stats | addr | quit"},
};

static const cli_spec node_spec = {
    "node",
    "usage: ddata node --id ID --listen IP:PORT [options]\n"
    "\n"
    "Runs one cluster node over the built-in authenticated TCP transport.\n"
    "\n"
    "options:\n",
    18,
    node_options,
    CLI_COUNT(node_options),
    "\n"
    "Membership changes are logged to stderr. Stops on SIGINT or SIGTERM.\n",
};

void cmd_node_help(void)
{
    cli_help(&node_spec);
}

int read_key_file(const char *path, uint8_t key[32])
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "ddata: cannot open key file '%s': %s\n", path, strerror(errno));
        return -1;
    }
    uint8_t buf[130];
    size_t n = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    /* Raw keys are any 32 bytes, whitespace included; only hex is trimmed. */
    if (n == 32) {
        memcpy(key, buf, 32);
        return 0;
    }
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
        n--;
    if (n == HEX_KEY_DIGITS && hex_key_decode((const char *)buf, key) == 0)
        return 0;
    fprintf(stderr,
            "ddata: key file '%s' must hold 32 bytes, raw or as 64 hex digits (make one with "
            "`head -c 32 /dev/urandom > FILE`)\n",
            path);
    return -1;
}

static const char *state_name(uint32_t s)
{
    switch (s) {
    case DD_MEMBER_JOINING: return "joining";
    case DD_MEMBER_UP: return "up";
    case DD_MEMBER_UNREACHABLE: return "unreachable";
    case DD_MEMBER_DOWN: return "down";
    case DD_MEMBER_REMOVED: return "removed";
    default: return "unknown";
    }
}

/* The first 16 hex digits of the static key member `id` proved on its
 * link, read from the statistics' "peers" (dd_system_stats_json); "" when
 * unknown. Membership changes are rare, so one stats call per change is
 * cheap. */
static void member_fingerprint(dd_system *sys, const char *id, char out[17])
{
    out[0] = 0;
    dd_buf stats = DD_BUF_INIT;
    if (dd_system_stats_json(&stats, sys) != DD_OK)
        return;
    cJSON *doc = cJSON_ParseWithLength((const char *)stats.data, stats.len);
    const cJSON *peer;
    cJSON_ArrayForEach(peer, cJSON_GetObjectItemCaseSensitive(doc, "peers"))
    {
        const cJSON *node = cJSON_GetObjectItemCaseSensitive(peer, "node");
        const cJSON *key = cJSON_GetObjectItemCaseSensitive(peer, "key");
        if (cJSON_IsString(node) && strcmp(node->valuestring, id) == 0 && cJSON_IsString(key) &&
            strlen(key->valuestring) == 64) {
            memcpy(out, key->valuestring, 16);
            out[16] = 0;
            break;
        }
    }
    cJSON_Delete(doc);
    dd_buf_free(&stats);
}

static void drain_events(node_ctx *c)
{
    dd_event ev = DD_EVENT_INIT;
    while (dd_system_next_event(&ev, c->sys) == DD_OK) {
        if (ev.kind == DD_EVENT_MEMBER) {
            char id[256];
            size_t len = ev.member_id.len < 255 ? ev.member_id.len : 255;
            memcpy(id, ev.member_id.data, len);
            id[len] = 0;
            char fp[17];
            member_fingerprint(c->sys, id, fp);
            fprintf(stderr, "[%s] member %s is %s (incarnation %llu%s%s)\n", c->id, id,
                    state_name(ev.member_state), (unsigned long long)ev.member_incarnation,
                    fp[0] ? ", key " : "", fp);
            size_t i = 0;
            while (i < c->nmembers && strcmp(c->members[i].id, id) != 0)
                i++;
            if (i == c->nmembers && c->nmembers < MAX_MEMBERS)
                snprintf(c->members[c->nmembers++].id, sizeof(c->members[0].id), "%s", id);
            if (i < c->nmembers)
                c->members[i].state = ev.member_state;
        } else if (ev.kind == DD_EVENT_OVERFLOW) {
            fprintf(stderr, "[%s] %llu events dropped (queue full)\n", c->id,
                    (unsigned long long)ev.dropped);
        }
        dd_event_clear(&ev);
    }
}

/* A key or member id as JSON: a string, or {"$bytes": base64} when it
 * holds a NUL, which a cJSON string cannot (the library's own rule,
 * docs/json.md). */
static cJSON *id_item(const char *s, size_t len)
{
    if (memchr(s, 0, len))
        return json_bytes_item((const uint8_t *)s, len);
    char *text = malloc(len + 1);
    if (!text)
        return NULL;
    memcpy(text, s, len);
    text[len] = 0;
    cJSON *item = cJSON_CreateString(text);
    free(text);
    return item;
}

/* Prints one answer line, or an error line when memory ran out. */
static void answer_json(cJSON *item, int failed)
{
    if (failed || json_print_line(stdout, item) != 0) {
        if (failed)
            cJSON_Delete(item);
        printf("error: out of memory\n");
    }
}

static void answer_error(const char *what)
{
    printf("error %s: %s\n", what, dd_error_last()->message);
}

static void answer_buf(const dd_buf *b)
{
    fwrite(b->data, 1, b->len, stdout);
    fputc('\n', stdout);
}

static void cmd_update(node_ctx *c, uint32_t type, uint32_t kind, const char *key, const char *arg)
{
    dd_op op = DD_OP_INIT;
    op.kind = kind;
    if (kind == DD_OP_INCREMENT) {
        char *end;
        long long n = strtoll(arg, &end, 10);
        if (*end || end == arg) {
            printf("error inc: '%s' is not a number\n", arg);
            return;
        }
        op.kind = n < 0 ? DD_OP_DECREMENT : DD_OP_INCREMENT;
        op.amount = (uint64_t)(n < 0 ? -n : n);
    } else {
        op.value = (const uint8_t *)arg;
        op.value_len = strlen(arg);
    }
    if (dd_replica_update(c->rep, (const uint8_t *)key, strlen(key), type, &op) != DD_OK)
        answer_error("update");
    else
        printf("ok\n");
}

static void cmd_get(node_ctx *c, const char *key)
{
    dd_crdt *v = NULL;
    int rc = dd_replica_get(&v, c->rep, (const uint8_t *)key, strlen(key));
    if (rc == DD_ENOTFOUND || rc == DD_EDELETED) {
        printf("null\n");
        return;
    }
    if (rc != DD_OK) {
        answer_error("get");
        return;
    }
    dd_buf b = DD_BUF_INIT;
    if (dd_crdt_value_json(&b, v) == DD_OK)
        answer_buf(&b);
    else
        answer_error("get");
    dd_buf_free(&b);
    dd_crdt_free(v);
}

static void cmd_keys(node_ctx *c)
{
    uint64_t cursor = 0;
    int failed = 0;
    dd_buf page = DD_BUF_INIT;
    cJSON *keys = cJSON_CreateArray();
    while (dd_replica_keys(&page, c->rep, &cursor, 0) == DD_OK) {
        for (size_t at = 0; at + 4 <= page.len;) {
            uint32_t len = (uint32_t)page.data[at] | (uint32_t)page.data[at + 1] << 8 |
                           (uint32_t)page.data[at + 2] << 16 | (uint32_t)page.data[at + 3] << 24;
            at += 4;
            if (len > page.len - at)
                break;
            cJSON *key = id_item((const char *)page.data + at, len);
            if (!key || !cJSON_AddItemToArray(keys, key)) {
                cJSON_Delete(key);
                failed = 1;
            }
            at += len;
        }
        dd_buf_free(&page);
    }
    answer_json(keys, failed || !keys);
}

static void cmd_members(node_ctx *c)
{
    /* Sorted by id so the line is canonical. */
    for (size_t i = 1; i < c->nmembers; i++)
        for (size_t j = i; j > 0 && strcmp(c->members[j - 1].id, c->members[j].id) > 0; j--) {
            member_view t = c->members[j];
            c->members[j] = c->members[j - 1];
            c->members[j - 1] = t;
        }
    cJSON *members = cJSON_CreateObject();
    int failed = 0;
    for (size_t i = 0; i < c->nmembers; i++)
        failed |= json_add(members, c->members[i].id,
                           cJSON_CreateString(state_name(c->members[i].state)));
    answer_json(members, failed || !members);
}

/* One command line; returns 0 to stop. */
static int control_line(node_ctx *c, char *line)
{
    char *save = NULL;
    char *verb = strtok_r(line, " \t\r\n", &save);
    char *a1 = strtok_r(NULL, " \t\r\n", &save);
    char *a2 = strtok_r(NULL, "\r\n", &save);
    if (!verb) {
        printf("error: empty command\n");
    } else if (strcmp(verb, "quit") == 0) {
        /* Leave cleanly (#17.11): the others remove this node at once. */
        if (dd_system_leave(c->sys, 2000) != DD_OK)
            fprintf(stderr, "[%s] leave: %s\n", c->id, dd_error_last()->message);
        printf("bye\n");
        return 0;
    } else if (strcmp(verb, "inc") == 0 && a1 && a2) {
        cmd_update(c, DD_PNCOUNTER, DD_OP_INCREMENT, a1, a2);
    } else if (strcmp(verb, "add") == 0 && a1 && a2) {
        cmd_update(c, DD_ORSET, DD_OP_ADD, a1, a2);
    } else if (strcmp(verb, "remove") == 0 && a1 && a2) {
        cmd_update(c, DD_ORSET, DD_OP_REMOVE, a1, a2);
    } else if (strcmp(verb, "get") == 0 && a1) {
        cmd_get(c, a1);
    } else if (strcmp(verb, "delete") == 0 && a1) {
        if (dd_replica_delete(c->rep, (const uint8_t *)a1, strlen(a1)) != DD_OK)
            answer_error("delete");
        else
            printf("ok\n");
    } else if (strcmp(verb, "keys") == 0) {
        cmd_keys(c);
    } else if (strcmp(verb, "members") == 0) {
        cmd_members(c);
    } else if (strcmp(verb, "stats") == 0 || strcmp(verb, "addr") == 0) {
        dd_buf b = DD_BUF_INIT;
        int rc = verb[0] == 's' ? dd_system_stats_json(&b, c->sys)
                                : dd_system_listen_address(&b, c->sys);
        if (rc == DD_OK)
            answer_buf(&b);
        else
            answer_error(verb);
        dd_buf_free(&b);
    } else {
        printf("error: unknown command or missing argument '%s' (try: inc KEY N, add KEY ELEM, "
               "get KEY, keys, members, stats, addr, quit)\n",
               verb);
    }
    return 1;
}

static int run_loop(node_ctx *c, int control)
{
    int efd = -1;
    if (dd_system_event_fd(&efd, c->sys) != DD_OK)
        return 1;
    char line[4096];
    size_t used = 0;
    int stdin_open = control;
    while (!stop_flag) {
        struct pollfd fds[2] = {{efd, POLLIN, 0}, {STDIN_FILENO, POLLIN, 0}};
        int n = poll(fds, stdin_open ? 2 : 1, 200);
        if (n < 0 && errno != EINTR)
            return 1;
        drain_events(c);
        log_print_drain(stderr, c->sys, c->id, c->log_fmt);
        if (reload_flag) {
            reload_flag = 0;
            if (c->peer_keys_path)
                reload_peer_keys(c->sys, c->peer_keys_path, c->id);
        }
        if (!stdin_open || !(fds[1].revents & (POLLIN | POLLHUP)))
            continue;
        ssize_t r = read(STDIN_FILENO, line + used, sizeof(line) - 1 - used);
        if (r <= 0) {
            if (r < 0 && errno == EINTR)
                continue;
            return 0; /* the controller went away: stop */
        }
        used += (size_t)r;
        char *nl;
        while ((nl = memchr(line, '\n', used)) != NULL) {
            *nl = 0;
            int go = control_line(c, line);
            fflush(stdout);
            size_t rest = used - (size_t)(nl + 1 - line);
            memmove(line, nl + 1, rest);
            used = rest;
            if (!go)
                return 0;
        }
        if (used == sizeof(line) - 1) {
            printf("error: command longer than %zu bytes\n", sizeof(line) - 2);
            fflush(stdout);
            used = 0;
        }
    }
    return 0;
}

typedef struct node_args {
    const char *id, *listen, *key_file, *store_path, *store_key_file, *node_key, *peer_keys_path,
        *next_key_file, *metrics_addr;
    uint64_t store_key_id;
    int json_logs, plaintext, control;
    const char *seeds[MAX_SEEDS], *durable[MAX_DURABLE];
    size_t nseeds, ndurable;
    unsigned long gossip_ms;
} node_args;

static int on_node_option(void *ctx, int index, const char *v)
{
    node_args *a = ctx;
    switch (index) {
    case OPT_ID: a->id = v; break;
    case OPT_LISTEN: a->listen = v; break;
    case OPT_KEY_FILE: a->key_file = v; break;
    case OPT_NODE_KEY: a->node_key = v; break;
    case OPT_PEER_KEYS: a->peer_keys_path = v; break;
    case OPT_NEXT_KEY_FILE: a->next_key_file = v; break;
    case OPT_STORE: a->store_path = v; break;
    case OPT_STORE_KEY_FILE: a->store_key_file = v; break;
    case OPT_STORE_KEY_ID:
        if (cli_number(&node_spec, "store-key-id", v, UINT32_MAX, &a->store_key_id) != 0)
            return 2;
        break;
    case OPT_METRICS: a->metrics_addr = v; break;
    case OPT_PLAINTEXT: a->plaintext = 1; break;
    case OPT_CONTROL: a->control = 1; break;
    case OPT_LOG_FORMAT:
        if (strcmp(v, "json") != 0 && strcmp(v, "text") != 0) {
            fprintf(stderr, "ddata node: --log-format is text or json, not '%s'\n", v);
            return 2;
        }
        a->json_logs = strcmp(v, "json") == 0;
        break;
    case OPT_GOSSIP_MS: a->gossip_ms = strtoul(v, NULL, 10); break;
    case OPT_SEED:
    case OPT_DURABLE: {
        size_t *n = index == OPT_SEED ? &a->nseeds : &a->ndurable;
        if (*n >= (index == OPT_SEED ? MAX_SEEDS : MAX_DURABLE)) {
            fprintf(stderr, "ddata node: too many --%s options (at most %d)\n",
                    node_options[index].name, index == OPT_SEED ? MAX_SEEDS : MAX_DURABLE);
            return 2;
        }
        (index == OPT_SEED ? a->seeds : a->durable)[(*n)++] = v;
        break;
    }
    default: return cli_usage_error(&node_spec, "unexpected argument", v);
    }
    return 0;
}

int cmd_node(int argc, char **argv)
{
    node_args a;
    memset(&a, 0, sizeof(a));
    a.gossip_ms = 200;
    a.store_key_id = 1;
    int parsed = cli_parse(&node_spec, argc, argv, on_node_option, &a);
    if (parsed)
        return parsed;
    const char *id = a.id, *listen = a.listen, *key_file = a.key_file, *store_path = a.store_path,
               *store_key_file = a.store_key_file, *node_key = a.node_key,
               *peer_keys_path = a.peer_keys_path, *next_key_file = a.next_key_file,
               *metrics_addr = a.metrics_addr;
    metrics_http *metrics = NULL;
    int json_logs = a.json_logs;
    const char **seeds = a.seeds, **durable = a.durable;
    size_t nseeds = a.nseeds, ndurable = a.ndurable;
    int plaintext = a.plaintext, control = a.control;
    unsigned long gossip_ms = a.gossip_ms;
    if (!id || !listen) {
        fprintf(stderr, "ddata node: --id and --listen are required; see `ddata node --help`\n");
        return 2;
    }
    if (!key_file && !plaintext) {
        fprintf(stderr, "ddata node: give the cluster secret with --key-file FILE (or --plaintext "
                        "for an unauthenticated test cluster)\n");
        return 2;
    }
    if ((ndurable || store_key_file) && !store_path) {
        fprintf(stderr, "ddata node: --durable and --store-key-file need --store PATH\n");
        return 2;
    }
    if (!gossip_ms) {
        fprintf(stderr, "ddata node: --gossip-ms must be a positive number\n");
        return 2;
    }
    uint8_t secret[32], next_secret[32];
    if (key_file && read_key_file(key_file, secret) != 0)
        return 1;
    if (next_key_file && read_key_file(next_key_file, next_secret) != 0)
        return 1;
    peer_keys_file peers;
    memset(&peers, 0, sizeof(peers));
    if (peer_keys_path && peer_keys_file_read(peer_keys_path, &peers) != 0)
        return 1;
    if (peer_keys_path && !peers.count)
        fprintf(stderr,
                "ddata node: %s lists no keys: no allow-list, any node with the cluster "
                "secret is admitted\n",
                peer_keys_path);

    node_ctx c;
    memset(&c, 0, sizeof(c));
    c.id = id;
    c.log_fmt = json_logs ? LOG_FORMAT_JSON : LOG_FORMAT_TEXT;
    int status = 1;
    if (store_path) {
        dd_store_options so;
        dd_store_options_init(&so, DD_STORE_OPTIONS_VERSION);
        so.backend = store_path_is_postgres(store_path) ? DD_BACKEND_POSTGRES : DD_BACKEND_SQLITE;
        so.path = store_path;
        dd_keyring *ring = NULL;
        if (store_key_file) {
            uint8_t skey[32];
            if (read_key_file(store_key_file, skey) != 0)
                goto done;
            if (dd_keyring_new(&ring) != DD_OK ||
                dd_keyring_add_key(ring, (uint32_t)a.store_key_id, skey, sizeof(skey)) != DD_OK) {
                fprintf(stderr, "ddata node: store key: %s\n", dd_error_last()->message);
                dd_keyring_free(ring);
                goto done;
            }
            so.keyring = ring;
        }
        int src = dd_state_store_open(&c.store, &so);
        dd_keyring_free(ring);
        if (src != DD_OK) {
            char shown[1024];
            fprintf(stderr, "ddata node: cannot open store '%s': %s\n",
                    store_path_for_display(store_path, shown, sizeof(shown)),
                    dd_error_last()->message);
            goto done;
        }
    }
    dd_system_options o;
    dd_system_options_init(&o, DD_SYSTEM_OPTIONS_VERSION);
    o.node_id = id;
    o.transport = DD_TRANSPORT_TCP;
    o.listen_address = listen;
    o.secret = key_file ? secret : NULL;
    o.plaintext = (uint32_t)plaintext;
    o.seeds = seeds;
    o.seed_count = nseeds;
    o.node_key_file = node_key;
    o.next_secret = next_key_file ? next_secret : NULL;
    o.peer_keys = peers.keys;
    o.peer_key_ids = (const char *const *)peers.node_ids;
    o.peer_key_count = peers.count;
    o.failure_timeout_ms = 1000;
    o.down_after_ms = 10000;
    if (dd_system_open(&c.sys, &o) != DD_OK) {
        fprintf(stderr, "ddata node: cannot start node '%s' on %s: %s\n", id, listen,
                dd_error_last()->message);
        goto done;
    }
    dd_replica_options ro;
    dd_replica_options_init(&ro, DD_REPLICA_OPTIONS_VERSION);
    ro.gossip_interval_ms = gossip_ms;
    ro.notify_interval_ms = 50;
    ro.store = c.store;
    ro.durable_keys = durable;
    ro.durable_key_count = ndurable;
    if (dd_replica_open(&c.rep, c.sys, &ro) != DD_OK) {
        fprintf(stderr, "ddata node: cannot open the replica: %s\n", dd_error_last()->message);
        goto done;
    }
    /* Before "ready", so a controller that reads it can scrape at once. */
    if (metrics_addr) {
        if (metrics_http_start(&metrics, metrics_addr, c.sys) != 0)
            goto done;
        fprintf(stderr, "[%s] metrics on http://%s/metrics\n", id, metrics_http_address(metrics));
    }
    dd_buf addr = DD_BUF_INIT;
    if (dd_system_listen_address(&addr, c.sys) == DD_OK) {
        fprintf(stderr, "[%s] listening on %.*s\n", id, (int)addr.len, (const char *)addr.data);
        if (control) {
            printf("ready %.*s\n", (int)addr.len, (const char *)addr.data);
            fflush(stdout);
        }
    }
    dd_buf_free(&addr);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    c.peer_keys_path = peer_keys_path;
    signal(SIGPIPE, SIG_IGN);
    status = run_loop(&c, control);
    fprintf(stderr, "[%s] stopping\n", id);
done:
    metrics_http_stop(metrics);
    dd_replica_close(c.rep);
    dd_system_close(c.sys);
    dd_state_store_close(c.store);
    peer_keys_file_free(&peers);
    return status;
}
