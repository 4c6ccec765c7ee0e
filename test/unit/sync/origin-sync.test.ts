// The origin sync shell over a LocalNode (no sockets): clients' deltas are committed as
// batched crdt commands before the committed ack, stream to the other sessions of the
// keyspace without echo, resume from the cursor, and a refused token ends the channel.
import { describe, expect, it } from 'vitest';
import { Multiplexer } from '../../../core/src/sync/multiplexer.ts';
import { MemoryKvStorage } from '../../../core/src/testing/memory-kv-storage.ts';
import { LocalNode } from '../../../server/src/node/local-node.ts';
import { OriginSync } from '../../../server/src/sync/origin-sync.ts';
import { ClientHost, stateOf } from '../../support/sync-harness.ts';

interface Wire {
  readonly host: ClientHost;
  readonly mux: Multiplexer;
  readonly down: Uint8Array[];
  closed: string | undefined;
  pump(): number;
}

function connect(sync: OriginSync, host: ClientHost, token?: string): Wire {
  const mux = new Multiplexer();
  const down: Uint8Array[] = [];
  const wire: Wire = {
    host,
    mux,
    down,
    closed: undefined,
    pump: () => {
      let n = host.drain();
      for (const f of mux.takeFrames()) {
        n++;
        conn.receive(f);
      }
      for (const f of down.splice(0)) {
        n++;
        mux.receive(f);
      }
      return n + host.drain();
    },
  };
  const conn = sync.open({ send: (f) => down.push(f), close: (r) => (wire.closed = r) });
  host.open(mux, token === undefined ? {} : { token });
  return wire;
}

/** Pumps until `done` holds (bounded: at most 500 turns of the event loop). */
async function until(wires: readonly Wire[], done: () => boolean): Promise<void> {
  for (let i = 0; i < 500; i++) {
    let moved = 0;
    for (const w of wires) moved += w.pump();
    if (moved === 0 && done()) return;
    await new Promise((r) => setImmediate(r));
  }
  throw new Error('did not settle');
}

describe('origin sync shell', () => {
  it('commits through the node before acknowledging and streams to other sessions', async () => {
    const node = await LocalNode.open({ storage: new MemoryKvStorage() });
    const sync = new OriginSync({ node });
    const a = connect(sync, new ClientHost(101, 'docs'));
    const b = connect(sync, new ClientHost(202, 'docs'));
    await until([a, b], () => a.host.statuses.includes('synced') && b.host.statuses.includes('synced'));
    a.host.replica.put('title', 'draft');
    a.host.replica.counter('n').increment(1);
    b.host.replica.set('tags').add('t1');
    // Before the commit nothing is acknowledged.
    expect(a.host.committedLsn).toBe(0);
    await until([a, b], () => a.host.committedLsn === 2 && b.host.committedLsn === 1);
    expect(stateOf(a.host.replica)).toEqual(stateOf(b.host.replica));
    const ks = node.stateMachine.crdtKeyspace('docs')!;
    expect(stateOf(ks.replica)).toEqual(stateOf(a.host.replica));
    expect(sync.committedDeltas).toBe(3);
    expect(sync.committedBatches).toBeLessThanOrEqual(2); // batched per keyspace turn
    // Own changes are not echoed: a only received b's delta.
    expect(a.host.delivered.filter((e) => e.kind === 'deliver').length).toBe(1);
    expect(a.host.errors).toEqual([]);
    await node.close();
  });

  it('resumes from the cursor after a dropped connection and refuses a wrong token', async () => {
    const node = await LocalNode.open({ storage: new MemoryKvStorage() });
    const sync = new OriginSync({ node, authorize: (t) => t === 'secret' });
    const a = connect(sync, new ClientHost(303, 'docs'), 'secret');
    await until([a], () => a.host.statuses.includes('synced'));
    a.host.replica.put('k', 1);
    await until([a], () => a.host.committedLsn === 1);
    const b = connect(sync, new ClientHost(404, 'docs'), 'secret');
    await until([a, b], () => b.host.replica.get('k') === 1);
    // b drops; a writes more; b resumes with its cursor and gets only what is new.
    b.host.session = undefined;
    a.host.replica.put('k', 2);
    await until([a], () => a.host.committedLsn === 2);
    const b2 = connect(sync, b.host, 'secret');
    await until([a, b2], () => b.host.replica.get('k') === 2);
    expect(b.host.delivered.filter((e) => e.kind === 'deliver').map((e) => (e as { source: string }).source)).toEqual(['log', 'log']);
    const bad = connect(sync, new ClientHost(505, 'docs'), 'wrong');
    await until([bad], () => bad.host.errors.length > 0);
    expect(bad.host.errors[0]!.message).toContain('unauthorized');
    await node.close();
  });
});
