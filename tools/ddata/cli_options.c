/*
 * The subcommands' option tables (cli_options.h).
 */
#include "cli_options.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CLI_FIRST_VAL 256

void cli_help(const cli_spec *spec)
{
    fputs(spec->intro, stdout);
    for (size_t i = 0; i < spec->count; i++) {
        const cli_option *o = &spec->options[i];
        char left[128];
        snprintf(left, sizeof(left), "--%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
        printf("  %-*s ", spec->column, left);
        for (const char *p = o->help; *p; p++) {
            putchar(*p);
            if (*p == '\n')
                printf("  %-*s ", spec->column, "");
        }
        putchar('\n');
    }
    if (spec->outro)
        fputs(spec->outro, stdout);
}

int cli_usage_error(const cli_spec *spec, const char *problem, const char *value)
{
    fprintf(stderr, "ddata %s: %s '%s'; see `ddata %s --help`\n", spec->command, problem, value,
            spec->command);
    return 2;
}

int cli_parse(const cli_spec *spec, int argc, char **argv, cli_option_fn fn, void *ctx)
{
    struct option *longs = calloc(spec->count + 1, sizeof(*longs));
    char **args = calloc((size_t)argc + 2, sizeof(*args));
    if (!longs || !args) {
        free(longs);
        free(args);
        fprintf(stderr, "ddata %s: out of memory\n", spec->command);
        return 1;
    }
    for (size_t i = 0; i < spec->count; i++) {
        longs[i].name = spec->options[i].name;
        longs[i].has_arg = spec->options[i].arg ? required_argument : no_argument;
        longs[i].val = CLI_FIRST_VAL + (int)i; /* clear of 1 (an operand), ':' and '?' */
    }
    /* getopt reads argv[0] as the program's name and permutes the rest. */
    args[0] = (char *)spec->command;
    for (int i = 0; i < argc; i++)
        args[i + 1] = argv[i];
    int status = 0, c;
    optind = 0; /* 0: a fresh scan, whatever an earlier parse left */
    opterr = 0;
    while (!status && (c = getopt_long(argc + 1, args, "-:", longs, NULL)) != -1) {
        if (c == 1) /* an operand, in order ("-" mode) */
            status = fn(ctx, -1, optarg);
        else if (c == ':')
            status = 2, fprintf(stderr, "ddata %s: '%s' needs a value; see `ddata %s --help`\n",
                                spec->command, args[optind - 1], spec->command);
        else if (c == '?')
            status = cli_usage_error(spec, "unknown option", args[optind - 1]);
        else
            status = fn(ctx, c - CLI_FIRST_VAL, optarg);
    }
    /* Whatever follows "--" is operands, even when it starts with '-'. */
    for (int i = optind; !status && i < argc + 1; i++)
        status = fn(ctx, -1, args[i]);
    free(longs);
    free(args);
    return status;
}

typedef struct operands {
    const cli_spec *spec;
    const char **out;
    size_t max, n;
} operands;

static int add_operand(void *ctx, int index, const char *value)
{
    operands *o = ctx;
    if (index != -1 || o->n == o->max)
        return cli_usage_error(o->spec, "unexpected argument", value ? value : "");
    o->out[o->n++] = value;
    return 0;
}

int cli_operands(const cli_spec *spec, int argc, char **argv, const char **out, size_t max,
                 size_t *count)
{
    operands o = {spec, out, max, 0};
    int rc = cli_parse(spec, argc, argv, add_operand, &o);
    *count = o.n;
    return rc;
}

int cli_number(const cli_spec *spec, const char *name, const char *value, uint64_t max,
               uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(value, &end, 10);
    if (errno || end == value || *end || value[0] == '-' || v > max) {
        fprintf(stderr, "ddata %s: --%s takes a number up to %llu, not '%s'\n", spec->command, name,
                (unsigned long long)max, value);
        return 2;
    }
    *out = v;
    return 0;
}

int cli_path_operand(const cli_spec *spec, const char **path, const char *value)
{
    if (*path) {
        fprintf(stderr, "ddata %s: one PATH only; see `ddata %s --help`\n", spec->command,
                spec->command);
        return 2;
    }
    *path = value;
    return 0;
}

int cli_path_required(const cli_spec *spec, const char *path)
{
    if (path)
        return 0;
    fprintf(stderr, "ddata %s: which store? `ddata %s PATH` (see --help)\n", spec->command,
            spec->command);
    return 2;
}
