/*
 * `ddata node --metrics IP:PORT`: a minimal HTTP/1.0 server answering
 * GET /metrics with dd_system_metrics_text, for Prometheus to scrape.
 *
 * One thread of the CLI (never of the library), one connection at a time:
 * a scrape every few seconds needs no more, and a slow client is cut off
 * by a receive timeout rather than holding the node up. The thread only
 * calls the ABI, which takes the system's own lock.
 */
#ifndef DDATA_CLI_METRICS_HTTP_H
#define DDATA_CLI_METRICS_HTTP_H

#include "ddata.h"

typedef struct metrics_http metrics_http;

/* Binds `address` ("ip:port", port 0 picks one) and starts serving. On
 * failure prints why to stderr and returns -1. */
int metrics_http_start(metrics_http **out, const char *address, dd_system *sys);
/* The bound "ip:port". */
const char *metrics_http_address(const metrics_http *m);
/* Stops the thread and closes the socket; NULL-safe. */
void metrics_http_stop(metrics_http *m);

#endif
