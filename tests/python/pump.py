"""The host's message pump for tests that run nodes in pump mode: time
ticks on in steps and every queued message moves to its destination.

Engine time follows the host's clock (it also stamps LWW values), so tests
start from now_ms(), never a fixed time."""
import time


def now_ms():
    return time.time_ns() // 1_000_000


def pump(nodes, now, rounds=20, step=200):
    """Ticks `nodes` (name -> System) `rounds` times, `step` ms apart, and
    hands every queued message to its destination among them (messages to
    other nodes are dropped). Returns the time reached."""
    for _ in range(rounds):
        now += step
        for n in nodes.values():
            n.tick(now)
        for name, n in nodes.items():
            for to, msg in n.outgoing():
                if to in nodes:
                    nodes[to].deliver(name, msg, now)
    return now
