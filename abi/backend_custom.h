/*
 * What abi/backend_check.c uses of abi/backend_custom.c: the adapter that
 * turns a user's dd_backend_ops into a core store_backend.
 */
#ifndef DD_ABI_BACKEND_CUSTOM_H
#define DD_ABI_BACKEND_CUSTOM_H

#include "ddata.h"
#include "store/backend.h"

/* Builds the adapter; close(user) is the adapter's to call only once
 * abi_backend_custom_own says so. */
struct custom_backend;
int abi_backend_custom_new(struct custom_backend **out, const dd_backend_ops *ops, void *user);
void abi_backend_custom_own(store_backend *b);

#endif
