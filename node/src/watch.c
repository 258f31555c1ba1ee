/*
 * FdWatcher: calls a JavaScript function on the JS thread whenever a file
 * descriptor (the library's event fd) becomes readable. This is how events
 * reach Node without thread-safe functions or hidden threads: libuv polls
 * the fd on Node's own loop, and the callback drains the library's queue
 * with ordinary calls (dd_system_next_event, ...).
 *
 * Lifetimes: the JS object owns a `watcher` and keeps the callback as its
 * own property, so an emitter that owns the watcher and is named by the
 * callback forms an ordinary JS cycle the GC can collect; only while ref'd
 * (someone listens) does the native side hold the object strongly, as an
 * open socket would. close() or the finalizer stops
 * polling and hands the uv handle to uv_close, whose callback frees it, so
 * either may run first and the environment's cleanup hook may run last.
 * The callback is invoked through napi_make_callback so promise reactions
 * and nextTicks queued by listeners run right after it, as for any I/O.
 *
 * uv.h is Node's own (include/node beside the running node, which
 * scripts/build.js finds), else the system's libuv 1.x header: the calls
 * used here are all in libuv 1.19 and later, and the handle is allocated
 * with uv_handle_size(), so no struct layout is taken from the header.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uv.h>

#include "addon.h"

typedef struct watcher {
    napi_env env;
    uv_poll_t *poll;          /* NULL once closed */
    napi_async_context async; /* for napi_make_callback */
    napi_ref self;            /* the JS object; strong only while ref'd */
    bool strong;
    int fd; /* our dup of the watched fd, closed after the handle */
} watcher;

/* The handle's data carries the watcher's own fd (+1) once closing. */
static void poll_closed(uv_handle_t *h)
{
    int fd = (int)(intptr_t)uv_handle_get_data(h) - 1;
    if (fd >= 0)
        close(fd);
    free(h);
}

static void poll_release(watcher *w)
{
    if (!w->poll)
        return;
    uv_poll_stop(w->poll);
    uv_handle_set_data((uv_handle_t *)w->poll, (void *)(intptr_t)(w->fd + 1));
    uv_close((uv_handle_t *)w->poll, poll_closed);
    w->poll = NULL;
}

/* The environment is going away (worker exit, process exit): Node calls
 * this before finalizers, which then find nothing left to close. */
static void env_cleanup(void *arg)
{
    poll_release(arg);
}

static void watcher_stop(watcher *w)
{
    if (!w->poll)
        return;
    poll_release(w);
    napi_remove_env_cleanup_hook(w->env, env_cleanup, w);
}

static void on_readable(uv_poll_t *h, int status, int events)
{
    (void)events;
    watcher *w = uv_handle_get_data((uv_handle_t *)h);
    if (!w)
        return;
    napi_env env = w->env;
    napi_handle_scope scope;
    if (napi_open_handle_scope(env, &scope) != napi_ok)
        return;
    napi_value self = NULL, cb, arg, result;
    napi_valuetype t = napi_undefined;
    if (napi_get_reference_value(env, w->self, &self) == napi_ok && self &&
        napi_get_named_property(env, self, "_callback", &cb) == napi_ok &&
        napi_typeof(env, cb, &t) == napi_ok && t == napi_function &&
        napi_create_int32(env, status, &arg) == napi_ok) {
        napi_status st = napi_make_callback(env, w->async, self, cb, 1, &arg, &result);
        if (st == napi_pending_exception) {
            napi_value err;
            napi_get_and_clear_last_exception(env, &err);
            napi_fatal_exception(env, err);
        }
    }
    napi_close_handle_scope(env, scope);
}

static void watcher_finalize(napi_env env, void *data, void *hint)
{
    (void)hint;
    watcher *w = data;
    watcher_stop(w);
    if (w->self)
        napi_delete_reference(env, w->self);
    if (w->async)
        napi_async_destroy(env, w->async);
    free(w);
}

static watcher *this_watcher(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv)
{
    napi_value self;
    watcher *w = NULL;
    napi_get_cb_info(env, info, argc, argv, &self, NULL);
    if (napi_unwrap(env, self, (void **)&w) != napi_ok || !w) {
        addon_type_error(env, "not an FdWatcher");
        return NULL;
    }
    return w;
}

