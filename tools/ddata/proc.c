/*
 * Child processes over pipes (see proc.h).
 */
#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int proc_start(proc *p, char *const argv[], const char *log_path)
{
    memset(p, 0, sizeof(*p));
    p->pid = -1;
    p->in_fd = p->out_fd = -1;
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) != 0)
        return -1;
    if (pipe2(out, O_CLOEXEC) != 0) {
        close(in[0]);
        close(in[1]);
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        close(in[0]);
        close(in[1]);
        close(out[0]);
        close(out[1]);
        return -1;
    }
    if (pid == 0) {
        dup2(in[0], STDIN_FILENO);
        dup2(out[1], STDOUT_FILENO);
        int log = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (log >= 0)
            dup2(log, STDERR_FILENO);
        execv("/proc/self/exe", argv);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    p->pid = pid;
    p->in_fd = in[1];
    p->out_fd = out[0];
    return 0;
}

int proc_send(proc *p, const char *line)
{
    size_t len = strlen(line);
    char *msg = malloc(len + 1);
    if (!msg)
        return -1;
    memcpy(msg, line, len);
    msg[len] = '\n';
    size_t off = 0;
    while (off < len + 1) {
        ssize_t w = write(p->in_fd, msg + off, len + 1 - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            free(msg);
            return -1;
        }
        off += (size_t)w;
    }
    free(msg);
    return 0;
}

int proc_read_line(proc *p, char *out, size_t cap, int timeout_ms)
{
    long long deadline = mono_ms() + timeout_ms;
    for (;;) {
        char *nl = memchr(p->buf, '\n', p->used);
        if (nl) {
            size_t len = (size_t)(nl - p->buf);
            size_t n = len < cap - 1 ? len : cap - 1;
            memcpy(out, p->buf, n);
            out[n] = 0;
            memmove(p->buf, nl + 1, p->used - len - 1);
            p->used -= len + 1;
            return 0;
        }
        long long left = deadline - mono_ms();
        if (left <= 0 || p->used == sizeof(p->buf))
            return -1;
        struct pollfd pfd = {p->out_fd, POLLIN, 0};
        int n = poll(&pfd, 1, (int)left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        ssize_t r = read(p->out_fd, p->buf + p->used, sizeof(p->buf) - p->used);
        if (r <= 0)
            return -1;
        p->used += (size_t)r;
    }
}

int proc_ask(proc *p, const char *line, char *out, size_t cap, int timeout_ms)
{
    if (proc_send(p, line) != 0)
        return -1;
    return proc_read_line(p, out, cap, timeout_ms);
}

void proc_stop(proc *p, int hard)
{
    if (p->pid <= 0)
        return;
    if (hard) {
        kill(p->pid, SIGKILL);
    } else {
        char bye[64];
        if (proc_ask(p, "quit", bye, sizeof(bye), 3000) != 0)
            kill(p->pid, SIGTERM);
    }
    long long deadline = mono_ms() + 5000;
    int status;
    while (waitpid(p->pid, &status, WNOHANG) == 0) {
        if (mono_ms() > deadline) {
            kill(p->pid, SIGKILL);
            waitpid(p->pid, &status, 0);
            break;
        }
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
    }
    if (p->in_fd >= 0)
        close(p->in_fd);
    if (p->out_fd >= 0)
        close(p->out_fd);
    p->pid = -1;
    p->in_fd = p->out_fd = -1;
    p->used = 0;
}
