/*
 * `ddata demo`: what `make demo` runs. Three `ddata node` processes on
 * loopback, each with its own SQLite store in a temporary directory and a
 * shared cluster secret. It updates a counter and a set on all three at
 * once, SIGKILLs one node, updates the others while it is gone, restarts
 * it on the same store and address, shows that its durable keys came back
 * from its store before it heard from anyone, and waits until all three
 * agree. It prints a table (node, key, value, time to converge) and exits 0
 * only when all nodes agree; every wait has a deadline.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli_options.h"
#include "commands.h"
#include "ddata.h"
#include "proc.h"
#include "record.h"

#define NODES 3
#define ROUNDS 20
#define CONVERGE_MS 10000

typedef struct demo {
    char dir[64];
    char key_file[256];
    char addr[NODES][256];
    proc p[NODES];
    int verbose;
} demo;

static long long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

enum { OPT_KEEP, OPT_VERBOSE };

static const cli_option demo_options[] = {
    [OPT_KEEP] = {"keep", NULL, "keep the temporary directory (stores and node logs)"},
    [OPT_VERBOSE] = {"verbose", NULL, "print each step"},
};

static const cli_spec demo_spec = {
    "demo",
    "usage: ddata demo [--keep] [--verbose]\n"
    "\n"
    "Starts 3 nodes as processes on 127.0.0.1 with SQLite stores in a temporary\n"
    "directory, updates a counter and a set on all of them at once, kills one with\n"
    "SIGKILL, restarts it on its store, and prints who holds what and how long\n"
    "convergence took. Exits 0 only when all nodes agree. Takes about 5 seconds.\n"
    "\n",
    10,
    demo_options,
    CLI_COUNT(demo_options),
    NULL,
};

void cmd_demo_help(void)
{
    cli_help(&demo_spec);
}

static int start_node(demo *d, int i, const char *listen)
{
    char id[16], store[256], log[256];
    snprintf(id, sizeof(id), "n%d", i + 1);
    snprintf(store, sizeof(store), "%s/%s.db", d->dir, id);
    snprintf(log, sizeof(log), "%s/%s.log", d->dir, id);
    char *argv[20];
    int a = 0;
    argv[a++] = "ddata";
    argv[a++] = "node";
    argv[a++] = "--control";
    argv[a++] = "--id";
    argv[a++] = id;
    argv[a++] = "--listen";
    argv[a++] = (char *)listen;
    argv[a++] = "--key-file";
    argv[a++] = d->key_file;
    argv[a++] = "--store";
    argv[a++] = store;
    argv[a++] = "--durable";
    argv[a++] = "demo:*";
    argv[a++] = "--gossip-ms";
    argv[a++] = "100";
    if (i > 0) {
        argv[a++] = "--seed";
        argv[a++] = d->addr[0];
    }
    argv[a] = NULL;
    if (proc_start(&d->p[i], argv, log) != 0) {
        fprintf(stderr, "ddata demo: cannot start node %s: %s\n", id, strerror(errno));
        return -1;
    }
    char line[256];
    if (proc_read_line(&d->p[i], line, sizeof(line), 5000) != 0 || strncmp(line, "ready ", 6)) {
        fprintf(stderr, "ddata demo: node %s did not start; its log is %s\n", id, log);
        return -1;
    }
    snprintf(d->addr[i], sizeof(d->addr[i]), "%s", line + 6);
    if (d->verbose)
        printf("started %s on %s\n", id, d->addr[i]);
    return 0;
}

/* Waits until node i sees `want` members up besides itself. */
static int wait_members(demo *d, int i, int want, int timeout_ms)
{
    long long deadline = mono_ms() + timeout_ms;
    char line[4096];
    while (mono_ms() < deadline) {
        if (proc_ask(&d->p[i], "members", line, sizeof(line), 2000) != 0)
            return -1;
        int up = 0;
        for (const char *s = line; (s = strstr(s, "\"up\"")) != NULL; s += 4)
            up++;
        if (up >= want)
            return 0;
        sleep_ms(20);
    }
    return -1;
}

