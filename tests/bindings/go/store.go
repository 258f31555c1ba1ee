package ddgo

/*
#include <stdlib.h>
#include "ddata.h"
*/
import "C"

import (
	"runtime"
	"unsafe"
)

// StateStore is a dd_state_store; Journal a dd_journal. Both are shared
// between goroutines safely (ABI.md, Threads). Open with nil path for the
// in-memory backend.
type StateStore struct{ p *C.dd_state_store }
type Journal struct{ p *C.dd_journal }

// Row is one item a cursor yields: a key (or pid), its revision (or
// sequence number) and the state (or payload).
type Row struct {
	Key      []byte
	Revision uint64
	Value    []byte
}

// AnyRevision is DD_ANY_REVISION, through its function twin.
func AnyRevision() uint64 { return uint64(C.dd_any_revision()) }

func memoryOptions(m *cmem) *C.dd_store_options {
	o := (*C.dd_store_options)(m.alloc(unsafe.Sizeof(C.dd_store_options{})))
	C.dd_store_options_init(o, C.DD_STORE_OPTIONS_VERSION)
	return o
}

// openMemory calls open with the options of an empty in-memory store.
func openMemory(open func(o *C.dd_store_options) C.int) error {
	var m cmem
	defer m.free()
	o := memoryOptions(&m)
	return call(nil, func() C.int { return open(o) })
}

// OpenMemoryStateStore opens an empty in-memory state store.
func OpenMemoryStateStore() (*StateStore, error) {
	s := &StateStore{}
	if err := openMemory(func(o *C.dd_store_options) C.int { return C.dd_state_store_open(&s.p, o) }); err != nil {
		return nil, err
	}
	return s, nil
}

// OpenMemoryJournal opens an empty in-memory journal.
func OpenMemoryJournal() (*Journal, error) {
	j := &Journal{}
	if err := openMemory(func(o *C.dd_store_options) C.int { return C.dd_journal_open(&j.p, o) }); err != nil {
		return nil, err
	}
	return j, nil
}

func (s *StateStore) Close() error {
	return call(unsafe.Pointer(s.p), func() C.int { return C.dd_state_store_close(s.p) })
}

func (j *Journal) Close() error {
	return call(unsafe.Pointer(j.p), func() C.int { return C.dd_journal_close(j.p) })
}

// Upsert is dd_state_store_upsert; it returns the new revision.
func (s *StateStore) Upsert(key []byte, expected uint64, state []byte) (uint64, error) {
	var m cmem
	defer m.free()
	kp, kn := m.bytes(key)
	vp, vn := m.bytes(state)
	var rev C.uint64_t
	err := call(unsafe.Pointer(s.p), func() C.int {
		return C.dd_state_store_upsert(&rev, s.p, kp, kn, C.uint64_t(expected), vp, vn)
	})
	return uint64(rev), err
}

// upsertUnpinned is Upsert without pinning the OS thread: its message can
// only come from the store handle (dd_handle_error), the form that does not
// depend on which thread the goroutine ran on.
func (s *StateStore) upsertUnpinned(key []byte, expected uint64, state []byte) error {
	var m cmem
	defer m.free()
	kp, kn := m.bytes(key)
	vp, vn := m.bytes(state)
	var rev C.uint64_t
	rc := C.dd_state_store_upsert(&rev, s.p, kp, kn, C.uint64_t(expected), vp, vn)
	if rc == C.DD_OK {
		return nil
	}
	runtime.Gosched() // let the goroutine move to another OS thread before the read
	msg, ok := handleError(rc, unsafe.Pointer(s.p))
	if !ok {
		msg = "(no message on the handle)"
	}
	return &Error{Code: int(rc), Message: msg}
}

// Get is dd_state_store_get: the state and its revision.
func (s *StateStore) Get(key []byte) ([]byte, uint64, error) {
	var m cmem
	defer m.free()
	kp, kn := m.bytes(key)
	var b C.dd_buf
	var rev C.uint64_t
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := callError(C.dd_state_store_get(&b, &rev, s.p, kp, kn), unsafe.Pointer(s.p)); err != nil {
		return nil, 0, err
	}
	return takeBuf(&b), uint64(rev), nil
}

