/*
 * `ddata schema postgres`: prints the SQL that creates a store's tables,
 * for a database owner to run when the role the nodes connect as may not
 * create tables (opening then fails with the server's "permission
 * denied"). The SQL comes from the library (dd_store_schema), so it is
 * always the schema this library version expects.
 */
#include <stdio.h>
#include <string.h>

#include "cli_options.h"
#include "commands.h"
#include "ddata.h"

static const cli_spec schema_spec = {
    "schema",
    "usage: ddata schema postgres\n\n"
    "Prints the SQL that creates the PostgreSQL store's tables (run it with psql as\n"
    "their owner, then grant the nodes' role SELECT, INSERT, UPDATE, DELETE).\n",
    0,
    NULL,
    0,
    NULL,
};

void cmd_schema_help(void)
{
    cli_help(&schema_spec);
}

int store_path_is_postgres(const char *path)
{
    return path &&
           (strncmp(path, "postgresql://", 13) == 0 || strncmp(path, "postgres://", 11) == 0);
}

const char *store_path_for_display(const char *path, char *buf, size_t n)
{
    if (!store_path_is_postgres(path))
        return path;
    /* scheme://user:password@host... */
    const char *user = strstr(path, "://") + 3;
    const char *at = strchr(user, '@');
    const char *colon = strchr(user, ':');
    if (!at || !colon || colon > at)
        return path;
    snprintf(buf, n, "%.*s:***%s", (int)(colon - path), path, at);
    return buf;
}

int cmd_schema(int argc, char **argv)
{
    const char *backend = NULL;
    size_t n = 0;
    int parsed = cli_operands(&schema_spec, argc, argv, &backend, 1, &n);
    if (parsed)
        return parsed;
    if (n != 1 || (strcmp(backend, "postgres") != 0 && strcmp(backend, "postgresql") != 0)) {
        fprintf(stderr, "ddata schema: expected one backend name: postgres\n");
        return 2;
    }
    dd_buf sql;
    if (dd_store_schema(&sql, DD_BACKEND_POSTGRES) != DD_OK) {
        fprintf(stderr, "ddata schema: %s\n", dd_error_last()->message);
        return 1;
    }
    fwrite(sql.data, 1, sql.len, stdout);
    dd_buf_free(&sql);
    return 0;
}
