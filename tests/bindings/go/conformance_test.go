package ddgo

// The shared conformance vectors (tests/conformance/crdt and .../store,
// formats in SCHEMA.md and store/README.md), played through this binding
// exactly as the C, Python, Node and Rust runners play them. Cases listed
// in known_failures_go.txt may fail; a listed case that passes fails the
// run, so the list only shrinks. Each area prints its counts.

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

const vectorDir = "../../conformance"

type obj = map[string]any

func loadJSON(t *testing.T, path string) obj {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var doc obj
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return doc
}

func knownFailures(t *testing.T) map[string]bool {
	known := map[string]bool{}
	data, err := os.ReadFile(filepath.Join(vectorDir, "known_failures_go.txt"))
	if err != nil {
		return known
	}
	for _, line := range strings.Split(string(data), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			known[line] = true
		}
	}
	return known
}

// byteString is SCHEMA.md's byte string: a JSON string or {"$bytes": b64}.
func byteString(v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string:
		return []byte(x), nil
	case obj:
		if s, ok := x["$bytes"].(string); ok {
			return base64.StdEncoding.DecodeString(s)
		}
	}
	return nil, fmt.Errorf("not a byte string: %v", v)
}

func num(v any) uint64 {
	if n, ok := v.(json.Number); ok {
		if u, err := n.Int64(); err == nil {
			return uint64(u)
		}
		f, _ := n.Float64()
		return uint64(f)
	}
	return 0
}

func statusOfName(name string) int {
	for c := 0; c >= -64; c-- {
		if StatusName(c) == name {
			return c
		}
	}
	return 1
}

func expectStatus(step obj) int {
	if s, ok := step["expect_status"].(string); ok {
		return statusOfName(s)
	}
	return OK
}

var opKinds = []string{"", "increment", "decrement", "add", "remove", "clear", "assign", "enable", "update"}

func buildOp(j obj) (*Op, error) {
	o := &Op{}
	for k, name := range opKinds {
		if k > 0 && j["kind"] == name {
			o.Kind = uint32(k)
		}
	}
	if o.Kind == 0 {
		return nil, fmt.Errorf("op without a known kind: %v", j["kind"])
	}
	o.Amount = num(j["amount"])
	var err error
	if o.Key, err = byteString(j["key"]); err != nil {
		return nil, err
	}
	if o.Value, err = byteString(j["value"]); err != nil {
		return nil, err
	}
	if vt, ok := j["value_type"].(string); ok {
		if o.ValueType = TypeByName(vt); o.ValueType == 0 {
			return nil, fmt.Errorf("unknown value_type %s", vt)
		}
	}
	if n, ok := j["nested"].(obj); ok {
		if o.Nested, err = buildOp(n); err != nil {
			return nil, err
		}
	}
	return o, nil
}

func parseJSON(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	return v, dec.Decode(&v)
}

// Every state a vector reaches must survive both codecs unchanged.
func roundTrip(v *Value) error {
	bin, err := v.Encode()
	if err != nil {
		return err
	}
	a, err := Decode(bin, nil, 1<<62)
	if err != nil {
		return fmt.Errorf("binary round trip: %w", err)
	}
	defer a.Close()
	if eq, err := a.Equal(v); err != nil || !eq {
		return fmt.Errorf("binary round trip changed the value (%v)", err)
	}
	js, err := v.ToJSON()
	if err != nil {
		return err
	}
	b, err := FromJSON(js)
	if err != nil {
		return fmt.Errorf("json round trip: %w", err)
	}
	defer b.Close()
	if eq, err := b.Equal(v); err != nil || !eq {
		return fmt.Errorf("json round trip changed the value (%v)", err)
	}
	return nil
}

func runDecodeCase(c obj) error {
	d := c["decode"].(obj)
	data, err := hex.DecodeString(d["hex"].(string))
	if err != nil {
		return err
	}
	var lim map[string]uint64
	if l, ok := d["limits"].(obj); ok {
		lim = map[string]uint64{}
		for k, v := range l {
			lim[k] = num(v)
		}
	}
	v, err := Decode(data, lim, num(d["now"]))
	v.Close()
	if want := expectStatus(c); Code(err) != want {
		return fmt.Errorf("decode returned %s, expected %s (%v)", StatusName(Code(err)), StatusName(want), err)
	}
	return nil
}