// Delete is dd_state_store_delete.
func (s *StateStore) Delete(key []byte, expected uint64) error {
	var m cmem
	defer m.free()
	kp, kn := m.bytes(key)
	return call(unsafe.Pointer(s.p), func() C.int { return C.dd_state_store_delete(s.p, kp, kn, C.uint64_t(expected)) })
}

// Last is dd_state_store_last: the record with the greatest key.
func (s *StateStore) Last() (Row, error) {
	var st, k C.dd_buf
	var rev C.uint64_t
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := callError(C.dd_state_store_last(&st, &k, &rev, s.p), unsafe.Pointer(s.p)); err != nil {
		return Row{}, err
	}
	return Row{Key: takeBuf(&k), Revision: uint64(rev), Value: takeBuf(&st)}, nil
}

// Purge is dd_state_store_purge.
func (s *StateStore) Purge() error {
	return call(unsafe.Pointer(s.p), func() C.int { return C.dd_state_store_purge(s.p) })
}

// readAll opens a cursor with open, handing it bound (the prefix, start
// key or pid the call takes) in C memory, reads it to DD_EDONE and closes it.
func readAll(handle unsafe.Pointer, bound []byte, open func(c **C.dd_journal_cursor, p *C.uint8_t, n C.size_t) C.int) ([]Row, error) {
	var m cmem
	defer m.free()
	p, n := m.bytes(bound)
	var c *C.dd_journal_cursor
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := callError(open(&c, p, n), handle); err != nil {
		return nil, err
	}
	defer C.dd_journal_cursor_close(c)
	var rows []Row
	for {
		var ev C.dd_journal_event
		rc := cursorNext(&ev, c)
		if rc == C.DD_EDONE {
			return rows, nil
		}
		if err := callError(rc, unsafe.Pointer(c)); err != nil {
			return nil, err
		}
		rows = append(rows, Row{
			Key:      C.GoBytes(unsafe.Pointer(ev.pid), C.int(ev.pid_len)),
			Revision: uint64(ev.seq),
			Value:    C.GoBytes(unsafe.Pointer(ev.payload), C.int(ev.len)),
		})
	}
}

// cursorNext is dd_journal_cursor_next, out first as every other call;
// the one place to follow the header's argument order.
func cursorNext(ev *C.dd_journal_event, c *C.dd_journal_cursor) C.int {
	return C.dd_journal_cursor_next(ev, c)
}

// Keys is dd_state_store_keys read to the end.
func (s *StateStore) Keys(prefix []byte) ([]Row, error) {
	return readAll(unsafe.Pointer(s.p), prefix, func(c **C.dd_journal_cursor, p *C.uint8_t, n C.size_t) C.int {
		return C.dd_state_store_keys(c, s.p, p, n)
	})
}

// Range is dd_state_store_range read to the end.
func (s *StateStore) Range(from []byte, count int64) ([]Row, error) {
	return readAll(unsafe.Pointer(s.p), from, func(c **C.dd_journal_cursor, p *C.uint8_t, n C.size_t) C.int {
		return C.dd_state_store_range(c, s.p, p, n, C.int64_t(count))
	})
}

// Append is dd_journal_append of payloads, stamped 1000 ms, without tags.
func (j *Journal) Append(pid []byte, expectedSeq uint64, payloads [][]byte) error {
	var m cmem
	defer m.free()
	pp, pn := m.bytes(pid)
	var evs *C.dd_append_event
	if len(payloads) > 0 {
		evs = (*C.dd_append_event)(m.alloc(uintptr(len(payloads)) * unsafe.Sizeof(C.dd_append_event{})))
		arr := unsafe.Slice(evs, len(payloads))
		for i, p := range payloads {
			arr[i].payload, arr[i].len = m.bytes(p)
			arr[i].timestamp_ms = 1000
		}
	}
	return call(unsafe.Pointer(j.p), func() C.int {
		return C.dd_journal_append(j.p, pp, pn, C.uint64_t(expectedSeq), evs, C.size_t(len(payloads)))
	})
}

// Pids is dd_journal_pids read to the end.
func (j *Journal) Pids(after []byte, max uint64) ([]Row, error) {
	return readAll(unsafe.Pointer(j.p), after, func(c **C.dd_journal_cursor, p *C.uint8_t, n C.size_t) C.int {
		return C.dd_journal_pids(c, j.p, p, n, C.uint64_t(max))
	})
}
