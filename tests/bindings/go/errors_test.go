package ddgo

// The error rules of ABI.md ("Errors"), as a Go program meets them: a
// failing call's error carries that call's own code and message; a
// successful call leaves the error of an earlier failure untouched; and
// goroutines, which move between OS threads, each read their own call's
// message (the binding pins the thread for the call and the read).

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
)

func TestFailingCallReportsItsOwnCodeAndMessage(t *testing.T) {
	_, err := NewValue(999)
	e, ok := err.(*Error)
	if !ok || e.Code != statusOfName("DD_EINVAL") || e.Message == "" || e.Message == "(no message)" {
		t.Fatalf("dd_crdt_new(999): %#v", err)
	}
	s, err := OpenMemoryStateStore()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Upsert([]byte("k"), 5, []byte("v")); Code(err) != statusOfName("DD_ECONFLICT") ||
		!strings.Contains(err.Error(), "'k'") {
		t.Fatalf("conflicting upsert: %v", err)
	}
}

func TestSuccessfulCallsLeaveTheErrorUntouched(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	s, err := OpenMemoryStateStore()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// Map order is random: the reads below must find "x" whichever runs first.
	if _, err := s.Upsert([]byte("x"), AnyRevision(), []byte("0")); err != nil {
		t.Fatal(err)
	}
	successes := map[string]func() error{
		"dd_crdt_new": func() error { v, err := NewValue(TypeByName("GCounter")); v.Close(); return err },
		"dd_crdt_apply": func() error {
			v, _ := NewValue(TypeByName("GCounter"))
			defer v.Close()
			d, err := v.Apply(&Op{Kind: 1, Amount: 2}, 1, 1000)
			d.Close()
			return err
		},
		"dd_crdt_encode":        func() error { v, _ := NewValue(TypeByName("ORSet")); defer v.Close(); _, err := v.Encode(); return err },
		"dd_state_store_upsert": func() error { _, err := s.Upsert([]byte("x"), AnyRevision(), []byte("1")); return err },
		"dd_state_store_get":    func() error { _, _, err := s.Get([]byte("x")); return err },
		"dd_state_store_keys":   func() error { _, err := s.Keys(nil); return err },
	}
	for name, ok := range successes {
		_, fail := NewValue(999)
		code, msg := LastError()
		if Code(fail) != code {
			t.Fatalf("the failure's own code %d is not in the slot (%d)", Code(fail), code)
		}
		if err := ok(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if c2, m2 := LastError(); c2 != code || m2 != msg {
			t.Errorf("%s succeeded but replaced the error {%d %q} with {%d %q}", name, code, msg, c2, m2)
		}
	}
	fmt.Printf("go errors: %d successful calls left the error untouched\n", len(successes))
}

// Each goroutine fails with a message naming its own key; with 32 of them
// on a few OS threads, an unpinned read would see another's message.
func TestGoroutinesReadTheirOwnErrors(t *testing.T) {
	s, err := OpenMemoryStateStore()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const goroutines, rounds = 32, 200
	var wg sync.WaitGroup
	var mu sync.Mutex
	wrong := 0
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			key := []byte(fmt.Sprintf("goroutine-%02d", g))
			for r := 0; r < rounds; r++ {
				_, err := s.Upsert(key, 1000+uint64(r), []byte("v"))
				if Code(err) != statusOfName("DD_ECONFLICT") || !strings.Contains(err.Error(), "'"+string(key)+"'") {
					mu.Lock()
					wrong++
					mu.Unlock()
				}
				runtime.Gosched()
			}
		}(g)
	}
	wg.Wait()
	if wrong != 0 {
		t.Fatalf("%d of %d errors named another goroutine's key", wrong, goroutines*rounds)
	}
	fmt.Printf("go errors: %d goroutines x %d failures, every message its own\n", goroutines, rounds)
}

// The per-handle form (dd_handle_error): 32 goroutines, each with a store
// of its own, fail and read the message without pinning their OS thread;
// every message still names the goroutine's own key.
func TestHandleErrorsNeedNoPinnedThread(t *testing.T) {
	const goroutines, rounds = 32, 200
	var wg sync.WaitGroup
	var mu sync.Mutex
	wrong := 0
	for g := 0; g < goroutines; g++ {
		s, err := OpenMemoryStateStore()
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		wg.Add(1)
		go func(g int, s *StateStore) {
			defer wg.Done()
			key := []byte(fmt.Sprintf("handle-%02d", g))
			for r := 0; r < rounds; r++ {
				err := s.upsertUnpinned(key, 1000+uint64(r), []byte("v"))
				if Code(err) != statusOfName("DD_ECONFLICT") || !strings.Contains(err.Error(), "'"+string(key)+"'") {
					mu.Lock()
					wrong++
					mu.Unlock()
				}
			}
		}(g, s)
	}
	wg.Wait()
	if wrong != 0 {
		t.Fatalf("%d of %d handle errors were not the goroutine's own", wrong, goroutines*rounds)
	}
	fmt.Printf("go errors: %d goroutines x %d failures read from their handles, unpinned\n", goroutines, rounds)
}
