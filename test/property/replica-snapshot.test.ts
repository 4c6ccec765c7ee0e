// Replica snapshots (Replica.encode / Replica.decode): texts and lists travel in their
// compact state form (a state snapshot, codec/delta/layout.ts). A decoded copy must be the
// same replica in every way the rest of the system can observe: same state, same answers
// to later deltas, same local edits, and older snapshots (sequences in delta form) still load.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CausalContext } from '../../core/src/clock/causal-context.ts';
import type { ReplicaId } from '../../core/src/clock/replica-id.ts';
import { DeltaEncoder } from '../../core/src/codec/delta/encoder.ts';
import { DeltaKind } from '../../core/src/codec/delta/layout.ts';
import type { Delta } from '../../core/src/crdt/delta.ts';
import type { MapStore } from '../../core/src/crdt/map-store.ts';
import { Replica } from '../../core/src/doc/replica.ts';
import { describeCrdt } from '../../core/src/testing/describe-crdt.ts';
import { InvalidArgumentError } from '../../core/src/errors.ts';

type Action = { op: number; key: number; v: number };
const actions = fc.array(fc.record({ op: fc.integer({ min: 0, max: 9 }), key: fc.integer({ min: 0, max: 2 }), v: fc.integer({ min: 0, max: 1000 }) }), { maxLength: 40 });

interface Peer {
  replica: Replica;
  /** Every local delta this replica made, for out-of-order delivery. */
  sent: Delta<MapStore>[];
}

/**
 * Two replicas editing texts and lists (top level and inside maps) next to other types,
 * syncing now and then in whole and now and then by single deltas out of order, so that
 * states hold tombstones, delete records and items waiting for their origins.
 */
function history(list: readonly Action[]): Peer[] {
  const peers = [1, 2].map((id) => {
    const replica = new Replica({ replicaId: id as ReplicaId, now: () => 1000 });
    const peer: Peer = { replica, sent: [] };
    replica.onLocalDelta((d) => peer.sent.push(d));
    return peer;
  });
  list.forEach((a, i) => {
    const { replica: r, sent } = peers[i % 2]!;
    const other = peers[(i + 1) % 2]!.replica;
    const text = a.key === 2 ? r.map('m').text('t') : r.text(`t${a.key}`);
    try {
      switch (a.op) {
        case 0:
        case 1:
          text.insert(a.v % (text.length + 1), a.v % 3 === 0 ? 'é😀' : 'abc'.slice(0, 1 + (a.v % 3)));
          break;
        case 2:
          if (text.length > 0) text.delete(a.v % text.length, Math.min(1 + (a.v % 4), text.length - (a.v % text.length)));
          break;
        case 3: {
          const l = r.list(`l${a.key}`);
          l.insert(a.v % (l.length + 1), a.v, { n: a.v });
          break;
        }
        case 4: {
          const l = r.list(`l${a.key}`);
          if (l.length > 0) l.delete(a.v % l.length, 1);
          break;
        }
        case 5:
          r.counter(`c${a.key}`).increment(a.v);
          r.put(`k${a.key}`, a.v);
          break;
        case 6:
          r.delete(a.v % 2 === 0 ? `t${a.key}` : `l${a.key}`);
          break;
        case 7:
          // One delta, maybe long before its origins arrive: it waits in the pending buffer.
          if (sent.length > 0) other.applyDelta(sent[a.v % sent.length]!);
          break;
        default:
          other.applyDelta(r.deltaSince(other.contextOf()));
      }
    } catch (e) {
      // Edits that would split a surrogate pair are refused (text/utf16.ts), as users would see.
      if (!(e instanceof InvalidArgumentError)) throw e;
    }
  });
  return peers;
}

/**
 * The whole state, except which delete removed which element: the state form keeps delete
 * dots without that attribution (text/state-codec.ts), so a loaded copy differs there only;
 * what it sends to peers is checked separately.
 */
function describe_(r: Replica): string {
  return describeCrdt((r as unknown as { state: Parameters<typeof describeCrdt>[0] }).state).replace(/ deletes \{[^}]*\} \{[^}]*\}/g, '');
}

function visible(r: Replica): string {
  return JSON.stringify(r.keys().sort().map((k) => [k, r.get(k)]));
}