/* new FdWatcher(fd, callback) */
static napi_value watcher_new(napi_env env, napi_callback_info info)
{
    size_t argc = 2;
    napi_value argv[2], self, name;
    int32_t fd;
    napi_valuetype t = napi_undefined;
    napi_get_cb_info(env, info, &argc, argv, &self, NULL);
    if (argc < 2 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0)
        return addon_type_error(env, "fd must be a non-negative integer");
    if (napi_typeof(env, argv[1], &t) != napi_ok || t != napi_function)
        return addon_type_error(env, "callback must be a function");

    watcher *w = calloc(1, sizeof *w);
    uv_loop_t *loop = NULL;
    if (!w)
        return addon_fail(env, DD_ENOMEM);
    w->env = env;
    w->poll = malloc(uv_handle_size(UV_POLL));
    if (!w->poll || napi_get_uv_event_loop(env, &loop) != napi_ok) {
        free(w->poll);
        free(w);
        return addon_fail(env, DD_ENOMEM);
    }
    /* Poll a duplicate: the library may close its fd (its system finalized
     * first) while this handle is still registered, and a reused fd number
     * must never be polled in its place. The duplicate keeps the same
     * eventfd alive and readable exactly as the original. */
    w->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    int rc = w->fd < 0 ? -errno : uv_poll_init(loop, w->poll, w->fd);
    if (rc != 0) {
        char msg[128];
        snprintf(msg, sizeof msg, "cannot watch fd %d: %s", (int)fd,
                 w->fd < 0 ? strerror(-rc) : uv_strerror(rc));
        if (w->fd >= 0)
            close(w->fd);
        free(w->poll);
        free(w);
        return addon_type_error(env, msg);
    }
    uv_handle_set_data((uv_handle_t *)w->poll, w);
    napi_set_named_property(env, self, "_callback", argv[1]);
    napi_create_string_utf8(env, "ddata:events", NAPI_AUTO_LENGTH, &name);
    napi_async_init(env, self, name, &w->async);
    napi_add_env_cleanup_hook(env, env_cleanup, w);
    if (napi_wrap(env, self, w, watcher_finalize, NULL, &w->self) != napi_ok) {
        watcher_finalize(env, w, NULL);
        return addon_fail(env, DD_ENOMEM);
    }
    rc = uv_poll_start(w->poll, UV_READABLE, on_readable);
    if (rc != 0) {
        watcher_stop(w);
        return addon_type_error(env, uv_strerror(rc));
    }
    /* Until ref(true), a watcher neither keeps the process alive nor its
     * JS object reachable. */
    uv_unref((uv_handle_t *)w->poll);
    return self;
}

static napi_value watcher_close(napi_env env, napi_callback_info info)
{
    size_t argc = 0;
    watcher *w = this_watcher(env, info, &argc, NULL);
    if (!w)
        return NULL;
    if (w->strong) {
        uint32_t count;
        napi_reference_unref(env, w->self, &count);
        w->strong = false;
    }
    watcher_stop(w);
    return addon_undefined(env);
}

/* ref(bool): whether a pending watcher keeps the process alive. */
static napi_value watcher_ref(napi_env env, napi_callback_info info)
{
    size_t argc = 1;
    napi_value argv[1];
    bool on = true;
    watcher *w = this_watcher(env, info, &argc, argv);
    if (!w)
        return NULL;
    if (argc > 0)
        napi_get_value_bool(env, argv[0], &on);
    if (w->poll && on != w->strong) {
        uint32_t count;
        if (on) {
            uv_ref((uv_handle_t *)w->poll);
            napi_reference_ref(env, w->self, &count);
        } else {
            uv_unref((uv_handle_t *)w->poll);
            napi_reference_unref(env, w->self, &count);
        }
        w->strong = on;
    }
    return addon_undefined(env);
}

bool addon_init_watch(napi_env env, napi_value exports)
{
    napi_property_descriptor methods[] = {
        {"close", NULL, watcher_close, NULL, NULL, NULL, napi_default, NULL},
        {"ref", NULL, watcher_ref, NULL, NULL, NULL, napi_default, NULL},
    };
    napi_value cls;
    return napi_define_class(env, "FdWatcher", NAPI_AUTO_LENGTH, watcher_new, NULL, 2, methods,
                             &cls) == napi_ok &&
           napi_set_named_property(env, exports, "FdWatcher", cls) == napi_ok;
}
