/* A store call on the libuv pool, answered by a Promise; see async_job.h. */
#include "async_job.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

async_job *async_job_new(napi_env env, void *h, size_t data_size)
{
    async_job *job = calloc(1, sizeof *job);
    void *data = data_size ? calloc(1, data_size) : NULL;
    if (!job || (data_size && !data)) {
        free(job);
        free(data);
        addon_fail(env, DD_ENOMEM);
        return NULL;
    }
    job->h = h;
    job->data = data;
    return job;
}

void async_job_status(async_job *job, int rc)
{
    job->rc = rc;
    if (rc) {
        const dd_error *e = dd_error_last();
        const char *msg = (e && e->code == rc && e->message) ? e->message : dd_status_str(rc);
        snprintf(job->message, sizeof job->message, "%s", msg);
    }
}

static void job_free(napi_env env, async_job *job)
{
    if (job->release)
        job->release(job);
    if (job->keep)
        napi_delete_reference(env, job->keep);
    if (job->error)
        napi_delete_reference(env, job->error);
    if (job->work)
        napi_delete_async_work(env, job->work);
    free(job->data);
    free(job);
}

static void job_execute(napi_env env, void *p)
{
    (void)env;
    async_job *job = p;
    job->run(job);
}

/* The pending exception, taken off the environment to reject with. */
static napi_value take_exception(napi_env env)
{
    napi_value err = NULL;
    if (napi_get_and_clear_last_exception(env, &err) != napi_ok || !err)
        napi_create_string_utf8(env, "ddata: unknown failure", NAPI_AUTO_LENGTH, &err);
    return err;
}

static void job_complete(napi_env env, napi_status status, void *p)
{
    async_job *job = p;
    napi_value value = NULL;
    if (status == napi_cancelled)
        async_job_status(job, DD_EMISUSE);
    napi_value thrown = NULL;
    if (job->error && napi_get_reference_value(env, job->error, &thrown) == napi_ok && thrown) {
        napi_reject_deferred(env, job->deferred, thrown);
    } else if (job->rc) {
        addon_throw(env, job->rc, job->message);
        napi_reject_deferred(env, job->deferred, take_exception(env));
    } else {
        value = job->result ? job->result(env, job) : addon_undefined(env);
        bool pending = false;
        napi_is_exception_pending(env, &pending);
        if (pending || !value)
            napi_reject_deferred(env, job->deferred, take_exception(env));
        else
            napi_resolve_deferred(env, job->deferred, value);
    }
    job_free(env, job);
}

napi_value async_job_start(napi_env env, async_job *job, napi_value self, size_t argc,
                           const napi_value *argv, const char *name)
{
    napi_value keep, promise = NULL, resource_name;
    if (napi_create_array_with_length(env, argc + 1, &keep) != napi_ok ||
        napi_set_element(env, keep, 0, self) != napi_ok)
        goto fail;
    for (size_t i = 0; i < argc; i++)
        if (napi_set_element(env, keep, (uint32_t)(i + 1), argv[i]) != napi_ok)
            goto fail;
    if (napi_create_reference(env, keep, 1, &job->keep) != napi_ok ||
        napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &resource_name) != napi_ok ||
        napi_create_async_work(env, NULL, resource_name, job_execute, job_complete, job,
                               &job->work) != napi_ok ||
        napi_create_promise(env, &job->deferred, &promise) != napi_ok)
        goto fail;
    if (napi_queue_async_work(env, job->work) != napi_ok) {
        /* the deferred exists: settle it so the promise is not left hanging */
        addon_throw(env, DD_ENOMEM, "cannot queue work on the libuv pool");
        napi_reject_deferred(env, job->deferred, take_exception(env));
        job_free(env, job);
        return promise;
    }
    return promise;
fail:
    job_free(env, job);
    addon_throw(env, DD_ENOMEM, "cannot start an async store call");
    return NULL;
}