func runCRDTCase(c obj) error {
	if _, ok := c["decode"]; ok {
		return runDecodeCase(c)
	}
	typ := TypeByName(fmt.Sprint(c["type"]))
	n := int(num(c["replicas"]))
	if typ == 0 || n < 1 || n > 8 {
		return fmt.Errorf("case needs type and replicas (1..8)")
	}
	reps := make([]*Value, n)
	defer func() {
		for _, r := range reps {
			r.Close()
		}
	}()
	for i := range reps {
		var err error
		if reps[i], err = NewValue(typ); err != nil {
			return err
		}
	}
	replica := func(v any) (*Value, error) {
		i := int(num(v))
		if _, ok := v.(json.Number); !ok || i < 0 || i >= n {
			return nil, fmt.Errorf("bad replica %v", v)
		}
		return reps[i], nil
	}
	for index, s := range c["steps"].([]any) {
		step := s.(obj)
		pos := index + 1
		switch {
		case step["op"] != nil:
			r, err := replica(step["replica"])
			if err != nil {
				return err
			}
			op, err := buildOp(step["op"].(obj))
			if err != nil {
				return err
			}
			actor := num(step["replica"]) + 1
			if a, ok := step["actor"]; ok {
				actor = num(a)
			}
			now := uint64(1000 + pos)
			if t, ok := step["now"]; ok {
				now = num(t)
			}
			delta, err := r.Apply(op, actor, now)
			if want := expectStatus(step); Code(err) != want {
				delta.Close()
				return fmt.Errorf("step %d: apply returned %s, expected %s (%v)", pos, StatusName(Code(err)), StatusName(want), err)
			}
			targets, _ := step["delta_to"].([]any)
			for _, t := range targets {
				into, err := replica(t)
				if err == nil && delta != nil {
					err = into.Merge(delta)
				} else if err == nil {
					err = fmt.Errorf("no delta")
				}
				if err != nil {
					delta.Close()
					return fmt.Errorf("step %d: delta merge: %v", pos, err)
				}
			}
			delta.Close()
		case step["merge"] != nil:
			m := step["merge"].(obj)
			from, err1 := replica(m["from"])
			into, err2 := replica(m["into"])
			if err1 != nil || err2 != nil {
				return fmt.Errorf("step %d: bad merge", pos)
			}
			if err := into.Merge(from); err != nil {
				return fmt.Errorf("step %d: merge: %v", pos, err)
			}
		case step["expect"] != nil:
			e := step["expect"].(obj)
			r, err := replica(e["replica"])
			if err != nil {
				return err
			}
			if want, ok := e["value"]; ok {
				js, err := r.ValueJSON()
				if err != nil {
					return err
				}
				got, err := parseJSON(js)
				if err != nil || !reflect.DeepEqual(got, want) {
					return fmt.Errorf("step %d: replica is %s, expected %v", pos, js, want)
				}
			}
			if eq, ok := e["equal_to"]; ok {
				other, err := replica(eq)
				if err != nil {
					return err
				}
				if same, err := r.Equal(other); err != nil || !same {
					return fmt.Errorf("step %d: replicas differ", pos)
				}
			}
			if err := roundTrip(r); err != nil {
				return fmt.Errorf("step %d: %v", pos, err)
			}
		default:
			return fmt.Errorf("step %d: neither op, merge nor expect", pos)
		}
	}
	return nil
}

func rowsMatch(rows []Row, want any, fields int) error {
	list, _ := want.([]any)
	if len(rows) != len(list) {
		return fmt.Errorf("%d items, expected %d", len(rows), len(list))
	}
	for i, w := range list {
		var key any = w
		var row []any
		if fields > 1 {
			row = w.([]any)
			key = row[0]
		}
		k, err := byteString(key)
		if err != nil {
			return err
		}
		if !bytes.Equal(k, rows[i].Key) {
			return fmt.Errorf("item %d: key %q", i, rows[i].Key)
		}
		if fields > 1 && num(row[1]) != rows[i].Revision {
			return fmt.Errorf("item %d: revision %d", i, rows[i].Revision)
		}
		if fields > 2 {
			v, err := byteString(row[2])
			if err != nil {
				return err
			}
			if !bytes.Equal(v, rows[i].Value) {
				return fmt.Errorf("item %d: value %q", i, rows[i].Value)
			}
		}
	}
	return nil
}

func revisionOf(v any) uint64 {
	if v == "any" {
		return AnyRevision()
	}
	return num(v)
}

// expectsNone settles a step whose `expect` is null (no record): a
// not-found error passes, a record fails (found says so). settled is false
// when a record is still to be checked.
func expectsNone(expect any, hasExpect bool, err error, found string) (settled bool, check error) {
	if expect != nil || !hasExpect {
		return false, nil
	}
	if Code(err) == ENOTFOUND {
		return true, nil
	}
	if err == nil {
		return true, errors.New(found)
	}
	return false, nil
}