describe('replica snapshots', () => {
  it('a decoded state snapshot is the same replica: state, later deltas and local edits', () => {
    fc.assert(
      fc.property(actions, (list) => {
        const [a, b] = history(list).map((p) => p.replica) as [Replica, Replica];
        const copy = Replica.decode(b.encode(), { replicaId: 2 as ReplicaId, now: () => 1000 });
        expect(describe_(copy)).toBe(describe_(b));
        expect(visible(copy)).toBe(visible(b));
        // A peer gets the same from either: every insert and delete it lacks.
        const [fromB, fromCopy] = [b, copy].map((src) => {
          const peer = Replica.decode(a.encode(), { replicaId: 1 as ReplicaId, now: () => 1000 });
          peer.applyDelta(src.deltaSince(peer.contextOf()));
          return peer;
        }) as [Replica, Replica];
        expect(visible(fromCopy)).toBe(visible(fromB));
        expect(fromCopy.contextOf().equals(fromB.contextOf())).toBe(true);
        // The same delta from elsewhere lands the same way on both.
        const d = a.deltaSince(new CausalContext());
        b.applyDelta(d);
        copy.applyDelta(d);
        expect(describe_(copy)).toBe(describe_(b));
        // A local edit on each gives the same delta and state.
        const edits = [b, copy].map((r) => r.encodeDelta(r.text('t0').insert(0, 'z')));
        expect(edits[1]).toEqual(edits[0]);
        expect(describe_(copy)).toBe(describe_(b));
        // And the copy's own snapshot loads back to the same again.
        expect(describe_(Replica.decode(copy.encode(), { replicaId: 2 as ReplicaId }))).toBe(describe_(copy));
      }),
      { numRuns: 300, seed: 11 },
    );
  });

  it('a state snapshot received as a delta re-encodes as a delta that gives the same state', () => {
    // Sync sessions deliver a snapshot to a peer behind compaction; clients forward what
    // they receive (to other tabs, to delta streams), so its state-form texts and lists
    // must travel in delta form too.
    fc.assert(
      fc.property(actions, (list) => {
        const b = history(list)[1]!.replica;
        const receiver = new Replica({ replicaId: 3 as ReplicaId });
        const received = receiver.decodeDelta(b.encode());
        receiver.applyDelta(received);
        const forwarded = receiver.encodeDelta(received);
        const tab = new Replica({ replicaId: 4 as ReplicaId });
        tab.applyDelta(forwarded);
        expect(visible(tab)).toBe(visible(b));
        expect(tab.contextOf().equals(b.contextOf())).toBe(true);
      }),
      {
        numRuns: 200,
        seed: 12,
        // Found by a random seed: a list removed (at the map) before its insert arrived is,
        // in the snapshot, a store holding only that removal, which was forwarded as an
        // empty sequence delta the decoder refuses.
        examples: [[[{ op: 3, key: 2, v: 0 }, { op: 0, key: 0, v: 0 }, { op: 6, key: 2, v: 111 }, { op: 0, key: 0, v: 0 }, { op: 7, key: 0, v: 693 }]]],
      },
    );
  });

  it('snapshots written before state snapshots (sequences as deltas) still load', () => {
    fc.assert(
      fc.property(actions, (list) => {
        const b = history(list)[1]!.replica;
        const legacy = new DeltaEncoder().encode(b.deltaSince(new CausalContext()), DeltaKind.Snapshot);
        const copy = Replica.decode(legacy, { replicaId: 2 as ReplicaId });
        expect(visible(copy)).toBe(visible(b));
        expect(copy.contextOf().equals(b.contextOf())).toBe(true);
      }),
      { numRuns: 100, seed: 13 },
    );
  });

  it('a text snapshot is its state form plus a few bytes', () => {
    const r = new Replica({ replicaId: 7 as ReplicaId });
    const t = r.text('doc');
    for (let i = 0; i < 2000; i++) {
      if (i % 5 === 4) t.delete((i * 7) % t.length, 1);
      else t.insert((i * 13) % (t.length + 1), 'x');
    }
    const stateForm = r.encode().length;
    const deltaForm = new DeltaEncoder().encode(r.deltaSince(new CausalContext()), DeltaKind.Snapshot).length;
    expect(stateForm).toBeLessThan(deltaForm);
    expect(Replica.decode(r.encode(), { replicaId: 7 as ReplicaId }).text('doc').toString()).toBe(t.toString());
  });
});
