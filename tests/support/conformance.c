/*
 * The conformance runners' shared plumbing (see conformance.h): file
 * reading, SCHEMA.md's byte strings, status and type names, the loop over a
 * case's steps, the known-failures list and the loop over an area's vector
 * files. Public header and libcjson only.
 */
#include "conformance.h"

#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ddata.h"

int conf_fail(char *msg, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, cap, fmt, ap);
    va_end(ap);
    return -1;
}

const cJSON *conf_get(const cJSON *o, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(o, k);
}

char *conf_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf) {
        buf[n] = 0;
        if (len)
            *len = (size_t)n;
    }
    return buf;
}

int conf_status_of_name(const char *name)
{
    for (int c = 0; c >= -64; c--)
        if (strcmp(dd_status_name(c), name) == 0)
            return c;
    return 1;
}

int conf_type_of_name(const char *name)
{
    for (uint32_t t = 1; t < 64; t++) {
        const char *n = dd_crdt_type_name(t);
        if (n && strcmp(n, name) == 0)
            return (int)t;
    }
    return -1;
}

int conf_play_steps(const char *area, const char *file, const char *name, const cJSON *c,
                    conf_step_fn do_step, void *run, const char *failure)
{
    int s = 0;
    const cJSON *step;
    cJSON_ArrayForEach(step, conf_get(c, "steps"))
    {
        if (do_step(run, step)) {
            const cJSON *op = conf_get(step, "op");
            fprintf(stderr, "  %s/%s: %s: step %d (%s): %s\n", area, file, name, s,
                    cJSON_IsString(op) ? op->valuestring : "?", failure);
            return 1;
        }
        s++;
    }
    return 0;
}

/* A status step: the call and where both it and the check write why. */
typedef struct status_step {
    conf_call_fn call;
    void *run;
    char *msg;
    size_t cap;
} status_step;

static int play_status_step(void *ctx, const cJSON *step)
{
    const status_step *s = ctx;
    const cJSON *op = conf_get(step, "op");
    if (!cJSON_IsString(op))
        return conf_fail(s->msg, s->cap, "step without op");
    const cJSON *es = conf_get(step, "expect_status");
    int want = cJSON_IsString(es) ? conf_status_of_name(es->valuestring) : DD_OK;
    int rc = s->call(s->run, step, op->valuestring);
    if (rc == 1)
        return -1;
    if (rc != want)
        return conf_fail(s->msg, s->cap, "status %s (%s), expected %s", dd_status_name(rc),
                         dd_error_last()->message, dd_status_name(want));
    return 0;
}

int conf_play_status_steps(const char *area, const char *file, const char *name, const cJSON *c,
                           conf_call_fn call, void *run, char *failure, size_t cap)
{
    status_step s = {call, run, failure, cap};
    return conf_play_steps(area, file, name, c, play_status_step, &s, failure);
}

static int b64_digit(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* Decoded by hand: vector byte strings are tiny, and cJSON has no base64. */
const char *conf_bytes(const cJSON *v, uint8_t *buf, size_t cap, size_t *len)
{
    if (cJSON_IsString(v)) {
        size_t n = strlen(v->valuestring);
        if (n > cap)
            return "byte string too long";
        memcpy(buf, v->valuestring, n);
        *len = n;
        return NULL;
    }
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(v, "$bytes");
    if (!cJSON_IsString(b))
        return "expected a string or {\"$bytes\":...}";
    uint32_t acc = 0;
    int bits = 0;
    size_t n = 0;
    for (const char *p = b->valuestring; *p && *p != '='; p++) {
        int x = b64_digit(*p);
        if (x < 0)
            return "bad base64";
        acc = acc << 6 | (uint32_t)x;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (n == cap)
                return "byte string too long";
            buf[n++] = (uint8_t)(acc >> bits);
        }
    }
    *len = n;
    return NULL;
}

