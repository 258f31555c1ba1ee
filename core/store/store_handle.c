/*
 * What the journal and the state store do alike as handles over an engine
 * (store.h): the plain sealer an unsealed one puts its records through,
 * and the checks a persistence id or state key passes before it reaches
 * the engine. One place, so both refuse the same things in the same words.
 */
#include "store/store.h"

#include "util/error.h"
#include "util/status.h"

int store_plain_sealer(sealer **out)
{
    seal_options so = seal_options_default();
    so.compression_level = 0;
    return sealer_new(out, NULL, &so);
}

int store_check_call(const void *handle, const char *handle_name, const uint8_t *id, size_t id_len,
                     const char *id_name)
{
    if (!handle)
        return error_set(ST_EMISUSE, "%s is NULL", handle_name);
    if (!id || !id_len)
        return error_set(ST_EINVAL, "%s must not be empty", id_name);
    if (id_len > STORE_MAX_KEY_BYTES)
        return error_set(ST_ELIMIT, "%s is %zu bytes, at most %u", id_name, id_len,
                         STORE_MAX_KEY_BYTES);
    return ST_OK;
}
