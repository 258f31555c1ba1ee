/*
 * Command-line options of the `ddata` subcommands: one table per command
 * says every option, its value's name and its help, and both the parser
 * (getopt_long over the table) and `--help` are made from it, so the help
 * cannot drift from what is accepted.
 *
 * Options may come before or after operands (GNU getopt permutes), as
 * `--name VALUE` or `--name=VALUE`. A usage error prints one line naming
 * the option and `ddata CMD --help`, and is exit code 2.
 */
#ifndef DD_TOOLS_CLI_OPTIONS_H
#define DD_TOOLS_CLI_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

typedef struct cli_option {
    const char *name; /* long name, without "--" */
    const char *arg;  /* its value's name ("FILE"); NULL for a flag */
    const char *help; /* "\n" continues the text on a new line, aligned */
} cli_option;

typedef struct cli_spec {
    const char *command; /* "inspect": names the command in messages */
    const char *intro;   /* printed before the options: usage line, description */
    int column;          /* width of the "--name ARG" column */
    const cli_option *options;
    size_t count;
    const char *outro; /* printed after the options; may be NULL */
} cli_spec;

#define CLI_COUNT(table) (sizeof(table) / sizeof((table)[0]))

/* Prints the help of `spec` on stdout. */
void cli_help(const cli_spec *spec);

/* Called for each option (its index in the table, its value or NULL) and
 * for each operand (index -1); a non-zero return stops parsing and is
 * returned. */
typedef int (*cli_option_fn)(void *ctx, int index, const char *value);

/* Parses argc/argv (the arguments after the command name). 0, the
 * callback's non-zero return, or 2 after printing a usage error. */
int cli_parse(const cli_spec *spec, int argc, char **argv, cli_option_fn fn, void *ctx);

/* Prints "ddata CMD: <problem> '<value>'; see `ddata CMD --help`" on
 * stderr and returns 2: the usage error for an argument a command does
 * not take (problem: "unknown option", "unexpected argument"). */
int cli_usage_error(const cli_spec *spec, const char *problem, const char *value);

/* For a command that takes operands only: parses argc/argv against `spec`
 * (unknown options are usage errors) and stores the operands in
 * out[0..max); 0 with *count set, or 2 after printing a usage error when
 * there are more than `max`. */
int cli_operands(const cli_spec *spec, int argc, char **argv, const char **out, size_t max,
                 size_t *count);

/* Reads `value` of option `name` as an unsigned decimal number at most
 * `max`; 0, or 2 after printing a usage error. */
int cli_number(const cli_spec *spec, const char *name, const char *value, uint64_t max,
               uint64_t *out);

/* The one PATH operand of a store command: stores `value` in *path; 0, or
 * 2 after printing a usage error when a PATH was given already. */
int cli_path_operand(const cli_spec *spec, const char **path, const char *value);

/* 0 when a store command got its PATH, or 2 after printing that it is
 * missing. */
int cli_path_required(const cli_spec *spec, const char *path);

#endif