/* Asks every node for both keys until all answers equal the wanted
 * values; returns the time it took in ms, or -1 at the deadline. */
static long long wait_agree(demo *d, const char *visits, const char *users, int timeout_ms)
{
    long long start = mono_ms(), deadline = start + timeout_ms;
    char line[8192];
    while (mono_ms() < deadline) {
        int agree = 0;
        for (int i = 0; i < NODES; i++)
            agree += proc_ask(&d->p[i], "get demo:visits", line, sizeof(line), 2000) == 0 &&
                     strcmp(line, visits) == 0 &&
                     proc_ask(&d->p[i], "get demo:users", line, sizeof(line), 2000) == 0 &&
                     strcmp(line, users) == 0;
        if (agree == NODES)
            return mono_ms() - start;
        sleep_ms(2);
    }
    return -1;
}

/* Sends every line to its node first and reads the answers afterwards, so
 * the three nodes apply their updates at the same time. */
static int concurrent_updates(demo *d, int nodes, int round_base)
{
    char cmd[128], line[256];
    for (int r = 0; r < ROUNDS; r++) {
        for (int i = 0; i < nodes; i++) {
            snprintf(cmd, sizeof(cmd), "inc demo:visits %d", i + 1);
            if (proc_send(&d->p[i], cmd) != 0)
                return -1;
            snprintf(cmd, sizeof(cmd), "add demo:users user-%d-%02d", i + 1, round_base + r);
            if (proc_send(&d->p[i], cmd) != 0)
                return -1;
        }
        for (int i = 0; i < nodes; i++)
            for (int k = 0; k < 2; k++)
                if (proc_read_line(&d->p[i], line, sizeof(line), 3000) != 0 || strcmp(line, "ok")) {
                    fprintf(stderr, "ddata demo: node n%d refused an update: %s\n", i + 1, line);
                    return -1;
                }
    }
    return 0;
}

/* The canonical JSON of a value, as a node's `get` answers it, built with
 * cJSON in canonical key order. */
static void print_value(char *out, size_t cap, cJSON *value)
{
    char *text = value ? cJSON_PrintUnformatted(value) : NULL;
    snprintf(out, cap, "%s", text ? text : "");
    cJSON_free(text);
    cJSON_Delete(value);
}

static void expected_users(char *out, size_t cap, int rounds_all, int rounds_two)
{
    /* Canonical JSON sorts set elements bytewise; the names are built so
     * that this loop order is that order. */
    cJSON *value = cJSON_CreateObject(), *elements = cJSON_CreateArray();
    for (int i = 0; i < NODES; i++)
        for (int r = 0; r < rounds_all + rounds_two; r++) {
            if (r >= rounds_all && i == NODES - 1)
                continue;
            char name[32];
            snprintf(name, sizeof(name), "user-%d-%02d", i + 1, r);
            cJSON_AddItemToArray(elements, cJSON_CreateString(name));
        }
    if (!cJSON_AddItemToObject(value, "elements", elements))
        cJSON_Delete(elements);
    cJSON_AddStringToObject(value, "type", "ORSet");
    print_value(out, cap, value);
}

static void expected_counter(char *out, size_t cap, int total)
{
    cJSON *value = cJSON_CreateObject();
    cJSON_AddStringToObject(value, "type", "PNCounter");
    cJSON_AddNumberToObject(value, "value", total);
    print_value(out, cap, value);
}

/* Elements of a set value, for the table: how many, not which. */
static void short_value(const char *json, char *out, size_t cap)
{
    if (strstr(json, "\"ORSet\"")) {
        int n = 0;
        for (const char *s = json; (s = strstr(s, "\"user-")) != NULL; s++)
            n++;
        snprintf(out, cap, "%d elements", n);
        return;
    }
    const char *v = strstr(json, "\"value\":");
    snprintf(out, cap, "%.*s", v ? (int)strcspn(v + 8, "}") : 0, v ? v + 8 : "");
}

/* Waits until the nodes agree on what ROUNDS rounds on all three nodes and
 * then `rounds_two` on n1 and n2 alone (node i adds i+1 per round) leave;
 * the milliseconds it took, or -1 after saying that they did not agree
 * after `phase`. want_visits gets the expected counter. */
