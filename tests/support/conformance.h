/*
 * Helpers shared by the C runners of the conformance vectors
 * (tests/conformance/runner.c for crdt/, tests/c/abi/test_owned_conformance.c,
 * test_store_conformance.c and test_replicator_conformance.c): reading a
 * vector file, the byte-string encoding of SCHEMA.md, status and CRDT type
 * names, playing a case's steps, and the known-failures list.
 *
 * They see only the public header and libcjson, like the runners, so the
 * runner that links nothing but libddata.so can use them too; hence they
 * return messages instead of asserting (test.h is not linked there).
 */
#ifndef DD_TEST_CONFORMANCE_H
#define DD_TEST_CONFORMANCE_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Writes a case's failure message into msg (cap bytes) and returns -1, so a
 * step can `return conf_fail(...)`. */
int conf_fail(char *msg, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* o's member k (case-sensitive), NULL when o is not an object or lacks it. */
const cJSON *conf_get(const cJSON *o, const char *k);

/* The whole file, NUL-terminated; NULL when unreadable. The caller frees;
 * len (may be NULL) receives the size without the NUL. */
char *conf_read_file(const char *path, size_t *len);

/* The status whose dd_status_name is `name`, or 1 (no status) when none. */
int conf_status_of_name(const char *name);

/* The CRDT type whose dd_crdt_type_name is `name`, or -1 when none. */
int conf_type_of_name(const char *name);

/* A JSON string (its UTF-8 bytes) or {"$bytes": base64} into buf (at most
 * cap bytes). NULL on success, else what was wrong. */
const char *conf_bytes(const cJSON *v, uint8_t *buf, size_t cap, size_t *len);

/* One step of a case: 0 when it passes, else nonzero after writing why
 * into the case's failure message. */
typedef int (*conf_step_fn)(void *run, const cJSON *step);

/* Plays the "steps" of case c in order through do_step until one fails,
 * and reports that one on stderr as
 * "  <area>/<file>: <name>: step N (<op>): <failure>", where failure is the
 * message the steps write into. 1 when a step failed, else 0. */
int conf_play_steps(const char *area, const char *file, const char *name, const cJSON *c,
                    conf_step_fn do_step, void *run, const char *failure);

/* Calls the ABI function a step's "op" names; returns its status, or 1
 * after writing why into the case's failure message. */
typedef int (*conf_call_fn)(void *run, const cJSON *step, const char *op);

/* conf_play_steps for cases whose every step calls its "op" through call
 * (the store and replicator vectors): the status it returns must be the
 * step's "expect_status", DD_OK when absent; failure (cap bytes) is the
 * run's message, which call writes into too. */
int conf_play_status_steps(const char *area, const char *file, const char *name, const cJSON *c,
                           conf_call_fn call, void *run, char *failure, size_t cap);

/* known_failures_c.txt: one case id per line, '#' starts a comment. A listed
 * case must fail; one that passes fails the run, so the list only shrinks. */
typedef struct conf_known {
    char *text;
    char **ids;
    size_t count;
} conf_known;

/* A missing file is an empty list; -1 only when out of memory. */
int conf_known_load(conf_known *k, const char *path);
bool conf_known_has(const conf_known *k, const char *id);
void conf_known_free(conf_known *k);

/* The *.json names in dir, sorted so runs report in the same order. */
typedef struct conf_files {
    char **names;
    size_t count;
} conf_files;

/* -1 when dir cannot be opened or memory runs out. */
int conf_json_files(conf_files *out, const char *dir);
void conf_files_free(conf_files *f);

/* Plays one case of `file`; 0 when it passes, else nonzero after printing
 * why to stderr. */
typedef int (*conf_case_fn)(const char *file, const char *name, const cJSON *c);

typedef struct conf_tally {
    int files, cases, failures;
} conf_tally;

/* Plays every case of every vector file in
 * $DDATA_SOURCE_DIR/tests/conformance/<area>/. A case listed as
 * "<area>/<file>:<name>" in known_failures_c.txt counts as failed when it
 * passes and as passed when it fails. An unparsable file is one failure.
 * Prints the tally to stderr; -1 when the directory cannot be read. */
int conf_run_area(const char *area, conf_case_fn play, conf_tally *tally);

#endif
