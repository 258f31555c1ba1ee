// Package ddgo is a fourth binding of ddata, for Go through cgo, written
// from ABI.md and abi/include/ddata.h alone (no code generated for the
// other bindings). It is a test of the contract, not a shipped binding:
// it wraps what the shared conformance vectors and the error rules need.
//
// Errors. A failing call returns a DD_* status and leaves a message for the
// caller; every wrapper turns that into an *Error in one place, callError,
// so moving from the thread-local dd_error_last() to a per-handle error
// (ABI.md, Errors) changes that one function. While dd_error_last() is the
// source, the status and the message must be read on the OS thread that
// made the call: each wrapper pins its goroutine with runtime.LockOSThread
// for the call and the read, as ABI.md says a runtime with movable tasks
// must.
//
// Memory. cgo forbids C from keeping Go pointers, and dd_op chains point
// at other dd_ops; ops and their bytes are therefore built in C memory
// (cmem) and freed after the call.
package ddgo

/*
#cgo CFLAGS: -I${SRCDIR}/../../../abi/include
#cgo LDFLAGS: -lddata
#include <stdlib.h>
#include "ddata.h"
*/
import "C"

import (
	"fmt"
	"runtime"
	"unsafe"
)

// Status codes the tests name (ddata.h, dd_status).
const (
	OK        = int(C.DD_OK)
	EDONE     = int(C.DD_EDONE)
	ENOTFOUND = int(C.DD_ENOTFOUND)
)

// Error is a failed call: its DD_* status and the library's message.
type Error struct {
	Code    int
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %s", StatusName(e.Code), e.Message) }

// StatusName is dd_status_name: "DD_EINVAL"; never empty.
func StatusName(code int) string { return C.GoString(C.dd_status_name(C.int(code))) }

// callError turns a status into an error, reading the message the failing
// call left. The caller pins its OS thread from before the call until this
// read, so the thread-local slot (dd_error_last) holds exactly this call's
// failure even when other goroutines fail on the same handle meanwhile; the
// record on the handle (dd_handle_error) is the fallback, and the only
// source for a caller that cannot pin (see upsertUnpinned).
func callError(rc C.int, handle unsafe.Pointer) error {
	if rc == C.DD_OK {
		return nil
	}
	if e := C.dd_error_last(); e.code == rc && e.message != nil {
		return &Error{Code: int(rc), Message: C.GoString(e.message)}
	}
	if msg, ok := handleError(rc, handle); ok {
		return &Error{Code: int(rc), Message: msg}
	}
	return &Error{Code: int(rc), Message: "(no message)"}
}

// handleError reads the failure recorded on handle when it is this call's
// (same code); false for a nil handle or another record.
func handleError(rc C.int, handle unsafe.Pointer) (string, bool) {
	if handle == nil {
		return "", false
	}
	var he *C.dd_error
	if C.dd_handle_error(&he, handle) != C.DD_OK || he == nil || he.code != rc || he.message == nil {
		return "", false
	}
	return C.GoString(he.message), true
}

// call runs one ABI call pinned to its OS thread and converts its status.
func call(handle unsafe.Pointer, f func() C.int) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	return callError(f(), handle)
}

// Code is the DD_* status of err (OK for nil).
func Code(err error) int {
	if err == nil {
		return OK
	}
	if e, ok := err.(*Error); ok {
		return e.Code
	}
	return -1000
}

// cmem is C memory for one call: freed together with free().
type cmem struct{ ptrs []unsafe.Pointer }

func (m *cmem) bytes(b []byte) (*C.uint8_t, C.size_t) {
	if len(b) == 0 {
		return nil, 0
	}
	p := C.CBytes(b)
	m.ptrs = append(m.ptrs, p)
	return (*C.uint8_t)(p), C.size_t(len(b))
}

func (m *cmem) alloc(n uintptr) unsafe.Pointer {
	p := C.calloc(1, C.size_t(n))
	m.ptrs = append(m.ptrs, p)
	return p
}

func (m *cmem) free() {
	for _, p := range m.ptrs {
		C.free(p)
	}
	m.ptrs = nil
}

func takeBuf(b *C.dd_buf) []byte {
	out := C.GoBytes(unsafe.Pointer(b.data), C.int(b.len))
	C.dd_buf_free(b)
	return out
}

// LastError is the thread-local error slot (dd_error_last) as the calling
// OS thread sees it. Meaningful only while the caller holds
// runtime.LockOSThread across the call it is asking about.
func LastError() (int, string) {
	e := C.dd_error_last()
	return int(e.code), C.GoString(e.message)
}
