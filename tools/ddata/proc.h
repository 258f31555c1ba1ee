/*
 * Child processes driven over pipes, for `ddata demo`: start `ddata node
 * --control` (this same binary, through /proc/self/exe), send one command
 * line, read one answer line, all with deadlines so a stuck child fails
 * the demo instead of hanging it.
 */
#ifndef DD_TOOLS_PROC_H
#define DD_TOOLS_PROC_H

#include <stddef.h>
#include <sys/types.h>

typedef struct proc {
    pid_t pid;
    int in_fd;  /* its stdin */
    int out_fd; /* its stdout */
    char buf[65536];
    size_t used;
} proc;

/* Starts this binary with `argv` (NULL-terminated, argv[0] ignored) and
 * stderr appended to `log_path`. 0 or -1. */
int proc_start(proc *p, char *const argv[], const char *log_path);
/* Sends `line` (a newline is added) and reads the answer into out (NUL
 * terminated, newline stripped) within timeout_ms. 0 or -1. */
int proc_ask(proc *p, const char *line, char *out, size_t cap, int timeout_ms);
/* Reads one line within timeout_ms. 0 or -1. */
int proc_read_line(proc *p, char *out, size_t cap, int timeout_ms);
/* Sends a line without waiting for the answer. */
int proc_send(proc *p, const char *line);
/* SIGKILL (hard = 1) or "quit" then SIGTERM, and reaps it. */
void proc_stop(proc *p, int hard);

#endif
