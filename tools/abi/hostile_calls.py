#!/usr/bin/env python3
"""Writes a C test that calls every function of the public header with
hostile arguments, so a new function is covered the day it is declared.

    hostile_calls.py HEADER OUT.c

Two rounds per function:
  1. every pointer NULL, every number 0;
  2. (functions taking a handle) every handle forged — a value that was
     never handed out — and every other pointer aimed at zeroed scratch
     memory, so the call gets past its NULL checks to the handle lookup.

  3. (functions taking a handle) every handle a live one of its kind, made
     fresh for the call; other pointers aimed at zeroed scratch (buffers
     and views at locals released afterwards), numbers 0. Some of these
     calls succeed, most fail on the zeroed arguments.

The contract (ABI.md sections 2, 3 and 5): no crash, no sanitizer report;
an int-returning function that fails sets dd_error_last() to the same code
with a message; in round 2 it fails (a forged handle is never accepted).
Round 1 may succeed only for the NULL-safe release functions and for
functions that take no pointer (all-zero numbers may be valid input).
Non-negative results are values (flags, counts), not errors.

The error rules, checked for every call of every round: before the call
the thread's error holds a sentinel (a failure of its own); a call that
succeeds (or ends with DD_EDONE) leaves it untouched, message included; a
call that fails replaces it with its own code. In round 3 the same holds
for the record of the call's first handle (dd_handle_error): a failure is
recorded there with the call's code, a success leaves it as it was.
"""
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "bindings" / "gen"))
import header  # noqa: E402

# A value no handle table will ever hand out: generation 0x7ffe, index far
# beyond anything allocated in a test.
FORGED = "((void *)(uintptr_t)0x7ffe00fffff1ull)"
NULL_SAFE_SUFFIXES = ("_free", "_close", "_clear")


# How round 3 makes (and releases) a live handle of each kind.
MAKE = {
    "dd_crdt": ("dd_crdt_new((dd_crdt **)&live[%d], DD_ORSET)", "dd_crdt_free"),
    "dd_keyring": ("make_keyring((dd_keyring **)&live[%d])", "dd_keyring_free"),
    "dd_journal": ("dd_journal_open((dd_journal **)&live[%d], &store_opts)", "dd_journal_close"),
    "dd_state_store": ("dd_state_store_open((dd_state_store **)&live[%d], &store_opts)",
                       "dd_state_store_close"),
    "dd_system": ("make_system((dd_system **)&live[%d], 0)", "dd_system_close"),
    "dd_replica": ("make_replica((dd_replica **)&live[%d])", "dd_replica_close"),
    "dd_owned": ("dd_owned_open((dd_owned **)&live[%d], &owned_opts)", "dd_owned_close"),
    "dd_journal_cursor": ("make_cursor((dd_journal_cursor **)&live[%d])", "dd_journal_cursor_close"),
}
# Outputs round 3 points at locals so that what a successful call hands
# out is released (LSan runs this test in the ASan build).
LOCAL_OUT = {"dd_buf": "dd_buf_free", "dd_owned_view": "dd_owned_view_free",
             "dd_event": "dd_event_clear"}


def live_call(fn, handles, lines):
    """Round 3 for one function: returns the C lines."""
    args, made, outs = [], [], []
    one = set()  # indexes of lengths that go with a one-byte "k"
    for i, p in enumerate(fn.params):
        t = p.type
        nxt = fn.params[i + 1].type if i + 1 < len(fn.params) else None
        if i in one:
            args.append("1")
        elif t.pointers and t.const and t.base in ("uint8_t", "char") and len(t.pointers) == 1:
            # Byte strings and names get a real one, "k", so that calls can
            # succeed and reach the paths that recover from inner failures.
            args.append('(const %s *)"k"' % t.base)
            if nxt is not None and nxt.base == "size_t" and not nxt.pointers:
                one.add(i + 1)
        elif hdr_callbacks.get(t.base):
            args.append("cb_" + t.base)
        elif t.pointers and t.base in handles and len(t.pointers) == 1:
            made.append((len(made), t.base))
            args.append("(%s *)live[%d]" % (t.base, len(made) - 1))
        elif t.pointers and t.base in handles and len(t.pointers) == 2:
            outs.append(("handle", i, t.base))
            args.append("(%s **)&out_handle[%d]" % (t.base, i))
        elif t.pointers and len(t.pointers) == 1 and t.base in LOCAL_OUT and not t.const:
            outs.append(("local", i, t.base))
            args.append("&out_%s[%d]" % (t.base, i))
        elif t.pointers:
            args.append("(void *)scratch")
        elif t.base in ("double",):
            args.append("0.0")
        else:
            args.append("0")
    body = ["    {"]
    body.append("        void *live[8] = {0}, *out_handle[16] = {0};")
    body.append("        dd_buf out_dd_buf[16] = {0};")
    body.append("        dd_owned_view out_dd_owned_view[16] = {0};")
    body.append("        dd_event out_dd_event[16] = {0};")
    body.append("        (void)out_handle, (void)out_dd_buf, (void)out_dd_owned_view, (void)out_dd_event;")
    body.append("        memset(scratch, 0, sizeof(scratch));")
    for idx, kind in made:
        body.append("        if (%s != DD_OK) { printf(\"FAIL %s round 3: cannot make a %s\\n\"); failures++; }"
                    % (MAKE[kind][0] % idx, fn.name, kind))
    body.append("        set_sentinel();")
    first = "live[0]" if made else "NULL"
    returns_int = fn.ret.base == "int" and not fn.ret.pointers
    call_text = "%s(%s)" % (fn.name, ", ".join(args))
    if returns_int:
        body.append("        int rc = %s;" % call_text)
        body.append('        expect_rules("%s", 3, rc, %s, %d);' % (fn.name, first,
                                                                 1 if fn.name.endswith(NULL_SAFE_SUFFIXES) else 0))
    else:
        body.append("        (void)%s;" % call_text)
    for kind_, i, base in outs:
        if kind_ == "handle":
            body.append("        %s((%s *)out_handle[%d]);" % (MAKE[base][1], base, i))
        else:
            body.append("        %s(&out_%s[%d]);" % (LOCAL_OUT[base], base, i))
    for idx, kind in made:
        body.append("        (void)%s((%s *)live[%d]);" % (MAKE[kind][1], kind, idx))
    body.append("        calls++;")
    body.append("    }")
    lines.extend(body)


