import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeCommand, encodeCommand } from '../../core/src/kv/command-codec.ts';
import { decodeResult, encodeResult } from '../../core/src/kv/record-codec.ts';
import type { KvCommand } from '../../core/src/kv/commands.ts';
import { KvStateMachine } from '../../core/src/kv/state-machine.ts';
import { MemoryKvStorage } from '../../core/src/testing/memory-kv-storage.ts';
import { DecodeError } from '../../core/src/errors.ts';

const seed = Number(process.env.FC_SEED ?? 20261125);
const json = fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.parse(JSON.stringify(v)) as never);
const key = fc.string({ minLength: 1, maxLength: 12, unit: 'grapheme' });
const ver = fc.option(fc.nat(20), { nil: undefined });
const withVersion = <T extends object>(o: T, v: number | undefined) => (v === undefined ? o : { ...o, ifVersion: v });
const command: fc.Arbitrary<KvCommand> = fc.oneof(
  fc.tuple(key, json, ver).map(([k, value, v]) => withVersion({ type: 'put' as const, ks: 'default', key: k, value }, v)),
  fc.tuple(key, ver).map(([k, v]) => withVersion({ type: 'delete' as const, ks: 'default', key: k }, v)),
  fc.tuple(key, fc.integer({ min: -5, max: 5 })).map(([k, by]) => ({ type: 'counter' as const, ks: 'default', key: k, by })),
  fc.tuple(key, fc.array(json, { maxLength: 3 }), fc.array(json, { maxLength: 2 })).map(([k, add, remove]) => ({ type: 'set' as const, ks: 'default', key: k, add, remove })),
  fc
    .array(
      fc.oneof(
        fc.tuple(key, json, ver).map(([k, value, v]) => withVersion({ op: 'put' as const, key: k, value }, v)),
        fc.tuple(key, ver).map(([k, v]) => withVersion({ op: 'delete' as const, key: k }, v)),
        fc.tuple(key, ver).map(([k, v]) => withVersion({ op: 'get' as const, key: k }, v)),
      ),
      { minLength: 1, maxLength: 4 },
    )
    .map((ops) => ({ type: 'batch' as const, ks: 'default', ops })),
);

describe('kv codec properties', () => {
  it('every command round-trips through its encoding', () => {
    fc.assert(fc.property(command, (cmd) => {
      expect(decodeCommand(encodeCommand(cmd))).toEqual(cmd);
    }), { seed, numRuns: 300 });
  });

  it('any byte flip either decodes to a valid command or throws DecodeError, never anything else', () => {
    fc.assert(
      fc.property(command, fc.nat(), fc.integer({ min: 1, max: 255 }), (cmd, at, x) => {
        const bytes = encodeCommand(cmd);
        bytes[at % bytes.length] ^= x;
        try {
          const back = decodeCommand(bytes);
          expect(decodeCommand(encodeCommand(back))).toEqual(back);
        } catch (e) {
          expect(e).toBeInstanceOf(DecodeError);
        }
      }),
      { seed, numRuns: 500 },
    );
  });

  it('applying commands: every result round-trips and two replicas agree', () => {
    fc.assert(
      fc.property(fc.array(command, { maxLength: 25 }), (cmds) => {
        const a = new KvStateMachine(new MemoryKvStorage());
        const b = new KvStateMachine(new MemoryKvStorage());
        cmds.forEach((cmd, i) => {
          const ra = a.apply(cmd, i + 1).result;
          const rb = b.applyEncoded(encodeCommand(cmd), i + 1).result;
          expect(rb).toEqual(ra);
          expect(decodeResult(encodeResult(ra))).toEqual(ra);
        });
        expect([...a.scan('default', '')]).toEqual([...b.scan('default', '')]);
      }),
      { seed, numRuns: 200 },
    );
  });

  it('applyBatch in random chunks answers and stores exactly like applying one by one', () => {
    const withSessions = fc.array(fc.tuple(command, fc.option(fc.integer({ min: 0, max: 6 }), { nil: undefined })), { maxLength: 30 });
    fc.assert(
      fc.property(withSessions, fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 10 }), fc.integer({ min: 1, max: 4 }), (items, chunks, maxSessions) => {
        const cmds = items.map(([cmd, seq]) => (seq === undefined ? cmd : { ...cmd, session: { clientId: 'c', seq } }));
        const one = new MemoryKvStorage();
        const many = new MemoryKvStorage();
        const a = new KvStateMachine(one, { maxSessions });
        const b = new KvStateMachine(many, { maxSessions });
        const seq = cmds.map((cmd, i) => a.apply(cmd, i + 1));
        const batched: ReturnType<KvStateMachine['applyBatch']> = [];
        let at = 0;
        for (let c = 0; at < cmds.length; c++) {
          const size = chunks[c % chunks.length]!;
          const slice = cmds.slice(at, at + size).map((command, j) => ({ command, index: at + j + 1 }));
          batched.push(...b.applyBatch(slice));
          at += size;
        }
        expect(batched).toEqual(seq);
        expect([...many.range({})]).toEqual([...one.range({})]);
        expect(b.appliedIndex).toBe(a.appliedIndex);
      }),
      { seed, numRuns: 300 },
    );
  });
});
