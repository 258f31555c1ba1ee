/*
 * log_print_drain (log_print.h). Records are parsed with cJSON; one that
 * does not parse is printed as it came, so nothing is hidden.
 */
#include <cjson/cJSON.h>
#include <string.h>

#include "log_print.h"

static void print_text(FILE *out, const char *node_id, const cJSON *rec)
{
    const cJSON *event = cJSON_GetObjectItemCaseSensitive(rec, "event");
    const cJSON *level = cJSON_GetObjectItemCaseSensitive(rec, "level");
    const cJSON *fields = cJSON_GetObjectItemCaseSensitive(rec, "fields");
    fprintf(out, "[%s] %s %s", node_id, cJSON_IsString(level) ? level->valuestring : "info",
            cJSON_IsString(event) ? event->valuestring : "?");
    const cJSON *f;
    cJSON_ArrayForEach(f, fields)
    {
        if (cJSON_IsString(f))
            fprintf(out, strpbrk(f->valuestring, " \"=") ? " %s=\"%s\"" : " %s=%s", f->string,
                    f->valuestring);
    }
    fputc('\n', out);
}

void log_print_drain(FILE *out, dd_system *sys, const char *node_id, log_format format)
{
    dd_buf b = DD_BUF_INIT;
    while (dd_system_next_log(&b, sys) == DD_OK) {
        cJSON *rec = cJSON_ParseWithLength((const char *)b.data, b.len);
        if (!rec) {
            fprintf(out, "[%s] %.*s\n", node_id, (int)b.len, (const char *)b.data);
        } else if (format == LOG_FORMAT_JSON) {
            cJSON_AddStringToObject(rec, "node", node_id);
            char *text = cJSON_PrintUnformatted(rec);
            if (text)
                fprintf(out, "%s\n", text);
            cJSON_free(text);
        } else {
            print_text(out, node_id, rec);
        }
        cJSON_Delete(rec);
        dd_buf_free(&b);
    }
    fflush(out);
}