static long long agree_after(demo *d, int rounds_two, char *want_visits, size_t visits_size,
                             const char *phase)
{
    char want_users[8192];
    expected_counter(want_visits, visits_size, ROUNDS * (1 + 2 + 3) + rounds_two * (1 + 2));
    expected_users(want_users, sizeof(want_users), ROUNDS, rounds_two);
    long long t = wait_agree(d, want_visits, want_users, CONVERGE_MS);
    if (t < 0)
        fprintf(stderr,
                "ddata demo: the nodes did not agree after %s; logs in %s (run with --keep)\n",
                phase, d->dir);
    return t;
}

static void print_table(demo *d, long long t_first, long long t_restart)
{
    static const char *keys[] = {"demo:visits", "demo:users"};
    printf("%-5s %-12s %-13s %-22s %s\n", "node", "key", "value", "converge updates (ms)",
           "converge restart (ms)");
    char cmd[64], line[8192], value[64];
    for (int i = 0; i < NODES; i++)
        for (int k = 0; k < 2; k++) {
            snprintf(cmd, sizeof(cmd), "get %s", keys[k]);
            if (proc_ask(&d->p[i], cmd, line, sizeof(line), 2000) != 0)
                snprintf(line, sizeof(line), "?");
            short_value(line, value, sizeof(value));
            printf("n%-4d %-12s %-13s %-22lld %lld\n", i + 1, keys[k], value, t_first, t_restart);
        }
    printf("\nall 3 nodes agree on every key\n");
}

/* What a killed node's store holds for `key`, read with the public store
 * API while the node is down: the value as JSON in out. 0 or -1. */
static int read_store(demo *d, int i, const char *key, char *out, size_t cap)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/n%d.db", d->dir, i + 1);
    dd_store_options so;
    dd_store_options_init(&so, DD_STORE_OPTIONS_VERSION);
    so.backend = DD_BACKEND_SQLITE;
    so.path = path;
    so.read_only = 1;
    char record_key[256];
    snprintf(record_key, sizeof(record_key), "%s%s", RECORD_REPLICA_PREFIX, key);
    dd_state_store *st = NULL;
    dd_buf rec = DD_BUF_INIT, js = DD_BUF_INIT;
    durable_record r;
    memset(&r, 0, sizeof(r));
    int ok = dd_state_store_open(&st, &so) == DD_OK &&
             dd_state_store_get(&rec, NULL, st, (const uint8_t *)record_key, strlen(record_key)) ==
                 DD_OK &&
             record_decode(&r, rec.data, rec.len) == DD_OK && r.value &&
             dd_crdt_value_json(&js, r.value) == DD_OK;
    if (ok)
        snprintf(out, cap, "%.*s", (int)js.len, (const char *)js.data);
    dd_crdt_free(r.value);
    dd_buf_free(&rec);
    dd_buf_free(&js);
    dd_state_store_close(st);
    return ok ? 0 : -1;
}

static int write_key_file(demo *d)
{
    snprintf(d->key_file, sizeof(d->key_file), "%s/cluster.key", d->dir);
    uint8_t key[32];
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0 || read(fd, key, sizeof(key)) != (ssize_t)sizeof(key)) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    fd = open(d->key_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    int ok = write(fd, key, sizeof(key)) == (ssize_t)sizeof(key);
    close(fd);
    return ok ? 0 : -1;
}

static void remove_dir(const char *dir)
{
    static const char *names[] = {"cluster.key", "n1.db",     "n2.db",     "n3.db",     "n1.db-wal",
                                  "n2.db-wal",   "n3.db-wal", "n1.db-shm", "n2.db-shm", "n3.db-shm",
                                  "n1.log",      "n2.log",    "n3.log"};
    char path[256];
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
}

typedef struct demo_args {
    int keep, verbose;
} demo_args;

