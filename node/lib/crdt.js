// CRDT values: one class per type over the native Crdt (src/crdt.c). The
// typed classes extend it, so `counter.increment(n)` is one call into C.
// Byte strings (elements, keys, values) are accepted as strings (UTF-8),
// Buffers or Uint8Arrays and returned as Buffers; *Strings() helpers decode.
'use strict';

const util = require('util');
const native = require('./native');

const CrdtType = Object.freeze({
  GCounter: 1, PNCounter: 2, GSet: 3, ORSet: 4, LWWRegister: 5, Flag: 6, MVRegister: 7,
  ORMap: 8, LWWMap: 9, PNCounterMap: 10, GCounterMap: 11, ORMultiMap: 12,
});

const OpKind = Object.freeze({
  increment: 1, decrement: 2, add: 3, remove: 4, clear: 5, assign: 6, enable: 7, update: 8,
});

function typeNumber(t) {
  if (typeof t === 'number') return t;
  const n = CrdtType[t];
  if (n === undefined) throw new (require('./errors').InvalidArgumentError)(-1, `unknown CRDT type '${t}'`);
  return n;
}

// Converts a user op ({kind: 'update', valueType: 'GCounter', nested: {...}})
// to what the addon reads: type names become numbers, the rest passes as is.
function normalizeOp(op) {
  if (op === null || typeof op !== 'object') return op;
  const out = { ...op };
  if (out.valueType !== undefined) out.valueType = typeNumber(out.valueType);
  if (out.nested !== undefined) out.nested = normalizeOp(out.nested);
  return out;
}

const classes = new Map();

class Crdt extends native.Crdt {
  // new Crdt(type, {actor}) makes an empty value; typed subclasses fix the type.
  constructor(type, options = {}) {
    super(type === null ? null : typeNumber(type), options.actor);
  }

  static create(type, options) {
    const cls = classes.get(typeNumber(type)) || Crdt;
    return cls === Crdt ? new Crdt(type, options) : new cls(options);
  }

  static decode(bytes, limits, nowMs = Date.now()) {
    return retype(native.Crdt.decode(bytes, limits, nowMs));
  }

  static fromJson(text, limits) {
    return retype(native.Crdt.fromJson(typeof text === 'string' ? text : JSON.stringify(text), limits));
  }

  get type() {
    return native.crdtTypeName(this.typeOf());
  }

  // apply(op, {nowMs, delta, actor}) -> the delta (a Crdt) when asked for.
  apply(op, options = {}) {
    const nowMs = options.nowMs === undefined ? Date.now() : options.nowMs;
    const d = super.apply(normalizeOp(op), nowMs, !!options.delta, options.actor);
    return d === undefined ? undefined : retype(d);
  }

  clone() {
    return retype(super.clone());
  }

  // The value a user sees, parsed from canonical JSON ({type, value} or {type, elements}, ...).
  toValue() {
    return JSON.parse(this.valueJson());
  }

  toJSON() {
    return JSON.parse(this.toJson());
  }

  // console.log(counter) prints `GCounter { value: 3 }` (issue 17.12), as
  // Python's repr prints <GCounter {"type":"GCounter","value":3}>.
  [util.inspect.custom](depth, options, inspect) {
    let shown;
    try {
      const { type, ...rest } = this.toValue();
      shown = rest;
    } catch (e) {
      return `${this.constructor.name} <${e.message}>`;
    }
    return `${this.constructor.name} ${inspect(shown, { ...options, depth: options.depth === null ? null : options.depth - 1 })}`;
  }

  get(key) {
    const v = this.mapGet(key);
    return v === undefined ? undefined : retype(v);
  }

  elementStrings() {
    return this.elements().map((b) => b.toString('utf8'));
  }
}

// Values made in C (deltas, decoded, map entries) come back as plain
// native Crdt objects; give them their typed prototype.
function retype(v) {
  const cls = classes.get(v.typeOf()) || Crdt;
  Object.setPrototypeOf(v, cls.prototype);
  return v;
}

