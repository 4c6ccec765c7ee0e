// The acceptance suite every KvStorage adapter must pass (memory here; LMDB, LevelDB and the
// caching layer in server/). Framework-neutral: a case is a named function that throws on
// failure, and runKvStorageContract registers them with any describe/it pair (vitest's).
import { assert } from '../errors.ts';
import type { KvStorage, StorageEntry } from '../kv/storage.ts';

export interface StorageHarness {
  /** A fresh, empty storage. */
  open(): KvStorage | Promise<KvStorage>;
  /** Releases it (close the engine, delete the directory). */
  close?(storage: KvStorage): void | Promise<void>;
  /** Closes and opens the same data again; omit for storage without persistence. */
  reopen?(storage: KvStorage): KvStorage | Promise<KvStorage>;
}

export interface ContractTestApi {
  describe(name: string, fn: () => void): void;
  it(name: string, fn: () => Promise<void>): void;
}

export interface StorageContractCase {
  readonly name: string;
  run(storage: KvStorage, harness: StorageHarness): Promise<KvStorage | void>;
}

const enc = new TextEncoder();
const bytes = (s: string): Uint8Array => enc.encode(s);

function sameBytes(a: Uint8Array | undefined, b: Uint8Array | undefined, what: string): void {
  assert(a !== undefined && b !== undefined, `${what}: missing value`);
  assert(a.length === b.length, `${what}: length ${a.length} != ${b.length}`);
  for (let i = 0; i < a.length; i++) assert(a[i] === b[i], `${what}: byte ${i} differs`);
}

function keysOf(entries: Iterable<StorageEntry>): string[] {
  const out: string[] = [];
  for (const e of entries) out.push(e.key);
  return out;
}

function sameList(actual: string[], expected: string[], what: string): void {
  assert(JSON.stringify(actual) === JSON.stringify(expected), `${what}: got ${JSON.stringify(actual)}, want ${JSON.stringify(expected)}`);
}

// Keys chosen so that UTF-16 order and code point order disagree ('\uFFFF' vs an astral
// character), with the NUL separator the state machine puts inside its keys.
const ORDERED_KEYS = ['', 'a', 'a\u0000', 'a\u0000b', 'ab', 'b', '\u00e9', '\uffee', '\u{1F600}', '\u{10FFFF}'].slice(1);

export const kvStorageContractCases: readonly StorageContractCase[] = [
  {
    name: 'get of a missing key is undefined',
    async run(s) {
      assert(s.get('nope') === undefined, 'missing key returned a value');
    },
  },
  {
    name: 'put then get returns the same bytes, including empty and 1 MiB values',
    async run(s) {
      s.put('k', bytes('v1'));
      sameBytes(s.get('k'), bytes('v1'), 'k');
      s.put('empty', new Uint8Array(0));
      const e = s.get('empty');
      assert(e !== undefined && e.length === 0, 'empty value lost');
      const big = new Uint8Array(1024 * 1024);
      for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;
      s.put('big', big);
      sameBytes(s.get('big'), big, 'big');
    },
  },
  {
    name: 'a stored value does not alias the caller buffer',
    async run(s) {
      const v = bytes('abc');
      s.put('k', v);
      v[0] = 0x7a;
      sameBytes(s.get('k'), bytes('abc'), 'k');
    },
  },
  {
    name: 'put overwrites and delete removes; deleting a missing key is a no-op',
    async run(s) {
      s.put('k', bytes('1'));
      s.put('k', bytes('2'));
      sameBytes(s.get('k'), bytes('2'), 'k');
      s.delete('k');
      assert(s.get('k') === undefined, 'deleted key still present');
      s.delete('k');
      s.delete('never');
      sameList(keysOf(s.range({})), [], 'range after deletes');
    },
  },
  {
    name: 'range is in code point order (UTF-8 byte order), NUL inside keys included',
    async run(s) {
      const shuffled = [...ORDERED_KEYS].reverse();
      for (const k of shuffled) s.put(k, bytes(k));
      sameList(keysOf(s.range({})), ORDERED_KEYS, 'full range');
      for (const e of s.range({})) sameBytes(e.value, bytes(e.key), `value of ${JSON.stringify(e.key)}`);
    },
  },
  {
    name: 'range honours gte, lt and limit',
    async run(s) {
      for (const k of ['p:1', 'p:2', 'p:3', 'q:1', 'o:9']) s.put(k, bytes(k));
      sameList(keysOf(s.range({ gte: 'p:', lt: 'p;' })), ['p:1', 'p:2', 'p:3'], 'prefix');
      sameList(keysOf(s.range({ gte: 'p:2' })), ['p:2', 'p:3', 'q:1'], 'gte');
      sameList(keysOf(s.range({ lt: 'p:2' })), ['o:9', 'p:1'], 'lt');
      sameList(keysOf(s.range({ gte: 'p:', limit: 2 })), ['p:1', 'p:2'], 'limit');
      sameList(keysOf(s.range({ gte: 'z' })), [], 'past the end');
    },
  },
  {
    name: 'batch applies every op in order (later ops on a key win)',
    async run(s) {
      s.put('gone', bytes('x'));
      s.batch([
        { type: 'put', key: 'a', value: bytes('1') },
        { type: 'put', key: 'b', value: bytes('2') },
        { type: 'delete', key: 'gone' },
        { type: 'put', key: 'a', value: bytes('3') },
        { type: 'put', key: 'c', value: bytes('4') },
        { type: 'delete', key: 'c' },
      ]);
      sameBytes(s.get('a'), bytes('3'), 'a');
      sameBytes(s.get('b'), bytes('2'), 'b');
      assert(s.get('c') === undefined, 'c should be deleted');
      assert(s.get('gone') === undefined, 'gone should be deleted');
      s.batch([]);
      sameList(keysOf(s.range({})), ['a', 'b'], 'keys');
    },
  },
  {
    name: 'many keys: range returns all of them sorted',
    async run(s) {
      const keys: string[] = [];
      for (let i = 0; i < 500; i++) keys.push(`key:${((i * 7919) % 500).toString().padStart(4, '0')}`);
      s.batch(keys.map((key) => ({ type: 'put' as const, key, value: bytes(key) })));
      const sorted = [...keys].sort();
      sameList(keysOf(s.range({})), sorted, 'all');
    },
  },
  {
    name: 'data survives a reopen (persistent adapters)',
    async run(s, harness) {
      s.batch([
        { type: 'put', key: 'x', value: bytes('1') },
        { type: 'put', key: 'y\u0000z', value: bytes('2') },
      ]);
      if (harness.reopen === undefined) return;
      const t = await harness.reopen(s);
      sameBytes(t.get('x'), bytes('1'), 'x after reopen');
      sameBytes(t.get('y\u0000z'), bytes('2'), 'y after reopen');
      return t;
    },
  },
];

/** Registers the contract suite: `runKvStorageContract({ describe, it }, 'lmdb', harness)`. */
export function runKvStorageContract(api: ContractTestApi, name: string, harness: StorageHarness): void {
  api.describe(`KvStorage contract: ${name}`, () => {
    for (const c of kvStorageContractCases) {
      api.it(c.name, async () => {
        let storage = await harness.open();
        try {
          const next = await c.run(storage, harness);
          if (next !== undefined) storage = next;
        } finally {
          await harness.close?.(storage);
        }
      });
    }
  });
}