def call(fn, handles, forge):
    args = []
    for p in fn.params:
        t = p.type
        if t.pointers:
            if forge and t.base in handles and len(t.pointers) == 1:
                args.append(FORGED)
            elif forge:
                args.append("(void *)scratch")
            else:
                args.append("NULL")
        elif t.base in ("double",):
            args.append("0.0")
        else:
            args.append("0")
    return "%s(%s)" % (fn.name, ", ".join(args))


hdr_callbacks = {}


def callback_stubs(h):
    """A no-op callback of each callback type, returning 0 of its return
    type, for round 3."""
    out = []
    for cb in h.callbacks:
        hdr_callbacks[cb.name] = cb
        params = ", ".join("%s%s %s%s" % ("const " if p.type.const else "", p.type.base,
                                          "*" * len(p.type.pointers), p.name) for p in cb.params)
        # unused: a callback type may only appear inside a struct (a
        # vtable such as dd_backend_ops) or in calls round 3 skips.
        ret = cb.ret.c() if hasattr(cb.ret, "c") else "int"
        out.append("__attribute__((unused)) static %s cb_%s(%s)" % (ret, cb.name, params or "void"))
        out.append("{")
        out.extend("    (void)%s;" % p.name for p in cb.params)
        if ret != "void":
            out.append("    return 0;")
        out.append("}")
        out.append("")
    return out


