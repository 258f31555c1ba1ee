/*
 * One ABI call on the libuv thread pool, answered by a Promise: the shape
 * of every async store method. The method reads and checks its arguments
 * on the main thread (a bad argument throws at the call), fills a job, and
 * async_job_start queues it; `run` makes the ABI call on a pool thread and
 * records its status with async_job_status, which also copies that
 * thread's dd_error_last() message (errors are per thread, so it must be
 * read there); `result` builds the resolved value on the main thread.
 *
 * The JS values the call borrows from (`this`, Buffers of payloads) are
 * held by a reference until the job completes, so neither the handle
 * object nor the bytes can be collected while a pool thread reads them.
 * Closing the handle meanwhile is safe: the library keeps the object alive
 * until the running call returns, and later calls answer DD_EMISUSE.
 */
#ifndef DDATA_NODE_ASYNC_JOB_H
#define DDATA_NODE_ASYNC_JOB_H

#include "addon.h"

typedef struct async_job async_job;

struct async_job {
    napi_async_work work;
    napi_deferred deferred;
    napi_ref keep;  /* [this, ...arguments] */
    napi_ref error; /* when set, the promise rejects with this value */
    void *h;
    int rc;
    char message[256];
    void (*run)(async_job *job);                        /* pool thread */
    napi_value (*result)(napi_env env, async_job *job); /* main thread, rc == 0 */
    void (*release)(async_job *job);                    /* frees what `data` owns */
    void *data;
};

/* A zeroed job (NULL on ENOMEM, with the error thrown). */
async_job *async_job_new(napi_env env, void *h, size_t data_size);
/* Records the status of the ABI call made by `run` (on the pool thread). */
void async_job_status(async_job *job, int rc);
/* Queues the job, keeping `this` and argv alive; returns the Promise, or
 * NULL with the error thrown (the job is then freed). */
napi_value async_job_start(napi_env env, async_job *job, napi_value self, size_t argc,
                           const napi_value *argv, const char *name);

#endif
