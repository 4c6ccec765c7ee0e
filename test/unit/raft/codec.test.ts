// The Raft wire codec: every message and entry round-trips, and the decoder rejects
// anything malformed with DecodeError only (fuzzed with random and mutated inputs).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../../core/src/errors.ts';
import {
  type Message,
  ConfChangeType,
  EntryType,
  MessageType,
  decodeConfChangeData,
  decodeEntry,
  decodeHardState,
  decodeMessage,
  encodeConfChangeData,
  encodeEntry,
  encodeHardState,
  encodeMessage,
} from '../../../core/src/raft/index.ts';
import { Prng } from '../../../core/src/testing/prng.ts';

const u = fc.nat({ max: Number.MAX_SAFE_INTEGER });
const small = fc.nat({ max: 1_000_000 });
const id = fc.integer({ min: 1, max: 1 << 20 });
const bytes = fc.uint8Array({ maxLength: 40 });
const confState = fc
  .uniqueArray(id, { maxLength: 8 })
  .chain((ids) => fc.nat({ max: ids.length }).map((k) => ({ voters: ids.slice(0, k), learners: ids.slice(k) })));

const messageArb: fc.Arbitrary<Message> = fc
  .record({
    type: fc.integer({ min: 1, max: 14 }),
    to: id,
    from: id,
    term: u,
    logTerm: u,
    index: small,
    commit: u,
    reject: fc.boolean(),
    rejectHint: u,
    context: bytes,
    entryCount: fc.nat({ max: 5 }),
    entryData: fc.array(bytes, { maxLength: 5 }),
    entryTerm: u,
    snap: fc.record({ index: fc.integer({ min: 1, max: 1e9 }), term: u, confState, data: bytes }),
  })
  .map((r) => {
    const type = r.type as MessageType;
    const canReject = type === MessageType.AppendResponse || type === MessageType.VoteResponse || type === MessageType.PreVoteResponse;
    const withEntries = type === MessageType.Append || type === MessageType.Propose;
    const entries = withEntries
      ? r.entryData.map((data, k) => ({ term: r.entryTerm, index: r.index + 1 + k, type: k % 2 === 0 ? EntryType.Normal : EntryType.ConfChange, data }))
      : [];
    return {
      type,
      to: r.to,
      from: r.from,
      term: r.term,
      logTerm: r.logTerm,
      index: r.index,
      entries,
      commit: r.commit,
      reject: canReject && r.reject,
      rejectHint: r.rejectHint,
      snapshot: type === MessageType.Snapshot ? { data: r.snap.data, metadata: { index: r.snap.index, term: r.snap.term, confState: r.snap.confState } } : null,
      context: r.context,
    } as Message;
  });

function onlyDecodeErrors(f: () => unknown): void {
  try {
    f();
  } catch (err) {
    if (!(err instanceof DecodeError)) throw err;
  }
}

