/*
 * Library-wide calls: versions, status names, the last error. Each is one
 * ABI call plus a conversion.
 */
#include "addon.h"

static napi_value str(napi_env env, const char *s)
{
    napi_value out = NULL;
    napi_create_string_utf8(env, s ? s : "", NAPI_AUTO_LENGTH, &out);
    return out;
}

static napi_value version(napi_env env, napi_callback_info info)
{
    (void)info;
    return str(env, dd_version());
}

static napi_value version_number(napi_env env, napi_callback_info info)
{
    (void)info;
    return addon_int(env, dd_version_number());
}

static napi_value abi_version(napi_env env, napi_callback_info info)
{
    (void)info;
    return addon_int(env, dd_abi_version());
}

static napi_value init(napi_env env, napi_callback_info info)
{
    (void)info;
    int rc = dd_init();
    return rc ? addon_fail(env, rc) : addon_undefined(env);
}

static bool code_arg(napi_env env, napi_callback_info info, int32_t *code)
{
    size_t argc = 1;
    napi_value argv[1];
    napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
    if (argc < 1 || napi_get_value_int32(env, argv[0], code) != napi_ok) {
        addon_type_error(env, "status must be an integer");
        return false;
    }
    return true;
}

static napi_value status_name(napi_env env, napi_callback_info info)
{
    int32_t code;
    return code_arg(env, info, &code) ? str(env, dd_status_name(code)) : NULL;
}

static napi_value status_str(napi_env env, napi_callback_info info)
{
    int32_t code;
    return code_arg(env, info, &code) ? str(env, dd_status_str(code)) : NULL;
}

/* errorLast() -> [status, message] of the last failure on this thread. */
static napi_value error_last(napi_env env, napi_callback_info info)
{
    (void)info;
    const dd_error *e = dd_error_last();
    napi_value arr = NULL;
    napi_create_array_with_length(env, 2, &arr);
    napi_set_element(env, arr, 0, addon_int(env, e->code));
    napi_set_element(env, arr, 1, str(env, e->message));
    return arr;
}

static napi_value error_clear(napi_env env, napi_callback_info info)
{
    (void)info;
    dd_error_clear();
    return addon_undefined(env);
}

bool addon_init_core(napi_env env, napi_value exports)
{
    static const addon_fn fns[] = {
        {"version", version},        {"versionNumber", version_number},
        {"abiVersion", abi_version}, {"init", init},
        {"statusName", status_name}, {"statusStr", status_str},
        {"errorLast", error_last},   {"errorClear", error_clear},
    };
    return addon_export(env, exports, fns, ADDON_COUNT(fns));
}
