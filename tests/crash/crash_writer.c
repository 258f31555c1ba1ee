/*
 * The crash writer: appends batches to one journal forever, printing the
 * highest acknowledged sequence number after every DD_OK, until the test
 * kills it with SIGKILL at a random moment.
 *
 *   crash_writer sqlite|fs PATH
 *
 * It resumes from the highest sequence number it finds, so one store
 * accumulates the history of every trial.
 */
#include <stdlib.h>
#include <unistd.h>

#include "crash_common.h"

int main(int argc, char **argv)
{
    if (argc != 3)
        return 64;
    dd_journal *j;
    dd_keyring *ring;
    if (crash_open(&j, argv[1], argv[2], &ring) != DD_OK) {
        fprintf(stderr, "crash_writer: open: %s\n", dd_error_last()->message);
        return 2;
    }
    uint64_t seq;
    if (dd_journal_highest_seq(&seq, j, (const uint8_t *)CRASH_PID, strlen(CRASH_PID)) != DD_OK)
        return 3;
    if (write(1, "R", 1) != 1)
        return 5;
    static uint8_t payloads[7][400];
    dd_append_event events[7];
    for (;;) {
        uint64_t n = crash_batch_size(seq + 1);
        for (uint64_t i = 0; i < n; i++) {
            uint64_t s = seq + 1 + i;
            size_t len = crash_payload_len(s);
            for (size_t b = 0; b < len; b++)
                payloads[i][b] = crash_payload_byte(s, b);
            events[i] = (dd_append_event){payloads[i], len, s, NULL, 0};
        }
        int rc = dd_journal_append(j, (const uint8_t *)CRASH_PID, strlen(CRASH_PID), seq, events,
                                   (size_t)n);
        if (rc != DD_OK) {
            fprintf(stderr, "crash_writer: append: %s\n", dd_error_last()->message);
            return 4;
        }
        seq += n;
        char line[32];
        int len = snprintf(line, sizeof(line), "%llu\n", (unsigned long long)seq);
        if (write(1, line, (size_t)len) != len)
            return 5;
    }
}
