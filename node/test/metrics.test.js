// System.metricsText: the Prometheus text exposition of dd_system_metrics_text.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const ddata = require('..');

test('metricsText has HELP and TYPE for every family and counts keys', () => {
  const sys = new ddata.System({ nodeId: 'm', seeds: ['m'] });
  const rep = new ddata.Replica(sys);
  try {
    rep.update('hits', 'GCounter', { kind: 'increment', amount: 3 });
    const text = sys.metricsText();
    const helped = new Set();
    const typed = new Set();
    for (const line of text.split('\n')) {
      if (line.startsWith('# HELP ')) helped.add(line.split(' ')[2]);
      if (line.startsWith('# TYPE ')) typed.add(line.split(' ')[2]);
    }
    assert.deepStrictEqual([...helped].sort(), [...typed].sort());
    assert.ok(helped.has('ddata_member_convergence_lag_seconds'));
    assert.match(text, /^ddata_keys 1$/m);
    assert.match(text, /^ddata_members\{state="up"\} 1$/m);
  } finally {
    rep.close();
    sys.close();
  }
});
