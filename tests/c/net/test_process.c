/*
 * The transport across real processes: a child process runs a net (this
 * same executable, re-executed with DD_NET_CHILD_PORT set) that echoes
 * what it receives; the test SIGKILLs it and starts another on the same
 * port, and the parent must notice the death and reconnect by itself.
 * A child ends on its own after CHILD_LIFETIME_MS if nobody kills it.
 */
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "net_test_util.h"

#define CHILD_LIFETIME_MS 20000

extern char **environ;

static void run_child(const char *port)
{
    char listen[64];
    snprintf(listen, sizeof(listen), "127.0.0.1:%s", port);
    net_config c = test_config(2, TEST_SECRET);
    c.listen_addr = listen;
    c.incarnation = 0; /* random per process, as a real node's */
    net *n = NULL;
    if (net_open(&n, &c) != ST_OK)
        _exit(3);
    uint64_t end = clock_monotonic_ms() + CHILD_LIFETIME_MS;
    while (clock_monotonic_ms() < end) {
        net_wait(n, 100);
        net_event ev;
        while (net_poll(n, &ev) == ST_OK) {
            if (ev.kind == NET_EV_MESSAGE)
                net_send(n, ev.node_id, ev.data, ev.len, NET_RELIABLE, ev.msg_class);
            net_event_clear(&ev);
        }
    }
    net_close(n);
    _exit(0);
}

__attribute__((constructor)) static void maybe_child(void)
{
    const char *port = getenv("DD_NET_CHILD_PORT");
    if (port)
        run_child(port);
}

static uint16_t free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT(bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
    socklen_t len = sizeof(a);
    getsockname(fd, (struct sockaddr *)&a, &len);
    close(fd);
    return ntohs(a.sin_port);
}

static pid_t spawn_child(uint16_t port)
{
    size_t count = 0;
    while (environ[count])
        count++;
    char **envp = calloc(count + 2, sizeof(char *));
    char var[64];
    snprintf(var, sizeof(var), "DD_NET_CHILD_PORT=%u", (unsigned)port);
    memcpy(envp, environ, count * sizeof(char *));
    envp[count] = var;
    char *argv[] = {"net_child", NULL};
    pid_t pid = fork();
    if (pid == 0) {
        execve("/proc/self/exe", argv, envp);
        _exit(4);
    }
    free(envp);
    ASSERT(pid > 0);
    return pid;
}

static void kill_child(pid_t pid)
{
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
}

static void echo_round_trip(net *a, const char *text)
{
    ASSERT(WAIT_UNTIL(net_send(a, "2", text, strlen(text), NET_RELIABLE, 0) == ST_OK, 3000));
    net_event ev;
    ASSERT(wait_event(a, NET_EV_MESSAGE, 5000, &ev));
    ASSERT_MEM_EQ(ev.data, ev.len, text, strlen(text));
    net_event_clear(&ev);
}

TEST(test_killed_child_is_reported_and_replacement_is_reconnected)
{
    uint16_t port = free_port();
    char addr[64];
    snprintf(addr, sizeof(addr), "127.0.0.1:%u", (unsigned)port);
    net *a = open_net(1, TEST_SECRET);
    ASSERT_OK(net_connect(a, addr));
    pid_t child = spawn_child(port);
    expect_event_from(a, NET_EV_CONNECTED, "2", 5000);
    echo_round_trip(a, "first life");

    kill_child(child);
    expect_event_from(a, NET_EV_DISCONNECTED, "2", 5000);
    ASSERT_STATUS(net_send(a, "2", "x", 1, NET_RELIABLE, 0), ST_ENOTFOUND);

    child = spawn_child(port);
    expect_event_from(a, NET_EV_CONNECTED, "2", 5000);
    echo_round_trip(a, "second life");
    ASSERT_EQ_U64(peer_stats_of(a, "2").connects, 2);
    kill_child(child);
    net_close(a);
}

TEST(test_child_with_wrong_secret_process_cannot_join)
{
    /* The child runs with the right secret; here the parent is the
     * outsider: it must be refused by a separate process and learn nothing. */
    uint16_t port = free_port();
    char addr[64];
    snprintf(addr, sizeof(addr), "127.0.0.1:%u", (unsigned)port);
    pid_t child = spawn_child(port);
    net_config c = test_config(9, WRONG_SECRET);
    net *x;
    ASSERT_OK(net_open(&x, &c));
    ASSERT_OK(net_connect(x, addr));
    ASSERT(WAIT_UNTIL(stats_of(x).handshake_failures >= 2, 5000));
    ASSERT(!wait_event(x, NET_EV_CONNECTED, 10, NULL));
    ASSERT_EQ_INT(stats_of(x).peers_connected, 0);
    net_close(x);
    kill_child(child);
}