static int on_option(void *ctx, int index, const char *v)
{
    demo_args *a = ctx;
    if (index == OPT_KEEP)
        a->keep = 1;
    else if (index == OPT_VERBOSE)
        a->verbose = 1;
    else
        return cli_usage_error(&demo_spec, "unknown option", v);
    return 0;
}

int cmd_demo(int argc, char **argv)
{
    demo d;
    memset(&d, 0, sizeof(d));
    demo_args args = {0, 0};
    int parsed = cli_parse(&demo_spec, argc, argv, on_option, &args);
    if (parsed)
        return parsed;
    int keep = args.keep;
    d.verbose = args.verbose;
    for (int i = 0; i < NODES; i++)
        d.p[i].pid = -1;
    snprintf(d.dir, sizeof(d.dir), "/tmp/ddata-demo-XXXXXX");
    if (!mkdtemp(d.dir)) {
        fprintf(stderr, "ddata demo: cannot create a temporary directory: %s\n", strerror(errno));
        return 1;
    }
    int ok = 0;
    long long t_first = -1, t_restart = -1;
    char recovered[256] = "";
    char want_visits[128];
    printf("ddata %s: 3 nodes on 127.0.0.1, SQLite stores in %s\n", dd_version(), d.dir);
    if (write_key_file(&d) != 0) {
        fprintf(stderr, "ddata demo: cannot write the cluster key in %s\n", d.dir);
        goto done;
    }
    if (start_node(&d, 0, "127.0.0.1:0") || start_node(&d, 1, "127.0.0.1:0") ||
        start_node(&d, 2, "127.0.0.1:0"))
        goto done;
    for (int i = 0; i < NODES; i++)
        if (wait_members(&d, i, NODES - 1, 10000) != 0) {
            fprintf(stderr,
                    "ddata demo: node n%d did not see the others up within 10 s; logs in "
                    "%s (run with --keep)\n",
                    i + 1, d.dir);
            goto done;
        }
    printf("1. cluster formed: n1 %s, n2 %s, n3 %s\n", d.addr[0], d.addr[1], d.addr[2]);

    if (concurrent_updates(&d, NODES, 0) != 0)
        goto done;
    t_first = agree_after(&d, 0, want_visits, sizeof(want_visits), "the concurrent updates");
    if (t_first < 0)
        goto done;
    printf("2. %d rounds of `inc demo:visits` and `add demo:users` on all 3 nodes at once: "
           "agreed in %lld ms\n",
           ROUNDS, t_first);

    proc_stop(&d.p[2], 1);
    char stored[256] = "";
    if (read_store(&d, 2, "demo:visits", stored, sizeof(stored)) != 0 ||
        strcmp(stored, want_visits) != 0) {
        fprintf(stderr, "ddata demo: n3's store does not hold demo:visits = %s (%s)\n", want_visits,
                stored);
        goto done;
    }
    printf("3. n3 killed with SIGKILL; its store holds demo:visits = %s; n1 and n2 go on "
           "updating without it\n",
           stored);
    if (concurrent_updates(&d, NODES - 1, ROUNDS) != 0)
        goto done;
    if (start_node(&d, 2, d.addr[2]) != 0)
        goto done;
    if (proc_ask(&d.p[2], "get demo:visits", recovered, sizeof(recovered), 2000) != 0 ||
        strcmp(recovered, "null") == 0) {
        fprintf(stderr, "ddata demo: n3 did not recover demo:visits from its store: %s\n",
                recovered);
        goto done;
    }
    if (strcmp(recovered, want_visits) == 0)
        printf("4. n3 restarted on its store; before hearing from anyone it read %s\n", recovered);
    else
        printf("4. n3 restarted on its store; it read %s (already merged with a peer)\n",
               recovered);
    t_restart = agree_after(&d, ROUNDS, want_visits, sizeof(want_visits), "the restart");
    if (t_restart < 0)
        goto done;
    printf("5. n3 caught up with what it missed\n\n");
    print_table(&d, t_first, t_restart);
    ok = 1;
done:
    for (int i = 0; i < NODES; i++)
        proc_stop(&d.p[i], 0);
    if (!keep)
        remove_dir(d.dir);
    return ok ? 0 : 1;
}
