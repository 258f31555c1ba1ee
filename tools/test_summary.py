#!/usr/bin/env python3
"""Adds up what every suite of `make test` reported and prints one line:

    total: 1234 passed, 0 failed

The suites speak different dialects (ctest, pytest, node --test, cargo
test); this reads each one's closing lines from the combined log, so the
last line of `make test` says how many tests ran in all. Exit status 1 if
any suite reported a failure or no test ran at all.
"""
import re
import sys

PATTERNS = [
    # ctest: "100% tests passed, 0 tests failed out of 42"
    (re.compile(r"tests passed, (\d+) tests failed out of (\d+)"),
     lambda m: (int(m[2]) - int(m[1]), int(m[1]))),
    # pytest: "189 passed in 14.36s" / "3 failed, 186 passed, 2 xfailed in 9s"
    (re.compile(r"^=*\s*((?:\d+ \w+(?:, )?)+) in [\d.]+s"),
     lambda m: (sum(int(n) for n, w in re.findall(r"(\d+) (\w+)", m[1]) if w in ("passed", "xfailed")),
                sum(int(n) for n, w in re.findall(r"(\d+) (\w+)", m[1]) if w in ("failed", "error", "errors", "xpassed")))),
    # node --test: "# pass 132" and "# fail 0" (counted separately below)
    # cargo: "test result: ok. 20 passed; 0 failed; ..."
    (re.compile(r"test result: \w+\. (\d+) passed; (\d+) failed"),
     lambda m: (int(m[1]), int(m[2]))),
]
# tools/dist and tests/packaging: "snippets: 31 passed, 0 failed"
PATTERNS.append((re.compile(r"^(?:snippets|packaging|versions): (\d+) passed, (\d+) failed\b"),
                 lambda m: (int(m[1]), int(m[2]))))
NODE_PASS = re.compile(r"^# pass (\d+)$")
NODE_FAIL = re.compile(r"^# fail (\d+)$")
# go test -v: one "--- PASS: TestX (0.01s)" or "--- FAIL: ..." per test
GO_RESULT = re.compile(r"^--- (PASS|FAIL): ")


def main(path):
    passed = failed = 0
    with open(path, errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            for pattern, count in PATTERNS:
                m = pattern.search(line)
                if m:
                    p, q = count(m)
                    passed += p
                    failed += q
                    break
            m = NODE_PASS.match(line)
            if m:
                passed += int(m[1])
            m = NODE_FAIL.match(line)
            if m:
                failed += int(m[1])
            m = GO_RESULT.match(line)
            if m:
                passed += m[1] == "PASS"
                failed += m[1] == "FAIL"
    print("total: %d passed, %d failed" % (passed, failed))
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
