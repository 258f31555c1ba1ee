/*
 * The foundation of the ABI: versions, status codes, errors, buffers and
 * the options-struct convention.
 */
#include <stdio.h>

#include "ddata.h"
#include "test.h"

static const int all_statuses[] = {
    DD_OK,       DD_EINVAL,  DD_ENOMEM, DD_EMISUSE,      DD_ENOTFOUND, DD_ECONFLICT,
    DD_ECORRUPT, DD_ECRYPTO, DD_ELIMIT, DD_EIO,          DD_ETIMEOUT,  DD_EDELETED,
    DD_ETYPE,    DD_EBUSY,   DD_EDONE,  DD_EUNSUPPORTED,
};
#define STATUS_COUNT (sizeof(all_statuses) / sizeof(all_statuses[0]))

TEST(test_every_status_is_distinct_and_named)
{
    for (size_t i = 0; i < STATUS_COUNT; i++) {
        const char *name = dd_status_name(all_statuses[i]);
        ASSERT_MSG(strncmp(name, "DD_", 3) == 0 && strcmp(name, "DD_E?") != 0,
                   "status %d has no name", all_statuses[i]);
        ASSERT(strcmp(dd_status_str(all_statuses[i]), "unknown status") != 0);
        ASSERT_MSG(i == 0 || all_statuses[i] < 0, "error status %d is not negative",
                   all_statuses[i]);
        for (size_t j = 0; j < i; j++) {
            ASSERT(all_statuses[i] != all_statuses[j]);
            ASSERT(strcmp(name, dd_status_name(all_statuses[j])) != 0);
        }
    }
}

TEST(test_status_names_match_the_enum_spelling)
{
    ASSERT_STR_EQ(dd_status_name(DD_EINVAL), "DD_EINVAL");
    ASSERT_STR_EQ(dd_status_name(DD_EUNSUPPORTED), "DD_EUNSUPPORTED");
    ASSERT_STR_EQ(dd_status_name(1), "DD_E?");
    ASSERT_STR_EQ(dd_status_name(-1000), "DD_E?");
    ASSERT_STR_EQ(dd_status_str(-1000), "unknown status");
}

TEST(test_versions_agree_with_the_header)
{
    char expect[32];
    snprintf(expect, sizeof(expect), "%d.%d.%d", DDATA_VERSION_MAJOR, DDATA_VERSION_MINOR,
             DDATA_VERSION_PATCH);
    ASSERT_STR_EQ(dd_version(), expect);
    ASSERT_EQ_INT(dd_version_number(),
                  DDATA_VERSION_MAJOR * 1000000 + DDATA_VERSION_MINOR * 1000 + DDATA_VERSION_PATCH);
    ASSERT_EQ_INT(dd_version_number(), DDATA_VERSION_NUMBER);
    ASSERT_EQ_INT(dd_abi_version(), DDATA_ABI_VERSION);
}

TEST(test_init_is_idempotent)
{
    ASSERT_OK(dd_init());
    ASSERT_OK(dd_init());
}

TEST(test_error_last_is_never_null_and_reports_failures)
{
    dd_error_clear();
    const dd_error *e = dd_error_last();
    ASSERT(e != NULL && e->message != NULL);
    ASSERT_EQ_INT(e->code, DD_OK);
    ASSERT_STATUS(dd_limits_init(NULL, DD_LIMITS_VERSION), DD_EINVAL);
    e = dd_error_last();
    ASSERT_EQ_INT(e->code, DD_EINVAL);
    ASSERT(strstr(e->message, "opts") != NULL);
}

TEST(test_limits_init_equals_the_init_macro)
{
    dd_limits macro = DD_LIMITS_INIT, fn;
    memset(&fn, 0xab, sizeof(fn));
    ASSERT_OK(dd_limits_init(&fn, DD_LIMITS_VERSION));
    ASSERT_MEM_EQ(&fn, sizeof(fn), &macro, sizeof(macro));
}

TEST(test_unknown_options_version_is_rejected)
{
    dd_limits l;
    ASSERT_STATUS(dd_limits_init(&l, DD_LIMITS_VERSION + 1), DD_EINVAL);
    ASSERT(strstr(dd_error_last()->message, "version") != NULL);
}

TEST(test_buf_free_is_null_safe_and_idempotent)
{
    dd_buf_free(NULL);
    dd_buf b = DD_BUF_INIT;
    dd_buf_free(&b);
    dd_buf_free(&b);
    ASSERT(b.data == NULL && b.len == 0);
}
