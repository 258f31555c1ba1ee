'use strict';

// Node identities of the TCP transport: key files, the allow-list and its
// reload, through the public API over real loopback sockets.
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const ddata = require('..');

const SECRET = Buffer.alloc(32, 3);

function tcpNode(nodeId, extra = {}) {
  const sys = new ddata.System({ nodeId, tcpListen: '127.0.0.1:0', secret: SECRET, ...extra });
  const rep = new ddata.Replica(sys, { gossipIntervalMs: 50 });
  return { sys, rep, close: () => { rep.close(); sys.close(); } };
}

async function until(cond, ms = 5000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}

function connected(sys, id) {
  const p = (sys.stats().peers || []).find((x) => x.node === id);
  return p && p.connected;
}

test('a generated key file is private and names the node it starts', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ddata-keys-'));
  const file = path.join(dir, 'a.key');
  const pub = ddata.generateNodeKey(file);
  assert.strictEqual(pub.length, 32);
  assert.strictEqual(fs.statSync(file).mode & 0o777, 0o600);
  assert.throws(() => ddata.generateNodeKey(file), /cannot create/);
  const a = tcpNode('ka', { nodeKeyFile: file });
  assert.deepStrictEqual(a.sys.publicKey, pub);
  a.close();
  fs.rmSync(dir, { recursive: true });
});

test('an unlisted key is refused until setPeerKeys admits it', async () => {
  const stranger = Buffer.alloc(32, 9);
  const a = tcpNode('ka2', { peerKeys: [{ key: stranger, nodeId: 'nobody' }] });
  const nb = new ddata.System({ nodeId: 'kb-dialer', tcpListen: '127.0.0.1:0', secret: SECRET, seeds: [a.sys.listenAddress] });
  const rnb = new ddata.Replica(nb, {});
  assert.ok(await until(() => a.sys.stats().transport.refused_peers >= 1));
  assert.ok(!connected(a.sys, 'kb-dialer'));
  a.sys.setPeerKeys([{ key: nb.publicKey, nodeId: 'kb-dialer' }]);
  assert.ok(await until(() => connected(a.sys, 'kb-dialer')));
  a.sys.setPeerKeys([stranger]);
  assert.ok(await until(() => !connected(a.sys, 'kb-dialer')));
  rnb.close();
  nb.close();
  a.close();
});