// storeStep runs one store step; the error is the call's (compared with
// expect_status by the caller), check the comparison with `expect`.
func storeStep(s *StateStore, j *Journal, step obj) (callErr error, check error) {
	key, _ := byteString(step["key"])
	expect, hasExpect := step["expect"]
	switch step["op"] {
	case "upsert":
		value, _ := byteString(step["value"])
		rev, err := s.Upsert(key, revisionOf(step["expected"]), value)
		if err == nil && hasExpect && rev != num(expect) {
			return nil, fmt.Errorf("new revision %d", rev)
		}
		return err, nil
	case "get":
		value, rev, err := s.Get(key)
		if settled, check := expectsNone(expect, hasExpect, err, "found a record, expected none"); settled {
			return nil, check
		}
		if err == nil && hasExpect {
			e := expect.(obj)
			want, _ := byteString(e["value"])
			if !bytes.Equal(want, value) || rev != num(e["revision"]) {
				return nil, fmt.Errorf("revision %d, value %q", rev, value)
			}
		}
		return err, nil
	case "delete":
		return s.Delete(key, revisionOf(step["expected"])), nil
	case "keys":
		prefix, _ := byteString(step["prefix"])
		rows, err := s.Keys(prefix)
		if err == nil {
			return nil, rowsMatch(rows, expect, 2)
		}
		return err, nil
	case "range":
		from, _ := byteString(step["from"])
		rows, err := s.Range(from, int64(num(step["count"])))
		if err == nil {
			return nil, rowsMatch(rows, expect, 3)
		}
		return err, nil
	case "pids":
		after, _ := byteString(step["after"])
		max := ^uint64(0)
		if m, ok := step["max"]; ok {
			max = num(m)
		}
		rows, err := j.Pids(after, max)
		if err == nil {
			return nil, rowsMatch(rows, expect, 1)
		}
		return err, nil
	case "last":
		row, err := s.Last()
		if settled, check := expectsNone(expect, hasExpect, err, "found a last record, expected none"); settled {
			return nil, check
		}
		if err == nil && hasExpect {
			return nil, rowsMatch([]Row{row}, []any{expect}, 3)
		}
		return err, nil
	case "purge":
		return s.Purge(), nil
	case "append":
		pid, _ := byteString(step["pid"])
		var payloads [][]byte
		evs, _ := step["events"].([]any)
		for _, e := range evs {
			p, err := byteString(e)
			if err != nil {
				return nil, err
			}
			payloads = append(payloads, p)
		}
		return j.Append(pid, num(step["expected_seq"]), payloads), nil
	}
	return nil, fmt.Errorf("unknown op %v", step["op"])
}

func runStoreCase(c obj) error {
	s, err := OpenMemoryStateStore()
	if err != nil {
		return err
	}
	defer s.Close()
	j, err := OpenMemoryJournal()
	if err != nil {
		return err
	}
	defer j.Close()
	for i, st := range c["steps"].([]any) {
		step := st.(obj)
		callErr, check := storeStep(s, j, step)
		if check != nil {
			return fmt.Errorf("step %d (%v): %v", i, step["op"], check)
		}
		if want := expectStatus(step); Code(callErr) != want {
			return fmt.Errorf("step %d (%v): status %s (%v), expected %s", i, step["op"], StatusName(Code(callErr)), callErr, StatusName(want))
		}
	}
	return nil
}

// runArea plays every case of every file in dir and prints the area's counts.
func runArea(t *testing.T, area, prefix string, run func(obj) error) {
	known := knownFailures(t)
	files, err := filepath.Glob(filepath.Join(vectorDir, area, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no vectors in %s/%s", vectorDir, area)
	}
	sort.Strings(files)
	passed, failed, xfail := 0, 0, 0
	for _, f := range files {
		cases, ok := loadJSON(t, f)["cases"].([]any)
		if !ok {
			t.Errorf("%s: not a vector file", f)
			failed++
			continue
		}
		for _, c := range cases {
			id := prefix + filepath.Base(f) + ":" + fmt.Sprint(c.(obj)["name"])
			err := run(c.(obj))
			switch {
			case err != nil && known[id]:
				xfail++
			case err != nil:
				t.Errorf("FAIL %s: %v", id, err)
				failed++
			case known[id]:
				t.Errorf("FAIL %s: passes but is listed in known_failures_go.txt", id)
				failed++
			default:
				passed++
			}
		}
	}
	fmt.Printf("go conformance %s: %d passed, %d failed, %d known failures\n", area, passed, failed, xfail)
}

func TestConformanceCRDT(t *testing.T)  { runArea(t, "crdt", "", runCRDTCase) }
func TestConformanceStore(t *testing.T) { runArea(t, "store", "store/", runStoreCase) }