int conf_known_load(conf_known *k, const char *path)
{
    memset(k, 0, sizeof(*k));
    k->text = conf_read_file(path, NULL);
    if (!k->text)
        return 0;
    size_t lines = 1;
    for (const char *p = k->text; *p; p++)
        lines += *p == '\n';
    k->ids = calloc(lines, sizeof(*k->ids));
    if (!k->ids)
        return -1;
    char *save = NULL;
    for (char *line = strtok_r(k->text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        line[strcspn(line, "\r")] = 0;
        if (line[0] && line[0] != '#')
            k->ids[k->count++] = line;
    }
    return 0;
}

bool conf_known_has(const conf_known *k, const char *id)
{
    for (size_t i = 0; i < k->count; i++)
        if (strcmp(k->ids[i], id) == 0)
            return true;
    return false;
}

void conf_known_free(conf_known *k)
{
    free(k->ids);
    free(k->text);
    memset(k, 0, sizeof(*k));
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int conf_json_files(conf_files *out, const char *dir)
{
    memset(out, 0, sizeof(*out));
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    size_t cap = 0;
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l <= 5 || strcmp(e->d_name + l - 5, ".json") != 0)
            continue;
        if (out->count == cap) {
            cap = cap ? cap * 2 : 16;
            char **grown = realloc(out->names, cap * sizeof(*grown));
            if (!grown) {
                rc = -1;
                break;
            }
            out->names = grown;
        }
        if (!(out->names[out->count] = strdup(e->d_name))) {
            rc = -1;
            break;
        }
        out->count++;
    }
    closedir(d);
    if (rc) {
        conf_files_free(out);
        return rc;
    }
    if (out->count)
        qsort(out->names, out->count, sizeof(*out->names), by_name);
    return 0;
}

void conf_files_free(conf_files *f)
{
    for (size_t i = 0; i < f->count; i++)
        free(f->names[i]);
    free(f->names);
    memset(f, 0, sizeof(*f));
}

static int run_file(const char *area, const char *dir, const char *file, const conf_known *known,
                    conf_case_fn play, conf_tally *tally)
{
    char path[2048];
    snprintf(path, sizeof(path), "%s/%s", dir, file);
    size_t len = 0;
    char *text = conf_read_file(path, &len);
    cJSON *doc = text ? cJSON_ParseWithLength(text, len) : NULL;
    free(text);
    if (!doc) {
        fprintf(stderr, "  %s/%s: cannot read or parse\n", area, file);
        return 1;
    }
    int failures = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(doc, "cases"))
    {
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(c, "name");
        const char *name = cJSON_IsString(n) ? n->valuestring : "?";
        bool failed = play(file, name, c) != 0;
        char id[1024];
        snprintf(id, sizeof(id), "%s/%s:%s", area, file, name);
        if (conf_known_has(known, id)) {
            if (!failed)
                fprintf(stderr, "  %s/%s: %s: listed as a known failure but passes\n", area, file,
                        name);
            failed = !failed;
        }
        failures += failed;
        tally->cases++;
    }
    cJSON_Delete(doc);
    return failures;
}

int conf_run_area(const char *area, conf_case_fn play, conf_tally *tally)
{
    memset(tally, 0, sizeof(*tally));
    const char *src = getenv("DDATA_SOURCE_DIR");
    char dir[1024], path[1100];
    snprintf(dir, sizeof(dir), "%s/tests/conformance/%s", src ? src : ".", area);
    conf_files files;
    if (conf_json_files(&files, dir))
        return -1;
    conf_known known;
    snprintf(path, sizeof(path), "%s/../known_failures_c.txt", dir);
    if (conf_known_load(&known, path)) {
        conf_files_free(&files);
        return -1;
    }
    for (size_t i = 0; i < files.count; i++) {
        tally->failures += run_file(area, dir, files.names[i], &known, play, tally);
        tally->files++;
    }
    conf_known_free(&known);
    conf_files_free(&files);
    fprintf(stderr, "  %s conformance: %d files, %d cases, %d failed\n", area, tally->files,
            tally->cases, tally->failures);
    return 0;
}
