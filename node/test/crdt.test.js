'use strict';

const test = require('node:test');
const assert = require('node:assert');
const ddata = require('..');

// Seeded randomness (DDATA_SEED=n replays); the seed is in the test name.
const seed = Number(process.env.DDATA_SEED || Date.now() % 1000000);
function rng(s) {
  let x = s >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    return x / 4294967296;
  };
}

test('a counter counts increments and decrements', () => {
  const c = new ddata.PNCounter({ actor: 3 });
  c.increment(10);
  c.decrement(4);
  assert.strictEqual(c.value, 6);
  assert.strictEqual(c.type, 'PNCounter');
  assert.deepStrictEqual(c.toValue(), { type: 'PNCounter', value: 6 });
});

test('replicas converge by merging full states and deltas', () => {
  const a = new ddata.ORSet({ actor: 1 });
  const b = new ddata.ORSet({ actor: 2 });
  a.add('x');
  const delta = b.apply({ kind: 'add', value: 'y' }, { delta: true });
  assert.ok(delta instanceof ddata.ORSet);
  a.merge(delta);
  b.merge(a);
  assert.deepStrictEqual(a.elementStrings(), ['x', 'y']);
  assert.ok(a.equals(b));
});

test('registers, flags and maps expose their reads', () => {
  const r = new ddata.LWWRegister();
  assert.strictEqual(r.value, undefined);
  r.assign('hello', 5000);
  assert.strictEqual(r.value.toString(), 'hello');
  const f = new ddata.Flag();
  assert.strictEqual(f.enabled, false);
  f.enable();
  assert.strictEqual(f.enabled, true);
  const m = new ddata.ORMap();
  m.update('cart', 'GCounter', { kind: 'increment', amount: 2 });
  assert.strictEqual(m.get('cart').value, 2);
  assert.strictEqual(m.get('missing'), undefined);
  assert.deepStrictEqual(m.keys().map(String), ['cart']);
});

test('an op that does not fit the type throws TypeMismatchError and changes nothing', () => {
  const c = new ddata.GCounter();
  c.increment(1);
  assert.throws(() => c.apply({ kind: 'add', value: 'x' }), (e) => e instanceof ddata.TypeMismatchError && e.code === 'DD_ETYPE');
  assert.strictEqual(c.value, 1);
});

test('bad arguments throw InvalidArgumentError', () => {
  const c = new ddata.GCounter();
  assert.throws(() => c.increment(-1), ddata.InvalidArgumentError);
  assert.throws(() => c.increment('x'), ddata.InvalidArgumentError);
  assert.throws(() => c.apply({ kind: 'nope' }), ddata.InvalidArgumentError);
  assert.throws(() => c.apply(null), ddata.InvalidArgumentError);
  assert.throws(() => c.merge({}), ddata.InvalidArgumentError);
  assert.throws(() => new ddata.Crdt('Nope'), ddata.InvalidArgumentError);
  assert.throws(() => new ddata.Crdt(99), ddata.DdataError);
});

test('a closed value throws MisuseError and closing twice is harmless', () => {
  const c = new ddata.GCounter();
  c.close();
  assert.throws(() => c.increment(1), ddata.MisuseError);
  assert.throws(() => c.value, ddata.MisuseError);
  c.close();
  const other = new ddata.GCounter();
  assert.throws(() => other.merge(c), ddata.MisuseError);
});

test('garbage bytes and JSON are rejected with a status, never a crash', () => {
  const r = rng(seed);
  for (let i = 0; i < 300; i++) {
    const buf = Buffer.alloc(Math.floor(r() * 40));
    for (let j = 0; j < buf.length; j++) buf[j] = Math.floor(r() * 256);
    try {
      ddata.Crdt.decode(buf, undefined, 0).close();
    } catch (e) {
      assert.ok(e instanceof ddata.DdataError, `seed ${seed}: ${e}`);
    }
  }
  assert.throws(() => ddata.Crdt.fromJson('{"type":'), ddata.DdataError);
  assert.throws(() => ddata.Crdt.decode(Buffer.alloc(0)), ddata.CorruptError);
});

test('decode honours limits', () => {
  const s = new ddata.GSet();
  for (const e of ['a', 'b', 'c']) s.add(e);
  assert.throws(() => ddata.Crdt.decode(s.encode(), { maxElements: 2 }), ddata.LimitError);
  assert.ok(ddata.Crdt.decode(s.encode(), { maxElements: 3 }).equals(s));
});

test(`merge is commutative and idempotent for random ORSet histories (seed ${seed})`, () => {
  const r = rng(seed);
  for (let round = 0; round < 30; round++) {
    const a = new ddata.ORSet({ actor: 1 });
    const b = new ddata.ORSet({ actor: 2 });
    for (let i = 0; i < 20; i++) {
      const target = r() < 0.5 ? a : b;
      const el = 'e' + Math.floor(r() * 5);
      if (r() < 0.6) target.add(el);
      else target.remove(el);
      if (r() < 0.2) (target === a ? b : a).merge(target);
    }
    const ab = a.clone();
    ab.merge(b);
    const ba = b.clone();
    ba.merge(a);
    assert.ok(ab.equals(ba), `seed ${seed} round ${round}`);
    const again = ab.clone();
    again.merge(b);
    assert.ok(again.equals(ab), `seed ${seed} round ${round}: idempotence`);
  }
});

test('values survive garbage collection in any order', { skip: typeof global.gc !== 'function' }, () => {
  for (let i = 0; i < 1000; i++) {
    const m = new ddata.PNCounterMap();
    m.increment('k', i);
    const child = m.get('k');
    if (i % 2) m.close();
    void child;
  }
  global.gc();
});

// Issue 17.12: console.log of a value prints the value (it printed `GCounter {}`).
test('values print their contents with util.inspect', () => {
  const util = require('util');
  const c = new ddata.GCounter();
  c.increment(3);
  assert.strictEqual(util.inspect(c), 'GCounter { value: 3 }');
  const s = new ddata.ORSet();
  s.add('apple');
  assert.strictEqual(util.inspect(s), "ORSet { elements: [ 'apple' ] }");
  assert.strictEqual(util.inspect([c]), '[ GCounter { value: 3 } ]');
});
