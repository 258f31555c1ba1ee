// A Node service exposing a ddata node's metrics through prom-client.
//
// ddata writes its metrics in the Prometheus text format
// (System#metricsText). registerDdata() adds one prom-client metric per
// ddata family to a Registry; each reads the node's text again at scrape
// time, so `await registry.metrics()` (behind any HTTP framework) serves
// the service's own metrics and the node's together.
//
// Run: node examples/node/prom_client.js   (prints one scrape)
'use strict';
const client = require('prom-client');
const ddata = require('ddata');

const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

// { family: { help, type, samples: [{ metricName, labels, value }] } }
function parse(text) {
  const families = {};
  const familyOf = (name) => {
    if (families[name]) return name;
    for (const suffix of ['_bucket', '_sum', '_count']) {
      if (name.endsWith(suffix) && families[name.slice(0, -suffix.length)]) return name.slice(0, -suffix.length);
    }
    return undefined;
  };
  for (const line of text.split('\n')) {
    const meta = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
    if (meta) {
      const f = (families[meta[2]] ||= { help: '', type: 'untyped', samples: [] });
      if (meta[1] === 'HELP') f.help = meta[3];
      else f.type = meta[3];
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const family = familyOf(m[1]);
    if (!family) continue;
    const labels = {};
    for (const [, k, v] of (m[2] || '').matchAll(LABEL)) labels[k] = v.replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c));
    const value = m[3] === '+Inf' ? Infinity : Number(m[3]);
    families[family].samples.push({ metricName: m[1], labels, value });
  }
  return families;
}

function registerDdata(registry, system) {
  for (const [name, f] of Object.entries(parse(system.metricsText()))) {
    registry.registerMetric({
      name,
      help: f.help,
      type: f.type,
      aggregator: 'sum',
      reset() {},
      get: async () => {
        const now = parse(system.metricsText())[name] || f;
        return { name, help: f.help, type: f.type, aggregator: 'sum', values: now.samples };
      },
    });
  }
}

async function main() {
  const registry = new client.Registry();
  const requests = new client.Counter({ name: 'app_requests_total', help: 'Requests the service handled', registers: [registry] });
  const sys = new ddata.System({ nodeId: 'svc', seeds: ['svc'] });
  const rep = new ddata.Replica(sys);
  try {
    registerDdata(registry, sys);
    rep.update('visits', 'GCounter', { kind: 'increment', amount: 3 });
    requests.inc();
    const text = await registry.metrics();
    process.stdout.write(text);
    return text;
  } finally {
    rep.close();
    sys.close();
  }
}

module.exports = { registerDdata, parse, main };
if (require.main === module) main();