function typed(name, methods) {
  const type = CrdtType[name];
  const cls = {
    [name]: class extends Crdt {
      constructor(options = {}) {
        super(type, options);
      }
    },
  }[name];
  Object.assign(cls.prototype, methods);
  classes.set(type, cls);
  return cls;
}

const counter = {
  get value() {
    return this.counterValue();
  },
};
const decrementable = {
  decrement(amount = 1) {
    this.apply({ kind: 'decrement', amount });
  },
};
const set = {
  add(element) {
    this.apply({ kind: 'add', value: element });
  },
  has(element) {
    return this.contains(element);
  },
  get size() {
    return this.count();
  },
};
const removable = {
  remove(element) {
    this.apply({ kind: 'remove', value: element });
  },
  clear() {
    this.apply({ kind: 'clear' });
  },
};

// Copies methods and getters (spreading would call the getters).
function defineGetters(cls, ...objs) {
  for (const obj of objs) {
    for (const key of Object.keys(obj)) {
      const d = Object.getOwnPropertyDescriptor(obj, key);
      Object.defineProperty(cls.prototype, key, { ...d, enumerable: false });
    }
  }
  return cls;
}

const GCounter = defineGetters(typed('GCounter', {}), counter);
const PNCounter = defineGetters(typed('PNCounter', {}), counter, decrementable);
const GSet = defineGetters(typed('GSet', {}), set);
const ORSet = defineGetters(typed('ORSet', {}), set, removable);
const LWWRegister = defineGetters(typed('LWWRegister', {}), {
  assign(value, nowMs) {
    this.apply({ kind: 'assign', value }, { nowMs });
  },
  // The value as a Buffer, or undefined when never assigned.
  get value() {
    try {
      return this.registerGet();
    } catch (e) {
      if (e.status === -4) return undefined;
      throw e;
    }
  },
});
const Flag = defineGetters(typed('Flag', {}), {
  enable() {
    this.apply({ kind: 'enable' });
  },
  get enabled() {
    return this.flagValue();
  },
});
const MVRegister = defineGetters(typed('MVRegister', {}), {
  assign(value) {
    this.apply({ kind: 'assign', value });
  },
  clear() {
    this.apply({ kind: 'clear' });
  },
  get values() {
    return this.elements();
  },
});
const mapBase = {
  remove(key) {
    this.apply({ kind: 'remove', key });
  },
  clear() {
    this.apply({ kind: 'clear' });
  },
  has(key) {
    return this.contains(key);
  },
  keys() {
    return this.elements();
  },
  get size() {
    return this.count();
  },
};
const ORMap = defineGetters(typed('ORMap', {}), mapBase, {
  update(key, valueType, nested) {
    this.apply({ kind: 'update', key, valueType, nested });
  },
});
const LWWMap = defineGetters(typed('LWWMap', {}), mapBase, {
  set(key, value, nowMs) {
    this.apply({ kind: 'assign', key, value }, { nowMs });
  },
});
const PNCounterMap = defineGetters(typed('PNCounterMap', {}), mapBase, {
  increment(key, amount = 1) {
    this.apply({ kind: 'increment', key, amount });
  },
  decrement(key, amount = 1) {
    this.apply({ kind: 'decrement', key, amount });
  },
});
const GCounterMap = defineGetters(typed('GCounterMap', {}), mapBase, {
  increment(key, amount = 1) {
    this.apply({ kind: 'increment', key, amount });
  },
});
const ORMultiMap = defineGetters(typed('ORMultiMap', {}), mapBase, {
  add(key, value) {
    this.apply({ kind: 'add', key, value });
  },
  remove(key, value) {
    this.apply(value === undefined ? { kind: 'remove', key } : { kind: 'remove', key, value });
  },
});

module.exports = {
  CrdtType, OpKind, Crdt, GCounter, PNCounter, GSet, ORSet, LWWRegister, Flag, MVRegister,
  ORMap, LWWMap, PNCounterMap, GCounterMap, ORMultiMap, normalizeOp, retype, typeNumber,
};
