import { describe, expect, it } from 'vitest';
import { decodeCommand, encodeCommand } from '../../../core/src/kv/command-codec.ts';
import type { KvCommand } from '../../../core/src/kv/commands.ts';
import { KvLimitError } from '../../../core/src/kv/errors.ts';
import { DecodeError } from '../../../core/src/errors.ts';

const ks = 'default';

describe('command codec', () => {
  it('round-trips every command type', () => {
    const cmds: KvCommand[] = [
      { type: 'put', ks, key: 'a/b:c', value: { n: [1, 2.5, null, 'é'] }, ifVersion: 0, session: { clientId: 'c1', seq: 3 } },
      { type: 'delete', ks, key: 'k', ifVersion: 9 },
      { type: 'counter', ks: 'other', key: 'k', by: -1.5 },
      { type: 'set', ks, key: 's', add: ['a', 1], remove: [{ x: true }] },
      { type: 'batch', ks, ops: [{ op: 'put', key: 'a', value: 1, ifVersion: 4 }, { op: 'delete', key: 'b' }, { op: 'get', key: 'c', ifVersion: 0 }] },
    ];
    for (const cmd of cmds) expect(decodeCommand(encodeCommand(cmd))).toEqual(cmd);
  });

  it('enforces key and value limits with typed errors', () => {
    const err = (cmd: KvCommand, limits = {}) => {
      try {
        encodeCommand(cmd, limits);
      } catch (e) {
        expect(e).toBeInstanceOf(KvLimitError);
        return (e as KvLimitError).code;
      }
      return 'none';
    };
    expect(err({ type: 'put', ks, key: '', value: 1 })).toBe('KEY_INVALID');
    expect(err({ type: 'put', ks, key: '\ud800', value: 1 })).toBe('KEY_INVALID');
    expect(err({ type: 'put', ks, key: 'x'.repeat(1024), value: 1 })).toBe('none');
    expect(err({ type: 'put', ks, key: 'é'.repeat(513), value: 1 })).toBe('KEY_TOO_LARGE');
    expect(err({ type: 'put', ks, key: 'k', value: 'x'.repeat(100) }, { maxValueBytes: 64 })).toBe('VALUE_TOO_LARGE');
    expect(err({ type: 'put', ks, key: 'k', value: 'x'.repeat(2 * 1024 * 1024) })).toBe('VALUE_TOO_LARGE');
    expect(err({ type: 'put', ks, key: 'k', value: undefined as never })).toBe('COMMAND_INVALID');
    expect(err({ type: 'put', ks: 'bad ks', key: 'k', value: 1 })).toBe('COMMAND_INVALID');
    expect(err({ type: 'put', ks, key: 'k', value: 1, ifVersion: -1 })).toBe('COMMAND_INVALID');
    expect(err({ type: 'counter', ks, key: 'k', by: Number.NaN })).toBe('COMMAND_INVALID');
    expect(err({ type: 'batch', ks, ops: [] })).toBe('COMMAND_INVALID');
  });

  it('the decoder rejects truncation, unknown versions and trailing bytes', () => {
    const bytes = encodeCommand({ type: 'put', ks, key: 'k', value: 'v' });
    for (let n = 0; n < bytes.length; n++) expect(() => decodeCommand(bytes.subarray(0, n))).toThrow(DecodeError);
    const v2 = bytes.slice();
    v2[0] = 2;
    expect(() => decodeCommand(v2)).toThrow(/unknown command format/);
    expect(() => decodeCommand(new Uint8Array([...bytes, 0]))).toThrow(/trailing/);
    const op = bytes.slice();
    op[1] = 77;
    expect(() => decodeCommand(op)).toThrow(/opcode/);
    expect(() => decodeCommand(encodeCommand({ type: 'put', ks, key: 'k', value: 'x'.repeat(100) }), { maxValueBytes: 64 })).toThrow(DecodeError);
  });
});
