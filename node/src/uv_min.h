/*
 * The few libuv calls the addon needs, declared here instead of including
 * uv.h: node-api-headers does not ship uv.h, and requiring Node's own
 * headers would bring back the download this package avoids. libuv 1.x
 * keeps these signatures and the handle-type numbering stable, and every
 * Node exports its libuv; handles are allocated with uv_handle_size(), so
 * no struct layout is assumed.
 */
#ifndef DDATA_NODE_UV_MIN_H
#define DDATA_NODE_UV_MIN_H

#include <stddef.h>

struct uv_loop_s;
typedef struct uv_loop_s uv_loop_t;
typedef struct uv_handle_s uv_handle_t;
typedef struct uv_poll_s uv_poll_t;

typedef void (*uv_poll_cb)(uv_poll_t *handle, int status, int events);
typedef void (*uv_close_cb)(uv_handle_t *handle);

enum { DD_UV_POLL = 8 };     /* uv_handle_type UV_POLL */
enum { DD_UV_READABLE = 1 }; /* uv_poll_event UV_READABLE */

size_t uv_handle_size(int type);
int uv_poll_init(uv_loop_t *loop, uv_poll_t *handle, int fd);
int uv_poll_start(uv_poll_t *handle, int events, uv_poll_cb cb);
int uv_poll_stop(uv_poll_t *handle);
void uv_close(uv_handle_t *handle, uv_close_cb close_cb);
void uv_ref(uv_handle_t *handle);
void uv_unref(uv_handle_t *handle);
void *uv_handle_get_data(const uv_handle_t *handle);
void uv_handle_set_data(uv_handle_t *handle, void *data);
const char *uv_strerror(int err);

#endif
