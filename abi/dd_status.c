/*
 * Status names and descriptions, and the proof that the core's ST_* codes
 * are the public DD_* codes.
 */
#include "abi.h"

#define SAME(name) _Static_assert((int)DD_##name == (int)ST_##name, "DD_" #name " != ST_" #name)
SAME(OK);
SAME(EINVAL);
SAME(ENOMEM);
SAME(EMISUSE);
SAME(ENOTFOUND);
SAME(ECONFLICT);
SAME(ECORRUPT);
SAME(ECRYPTO);
SAME(ELIMIT);
SAME(EIO);
SAME(ETIMEOUT);
SAME(EDELETED);
SAME(ETYPE);
SAME(EBUSY);
SAME(EDONE);
SAME(EUNSUPPORTED);
SAME(ECALLBACK);

typedef struct status_info {
    const char *name;
    const char *text;
} status_info;

/* Indexed by -code. */
static const status_info statuses[] = {
    {"DD_OK", "success"},
    {"DD_EINVAL", "invalid argument"},
    {"DD_ENOMEM", "out of memory"},
    {"DD_EMISUSE", "library misuse"},
    {"DD_ENOTFOUND", "not found"},
    {"DD_ECONFLICT", "conflict"},
    {"DD_ECORRUPT", "corrupt data"},
    {"DD_ECRYPTO", "authentication or decryption failed"},
    {"DD_ELIMIT", "limit exceeded"},
    {"DD_EIO", "input/output error"},
    {"DD_ETIMEOUT", "timed out"},
    {"DD_EDELETED", "deleted"},
    {"DD_ETYPE", "wrong data type"},
    {"DD_EBUSY", "busy"},
    {"DD_EDONE", "no more items"},
    {"DD_EUNSUPPORTED", "unsupported"},
    {"DD_ECALLBACK", "stopped by a callback"},
};

static const status_info *lookup(int code)
{
    if (code > 0 || -code >= (int)(sizeof(statuses) / sizeof(statuses[0])))
        return NULL;
    return &statuses[-code];
}

DD_API const char *dd_status_name(int code)
{
    const status_info *s = lookup(code);
    return s ? s->name : "DD_E?";
}

DD_API const char *dd_status_str(int code)
{
    const status_info *s = lookup(code);
    return s ? s->text : "unknown status";
}