describe('raft codec', () => {
  it('codec round trip: every message decodes to what was encoded', () => {
    fc.assert(
      fc.property(messageArb, (m) => {
        expect(decodeMessage(encodeMessage(m))).toEqual(m);
      }),
      { seed: 42, numRuns: 500 },
    );
  });

  it("decoded entries own their data: reusing the message's bytes (the transport's buffer) changes none", () => {
    fc.assert(
      fc.property(messageArb, (m) => {
        const wire = encodeMessage(m);
        const decoded = decodeMessage(wire);
        // A transport may hand over a Buffer, whose slice is a view: entries still get a copy.
        const fromBuffer = Buffer.from(wire);
        const entriesFromBuffer = decodeMessage(fromBuffer).entries;
        const entry = decodeEntry(encodeEntry({ term: 1, index: 1, type: EntryType.Normal, data: new Uint8Array([1, 2, 3]) }));
        wire.fill(0xee);
        fromBuffer.fill(0xee);
        expect(decoded).toEqual(m);
        expect(entriesFromBuffer).toEqual(m.entries);
        expect(entry.data).toEqual(new Uint8Array([1, 2, 3]));
        // One copy per message: every entry's data is a view of the same buffer, not of `wire`.
        const buffers = new Set(decoded.entries.map((e) => e.data.buffer));
        expect(buffers.size).toBeLessThanOrEqual(1);
        for (const b of buffers) expect(b).not.toBe(wire.buffer);
      }),
      { seed: 43, numRuns: 300 },
    );
  });

  it('codec round trip: entries, hard state and configuration-change data', () => {
    fc.assert(
      fc.property(u, fc.integer({ min: 1, max: 1e12 }), bytes, u, u, (term, index, data, vote, commit) => {
        const e = { term, index, type: EntryType.Normal, data };
        expect(decodeEntry(encodeEntry(e))).toEqual(e);
        expect(decodeHardState(encodeHardState({ term, vote, commit }))).toEqual({ term, vote, commit });
      }),
      { seed: 43, numRuns: 300 },
    );
    const d = { change: { type: ConfChangeType.AddLearner, nodeId: 9, context: new Uint8Array([1, 2]) }, confState: { voters: [1, 2], learners: [9] } };
    expect(decodeConfChangeData(encodeConfChangeData(d))).toEqual(d);
  });

  it('round-trips a forwarded proposal whose entries have no index yet, and rejects index 0 elsewhere', () => {
    const m: Message = {
      type: MessageType.Propose, to: 1, from: 2, term: 0, logTerm: 0, index: 0, commit: 0, reject: false, rejectHint: 0, snapshot: null,
      context: new Uint8Array(),
      entries: [{ term: 0, index: 0, type: EntryType.Normal, data: new Uint8Array([7]) }],
    };
    expect(decodeMessage(encodeMessage(m))).toEqual(m);
    expect(() => decodeMessage(encodeMessage({ ...m, type: MessageType.Append }))).toThrow(DecodeError);
    expect(() => decodeMessage(encodeMessage({ ...m, entries: [], reject: true }))).toThrow(DecodeError);
  });

  it('starts with a version byte and rejects other versions', () => {
    const b = encodeMessage(fc.sample(messageArb, { seed: 1, numRuns: 1 })[0]!);
    expect(b[0]).toBe(1);
    b[0] = 2;
    expect(() => decodeMessage(b)).toThrow(DecodeError);
  });

  it('rejects trailing bytes, unknown types, bad flags and non-consecutive append entries', () => {
    const m: Message = fc.sample(messageArb, { seed: 5, numRuns: 1 })[0]!;
    const b = encodeMessage(m);
    expect(() => decodeMessage(new Uint8Array([...b, 0]))).toThrow(DecodeError);
    const t = b.slice();
    t[1] = 99;
    expect(() => decodeMessage(t)).toThrow(DecodeError);
    const app: Message = {
      ...m,
      type: MessageType.Append,
      snapshot: null,
      index: 5,
      entries: [
        { term: 1, index: 6, type: EntryType.Normal, data: new Uint8Array() },
        { term: 1, index: 8, type: EntryType.Normal, data: new Uint8Array() },
      ],
    };
    expect(() => decodeMessage(encodeMessage(app))).toThrow(DecodeError);
  });

  it('decoder fuzz: random bytes and mutated messages throw only DecodeError', () => {
    const prng = new Prng(2024);
    const samples = fc.sample(messageArb, { seed: 7, numRuns: 200 }).map(encodeMessage);
    for (let k = 0; k < 20_000; k++) {
      let input: Uint8Array;
      if (k % 3 === 0) {
        input = new Uint8Array(prng.int(64));
        for (let i = 0; i < input.length; i++) input[i] = prng.int(256);
        if (input.length > 0 && prng.chance(0.5)) input[0] = 1;
      } else {
        input = samples[prng.int(samples.length)]!.slice();
        const edits = 1 + prng.int(4);
        for (let e = 0; e < edits && input.length > 0; e++) {
          const at = prng.int(input.length);
          const op = prng.int(3);
          if (op === 0) input[at] = prng.int(256);
          else if (op === 1) input = input.slice(0, at);
          else input = new Uint8Array([...input.slice(0, at), prng.int(256), ...input.slice(at)]);
        }
      }
      onlyDecodeErrors(() => decodeMessage(input));
      onlyDecodeErrors(() => decodeEntry(input));
      onlyDecodeErrors(() => decodeHardState(input));
      onlyDecodeErrors(() => decodeConfChangeData(input));
    }
  });
});
