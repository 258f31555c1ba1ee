/*
 * How `ddata node` shows the library's log records (dd_system_next_log):
 * readable lines by default ("[n1] warn member.unreachable incarnation=3
 * member=n2"), or with --log-format json one JSON object per line, the
 * record as the library gives it plus "node", for log shippers.
 */
#ifndef DDATA_CLI_LOG_PRINT_H
#define DDATA_CLI_LOG_PRINT_H

#include <stdio.h>

#include "ddata.h"

typedef enum log_format { LOG_FORMAT_TEXT = 0, LOG_FORMAT_JSON = 1 } log_format;

/* Drains every queued record of `sys` to `out`. */
void log_print_drain(FILE *out, dd_system *sys, const char *node_id, log_format format);

#endif
