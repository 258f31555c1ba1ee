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

// Value is one standalone CRDT value (dd_crdt). Use it from one goroutine
// at a time (ABI.md, Threads); Close frees it.
type Value struct{ p *C.dd_crdt }

// Op is a dd_op: Kind is a DD_OP_* kind, Nested an op on a map entry.
type Op struct {
	Kind      uint32
	Amount    uint64
	Key       []byte
	Value     []byte
	ValueType uint32
	Nested    *Op
}

// TypeByName is the dd_crdt_type whose dd_crdt_type_name is name, or 0.
func TypeByName(name string) uint32 {
	for t := uint32(1); t < 64; t++ {
		if n := C.dd_crdt_type_name(C.uint32_t(t)); n != nil && C.GoString(n) == name {
			return t
		}
	}
	return 0
}

// NewValue is dd_crdt_new.
func NewValue(typ uint32) (*Value, error) {
	v := &Value{}
	err := call(nil, func() C.int { return C.dd_crdt_new(&v.p, C.uint32_t(typ)) })
	if err != nil {
		return nil, err
	}
	return v, nil
}

// Close is dd_crdt_free; closing twice is harmless.
func (v *Value) Close() {
	if v != nil && v.p != nil {
		C.dd_crdt_free(v.p)
		v.p = nil
	}
}

func (m *cmem) op(o *Op) *C.dd_op {
	c := (*C.dd_op)(m.alloc(unsafe.Sizeof(C.dd_op{})))
	C.dd_op_init(c, C.DD_OP_VERSION)
	c.kind = C.uint32_t(o.Kind)
	c.amount = C.uint64_t(o.Amount)
	c.key, c.key_len = m.bytes(o.Key)
	c.value, c.value_len = m.bytes(o.Value)
	c.value_type = C.uint32_t(o.ValueType)
	if o.Nested != nil {
		c.nested = m.op(o.Nested)
	}
	return c
}

// Apply is dd_crdt_apply; the delta it returns is the caller's to Close.
func (v *Value) Apply(o *Op, actor, nowMs uint64) (*Value, error) {
	var m cmem
	defer m.free()
	c := m.op(o)
	d := &Value{}
	err := call(unsafe.Pointer(v.p), func() C.int {
		return C.dd_crdt_apply(v.p, c, C.uint64_t(actor), C.uint64_t(nowMs), &d.p)
	})
	if err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// Merge is dd_crdt_merge(v, src).
func (v *Value) Merge(src *Value) error {
	return call(unsafe.Pointer(v.p), func() C.int { return C.dd_crdt_merge(v.p, src.p) })
}

// Equal is dd_crdt_equal (same full state).
func (v *Value) Equal(o *Value) (bool, error) {
	var rc C.int
	err := call(unsafe.Pointer(v.p), func() C.int {
		rc = C.dd_crdt_equal(v.p, o.p)
		if rc == 0 || rc == 1 {
			return C.DD_OK
		}
		return rc
	})
	return rc == 1, err
}

func (v *Value) buf(f func(*C.dd_buf) C.int) ([]byte, error) {
	var b C.dd_buf
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := callError(f(&b), unsafe.Pointer(v.p)); err != nil {
		return nil, err
	}
	return takeBuf(&b), nil
}

// ValueJSON is dd_crdt_value_json: the value as plain JSON (docs/json.md).
func (v *Value) ValueJSON() ([]byte, error) {
	return v.buf(func(b *C.dd_buf) C.int { return C.dd_crdt_value_json(b, v.p) })
}

// Encode is dd_crdt_encode, the canonical binary form.
func (v *Value) Encode() ([]byte, error) {
	return v.buf(func(b *C.dd_buf) C.int { return C.dd_crdt_encode(b, v.p) })
}

// ToJSON is dd_crdt_to_json, the full state as JSON.
func (v *Value) ToJSON() ([]byte, error) {
	return v.buf(func(b *C.dd_buf) C.int { return C.dd_crdt_to_json(b, v.p) })
}

// Decode is dd_crdt_decode with DD_LIMITS_INIT overridden by the fields
// named in lim ("max_bytes", "max_elements", "max_depth",
// "max_value_bytes", "max_clock_skew_ms"); nil means the defaults.
func Decode(data []byte, lim map[string]uint64, nowMs uint64) (*Value, error) {
	var m cmem
	defer m.free()
	var cl *C.dd_limits
	if lim != nil {
		cl = (*C.dd_limits)(m.alloc(unsafe.Sizeof(C.dd_limits{})))
		C.dd_limits_init(cl, C.DD_LIMITS_VERSION)
		for name, n := range lim {
			switch name {
			case "max_bytes":
				cl.max_bytes = C.uint64_t(n)
			case "max_elements":
				cl.max_elements = C.uint64_t(n)
			case "max_value_bytes":
				cl.max_value_bytes = C.uint64_t(n)
			case "max_clock_skew_ms":
				cl.max_clock_skew_ms = C.uint64_t(n)
			case "max_depth":
				cl.max_depth = C.uint32_t(n)
			}
		}
	}
	p, n := m.bytes(data)
	v := &Value{}
	if err := call(nil, func() C.int { return C.dd_crdt_decode(&v.p, p, n, cl, C.uint64_t(nowMs)) }); err != nil {
		return nil, err
	}
	return v, nil
}

// FromJSON is dd_crdt_from_json with the default limits.
func FromJSON(js []byte) (*Value, error) {
	cs := C.CBytes(js)
	defer C.free(cs)
	v := &Value{}
	err := call(nil, func() C.int { return C.dd_crdt_from_json(&v.p, (*C.char)(cs), C.size_t(len(js)), nil) })
	if err != nil {
		return nil, err
	}
	return v, nil
}