def main(src, out):
    h = header.parse(src)
    handles = {s.name for s in h.structs if s.opaque}
    lines = [
        "/* Generated by tools/abi/hostile_calls.py from abi/include/ddata.h. */",
        "#include <stdint.h>",
        "#include <stdio.h>",
        "#include <string.h>",
        "#include \"ddata.h\"",
        "",
        "static _Alignas(64) unsigned char scratch[1 << 16];",
        "static int failures;",
        "static char sentinel_message[512];",
        "static dd_store_options store_opts = DD_STORE_OPTIONS_INIT;",
        "static dd_owned_options owned_opts = DD_OWNED_OPTIONS_INIT;",
        "",
        "/* A failure of our own, so that a call which leaves the error alone is",
        " * told apart from one that sets it. */",
        "static void set_sentinel(void)",
        "{",
        "    dd_limits lim;",
        "    (void)dd_limits_init(&lim, 77);",
        "    snprintf(sentinel_message, sizeof sentinel_message, \"%s\", dd_error_last()->message);",
        "}",
        "",
        "static int sentinel_intact(void)",
        "{",
        "    const dd_error *e = dd_error_last();",
        "    return e->code == DD_EINVAL && strcmp(e->message, sentinel_message) == 0;",
        "}",
        "",
        "static int make_keyring(dd_keyring **out)",
        "{",
        "    static const uint8_t key[32] = {1};",
        "    int rc = dd_keyring_new(out);",
        "    return rc ? rc : dd_keyring_add_key(*out, 1, key, sizeof key);",
        "}",
        "",
        "static int make_system(dd_system **out, int n)",
        "{",
        "    dd_system_options o = DD_SYSTEM_OPTIONS_INIT;",
        "    o.node_id = n ? \"hostile-b\" : \"hostile-a\";",
        "    return dd_system_open(out, &o);",
        "}",
        "",
        "/* A replica keeps its system alive; the system handle is closed here. */",
        "static int make_replica(dd_replica **out)",
        "{",
        "    dd_system *sys;",
        "    int rc = make_system(&sys, 1);",
        "    if (rc)",
        "        return rc;",
        "    dd_replica_options o = DD_REPLICA_OPTIONS_INIT;",
        "    rc = dd_replica_open(out, sys, &o);",
        "    dd_system_close(sys);",
        "    return rc;",
        "}",
        "",
        "/* A cursor keeps its journal alive; the journal handle is closed here. */",
        "static int make_cursor(dd_journal_cursor **out)",
        "{",
        "    dd_journal *j;",
        "    int rc = dd_journal_open(&j, &store_opts);",
        "    if (rc)",
        "        return rc;",
        "    rc = dd_journal_pids(out, j, NULL, 0, 10);",
        "    dd_journal_close(j);",
        "    return rc;",
        "}",
        "",
    ] + callback_stubs(h) + [
        "/* Round 3's checks: the thread's error and the handle's record. */",
        "static void expect_rules(const char *fn, int round, int rc, void *handle, int closes)",
        "{",
        "    const dd_error *e = dd_error_last();",
        "    const dd_error *he = NULL;",
        "    if (rc >= 0 || rc == DD_EDONE) {",
        "        if (!sentinel_intact()) {",
        "            printf(\"FAIL %s round %d: succeeded (%d) but changed the error to %s '%s'\\n\", fn,",
        "                   round, rc, dd_status_name(e->code), e->message);",
        "            failures++;",
        "        }",
        "        if (handle && !closes && dd_handle_error(&he, handle) == DD_OK && he->code != DD_OK) {",
        "            printf(\"FAIL %s round %d: succeeded but recorded %s on its handle\\n\", fn, round,",
        "                   dd_status_name(he->code));",
        "            failures++;",
        "        }",
        "        return;",
        "    }",
        "    if (e->code != rc || !e->message[0] || strcmp(e->message, \"no error\") == 0) {",
        "        printf(\"FAIL %s round %d: returned %s but dd_error_last() says %s '%s'\\n\", fn, round,",
        "               dd_status_name(rc), dd_status_name(e->code), e->message);",
        "        failures++;",
        "    }",
        "    if (handle && dd_handle_error(&he, handle) == DD_OK && he->code != rc) {",
        "        printf(\"FAIL %s round %d: returned %s but its handle records %s '%s'\\n\", fn, round,",
        "               dd_status_name(rc), dd_status_name(he->code), he->message);",
        "        failures++;",
        "    }",
        "}",
        "",
        "static void expect(const char *fn, int round, int rc, int must_fail)",
        "{",
        "    const dd_error *e = dd_error_last();",
        "    if ((rc >= 0 || rc == DD_EDONE) && !sentinel_intact()) {",
        "        printf(\"FAIL %s round %d: succeeded (%d) but changed the error to %s '%s'\\n\", fn,",
        "               round, rc, dd_status_name(e->code), e->message);",
        "        failures++;",
        "    }",
        "    if (rc >= 0 && must_fail) {",
        "        printf(\"FAIL %s round %d: returned %d, not an error\\n\", fn, round, rc);",
        "        failures++;",
        "    } else if (rc < 0 && rc != DD_EDONE && (e->code != rc || !e->message[0] ||",
        "                                                strcmp(e->message, \"no error\") == 0)) {",
        "        printf(\"FAIL %s round %d: returned %s but dd_error_last() says %s '%s'\\n\", fn,",
        "               round, dd_status_name(rc), dd_status_name(e->code), e->message);",
        "        failures++;",
        "    }",
        "}",
        "",
        "int main(void)",
        "{",
        "    int calls = 0;",
    ]
    for fn in h.functions:
        returns_int = fn.ret.base == "int" and not fn.ret.pointers
        null_safe = fn.name.endswith(NULL_SAFE_SUFFIXES)
        takes_handle = any(p.type.base in handles and len(p.type.pointers) == 1 for p in fn.params)
        takes_pointer = any(p.type.pointers for p in fn.params)
        rounds = [(1, False)] + ([(2, True)] if takes_handle else [])
        for rnd, forge in rounds:
            lines.append("    memset(scratch, 0, sizeof(scratch));")
            lines.append("    set_sentinel();")
            c = call(fn, handles, forge)
            if returns_int:
                must_fail = 1 if forge else (0 if null_safe or not takes_pointer else 1)
                lines.append('    expect("%s", %d, %s, %d);' % (fn.name, rnd, c, must_fail))
            else:
                lines.append("    (void)%s;" % c)
            lines.append("    calls++;")
        if takes_handle and fn.name != "dd_handle_error":
            live_call(fn, handles, lines)
    lines += [
        '    printf("%d calls, %d passed, %d failed\\n", calls, calls - failures, failures);',
        "    return failures ? 1 : 0;",
        "}",
        "",
    ]
    pathlib.Path(out).write_text("\n".join(lines))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
