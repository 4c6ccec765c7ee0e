// The replicated key-value state machine. Raft (or the single-node LocalNode) hands it
// committed commands in log order; apply() answers each one. A key's `version` is the log
// index of its last write; `ifVersion: 0` means "must not exist"; a failed precondition or a
// type mismatch changes nothing. Every apply ends in one atomic storage batch that also
// records the applied index, so storage never holds half a command.
import { canonicalJson, type JsonValue } from '../codec/json-value.ts';
import { Reader } from '../codec/reader.ts';
import { Writer } from '../codec/writer.ts';
import { assert } from '../errors.ts';
import type { BatchCommand, BatchOpResult, KvChange, KvCommand, KvEntry, KvResult } from './commands.ts';
import { decodeCommand, type CommandLimits } from './command-codec.ts';
import { type CrdtApplied, type CrdtKeyspace, CrdtKeyspaces } from './crdt-keyspaces.ts';
import type { StoredCrdtDelta } from './crdt-tail.ts';
import { decodeEntry, encodeEntry } from './record-codec.ts';
import { DEFAULT_MAX_SESSIONS, SessionTable, sessionKey } from './session-table.ts';
import { prefixEnd, type KvStorage, type StorageOp } from './storage.ts';

export const DATA_PREFIX = 'd';
export const META_APPLIED_KEY = 'm:applied';

export function dataKey(ks: string, key: string): string {
  return `${DATA_PREFIX}${ks}\u0000${key}`;
}

export interface KvStateMachineOptions {
  /** Bound of the client session table; default 100,000. */
  readonly maxSessions?: number;
  readonly limits?: CommandLimits;
}

export interface ApplyOutcome {
  readonly result: KvResult;
  /** The key changes this command made, in op order (empty when it failed or was a retry). */
  readonly changes: readonly KvChange[];
  /** True when the answer came from the session table (a retried request). */
  readonly duplicate: boolean;
}

/**
 * The writes of one command, made straight into the pending writes of its apply batch
 * (`pending`, which nothing reads but this batch until it commits). A command that can fail
 * after it wrote (a batch whose later op conflicts) asks for an undo log first (keepUndo) and
 * is rolled back; the others check before they write. One per apply batch, re-aimed at each
 * command with begin(): a plain put costs a map set and its change record, as before the
 * general path and the blind-put shortcut were one.
 */
class Overlay {
  /** The keys the current command wrote and what `pending` held for each before (undefined: absent). */
  private readonly undoKeys: string[] = [];
  private readonly undoEntries: (KvEntry | null | undefined)[] = [];
  private ks = '';
  private undoable = false;
  /** The current command's changes, in op order (a fresh list per command: outcomes keep it). */
  changes: KvChange[] = [];

  constructor(
    private readonly storage: KvStorage,
    private readonly pending: Map<string, KvEntry | null>,
  ) {}

  begin(ks: string): void {
    this.ks = ks;
    this.changes = [];
    this.undoable = false;
    this.undoKeys.length = 0;
    this.undoEntries.length = 0;
  }

  /** The current command may fail after writing: record what each write replaces. */
  keepUndo(): void {
    this.undoable = true;
  }

  get(key: string): KvEntry | undefined {
    const k = dataKey(this.ks, key);
    const earlier = this.pending.get(k);
    if (earlier !== undefined) return earlier ?? undefined;
    const bytes = this.storage.get(k);
    return bytes === undefined ? undefined : decodeEntry(bytes);
  }

  put(key: string, entry: KvEntry): void {
    this.write(dataKey(this.ks, key), entry);
    this.changes.push({ ks: this.ks, key, version: entry.version, deleted: false, type: entry.type, value: entry.value });
  }

  delete(key: string, version: number): void {
    this.write(dataKey(this.ks, key), null);
    this.changes.push({ ks: this.ks, key, version, deleted: true });
  }

  /** Undoes the current command's writes, newest first (a key written twice ends as before both). */
  rollback(): void {
    assert(this.undoable || this.changes.length === 0, 'a command without an undo log failed after writing');
    for (let i = this.undoKeys.length - 1; i >= 0; i--) {
      const before = this.undoEntries[i];
      if (before === undefined) this.pending.delete(this.undoKeys[i]!);
      else this.pending.set(this.undoKeys[i]!, before);
    }
    this.changes = [];
  }

  private write(k: string, entry: KvEntry | null): void {
    if (this.undoable) {
      this.undoKeys.push(k);
      this.undoEntries.push(this.pending.get(k));
    }
    this.pending.set(k, entry);
  }
}

/** One committed command and its log index, for applyBatch. */
export interface IndexedCommand {
  readonly command: KvCommand;
  readonly index: number;
}

export class KvStateMachine {
  private readonly storage: KvStorage;
  private readonly sessions: SessionTable;
  private readonly limits: CommandLimits;
  private readonly writer = new Writer();
  private readonly crdt: CrdtKeyspaces;
  private readonly crdtListeners = new Set<(applied: CrdtApplied) => void>();
  /** Invariant: equals the applied index stored under META_APPLIED_KEY. */
  private applied: number;

  constructor(storage: KvStorage, options: KvStateMachineOptions = {}) {
    this.storage = storage;
    this.limits = options.limits ?? {};
    this.sessions = new SessionTable(storage, options.maxSessions ?? DEFAULT_MAX_SESSIONS);
    this.crdt = new CrdtKeyspaces(storage);
    this.applied = readApplied(storage);
  }

  /** A keyspace's replicated CRDT state, undefined before its first committed delta. */
  crdtKeyspace(ks: string): CrdtKeyspace | undefined {
    return this.crdt.get(ks);
  }

  /**
   * Where the stored sync log of keyspace `ks` starts (the deltas after it, in records of at
   * most `maxBytes` in all, can be read back); undefined before its first delta.
   */
  crdtLogStart(ks: string, maxBytes?: number): number | undefined {
    return this.crdt.logStart(ks, maxBytes);
  }

  /** Stored deltas of `ks` after `after` (≥ crdtLogStart), bounded; see CrdtKeyspaces.readLog. */
  readCrdtLog(ks: string, after: number, maxBytes: number, maxEntries: number): StoredCrdtDelta[] {
    return this.crdt.readLog(ks, after, maxBytes, maxEntries);
  }

  /** Called after each stored apply batch with the CRDT deltas it joined, per keyspace. */
  onCrdtApplied(listener: (applied: CrdtApplied) => void): () => void {
    this.crdtListeners.add(listener);
    return () => this.crdtListeners.delete(listener);
  }

  /** Log index of the last applied command (0 before any). */
  get appliedIndex(): number {
    return this.applied;
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  /** Re-reads derived state after storage was replaced (snapshot restore). */
  reload(): void {
    this.applied = readApplied(this.storage);
    this.sessions.reload();
    this.crdt.reload();
  }

  /** Decodes a log entry's bytes (DecodeError when malformed) and applies it. */
  applyEncoded(bytes: Uint8Array, logIndex: number): ApplyOutcome {
    return this.apply(decodeCommand(bytes, this.limits), logIndex);
  }

  /** Records that a log entry without a command (Raft no-op, config change) was applied. */
  skipEntry(logIndex: number): void {
    assert(logIndex > this.applied, `log index ${logIndex} not after applied ${this.applied}`);
    this.storage.batch([metaOp(logIndex)]);
    this.applied = logIndex;
  }

  apply(cmd: KvCommand, logIndex: number): ApplyOutcome {
    return this.applyBatch([{ command: cmd, index: logIndex }])[0]!;
  }

  /**
   * Applies consecutive committed commands with one storage batch for all of them (what a
   * Raft driver does with the committed entries of one Ready). Each command sees the writes
   * of the commands before it; the answers are exactly those of applying them one by one.
   */
  applyBatch(items: readonly IndexedCommand[]): ApplyOutcome[] {
    const pending = new Map<string, KvEntry | null>();
    const sessionOps: StorageOp[] = [];
    const sessionAnswers = new Map<string, KvResult>();
    const outcomes: ApplyOutcome[] = [];
    const tx = new Overlay(this.storage, pending);
    let last = this.applied;
    for (const { command, index } of items) {
      assert(index > last, `log index ${index} not after applied ${last}`);
      last = index;
      const session = command.session;
      if (session !== undefined && this.sessions.has(session)) {
        const first = sessionAnswers.get(sessionKey(session)) ?? this.sessions.lookup(session);
        if (first !== undefined) {
          outcomes.push({ result: first, changes: [], duplicate: true });
          continue;
        }
      }
      if (command.type === 'crdt') {
        this.crdt.apply(command, index);
        outcomes.push({ result: { status: 'ok', version: index }, changes: [], duplicate: false });
        continue;
      }
      tx.begin(command.ks);
      const result = execute(command, index, tx);
      if (result.status !== 'ok') tx.rollback();
      const changes = tx.changes;
      if (session !== undefined) {
        this.sessions.record(session, index, result, sessionOps);
        sessionAnswers.set(sessionKey(session), result);
      }
      outcomes.push({ result, changes, duplicate: false });
    }
    if (items.length === 0) return outcomes;
    const ops: StorageOp[] = [];
    for (const [key, entry] of pending) {
      ops.push(entry === null ? { type: 'delete', key } : { type: 'put', key, value: encodeEntry(entry, this.writer) });
    }
    for (const op of sessionOps) ops.push(op);
    this.crdt.takeOps(ops);
    ops.push(metaOp(last));
    this.storage.batch(ops);
    this.applied = last;
    for (const a of this.crdt.takeApplied()) for (const l of this.crdtListeners) l(a);
    return outcomes;
  }

  /** The local state of one key. */
  get(ks: string, key: string): KvEntry | undefined {
    const bytes = this.storage.get(dataKey(ks, key));
    return bytes === undefined ? undefined : decodeEntry(bytes);
  }

  /** Keys of keyspace `ks` starting with `prefix`, in order, at most `limit`. */
  *scan(ks: string, prefix: string, limit = Number.MAX_SAFE_INTEGER): Generator<{ key: string; entry: KvEntry }> {
    const start = dataKey(ks, prefix);
    const skip = dataKey(ks, '').length;
    for (const e of this.storage.range({ gte: start, lt: prefixEnd(start), limit })) {
      yield { key: e.key.slice(skip), entry: decodeEntry(e.value) };
    }
  }
}

function metaOp(logIndex: number): StorageOp {
  const w = new Writer(8);
  w.varuint(logIndex);
  return { type: 'put', key: META_APPLIED_KEY, value: w.finish() };
}

function readApplied(storage: KvStorage): number {
  const bytes = storage.get(META_APPLIED_KEY);
  if (bytes === undefined) return 0;
  const r = new Reader(bytes);
  const v = r.varuint();
  r.end();
  return v;
}

function precondition(cur: KvEntry | undefined, ifVersion: number | undefined): boolean {
  return ifVersion === undefined || (cur?.version ?? 0) === ifVersion;
}

function execute(cmd: KvCommand, index: number, tx: Overlay): KvResult {
  switch (cmd.type) {
    case 'put': {
      // A blind put needs no read (and no decode) of the current entry.
      const cur = cmd.ifVersion === undefined ? undefined : tx.get(cmd.key);
      if (!precondition(cur, cmd.ifVersion)) return { status: 'conflict', key: cmd.key, version: cur?.version ?? 0 };
      tx.put(cmd.key, { type: 'register', value: cmd.value, version: index });
      return { status: 'ok', version: index };
    }
    case 'delete': {
      const cur = tx.get(cmd.key);
      if (cur === undefined && (cmd.ifVersion === undefined || cmd.ifVersion === 0)) return { status: 'not_found', key: cmd.key };
      if (!precondition(cur, cmd.ifVersion)) return { status: 'conflict', key: cmd.key, version: cur?.version ?? 0 };
      tx.delete(cmd.key, index);
      return { status: 'ok', version: index };
    }
    case 'counter': {
      const cur = tx.get(cmd.key);
      if (cur !== undefined && cur.type !== 'counter') return { status: 'type_mismatch', key: cmd.key, actual: cur.type };
      const value = ((cur?.value as number | undefined) ?? 0) + cmd.by;
      tx.put(cmd.key, { type: 'counter', value, version: index });
      return { status: 'ok', version: index, value };
    }
    case 'set': {
      const cur = tx.get(cmd.key);
      if (cur !== undefined && cur.type !== 'set') return { status: 'type_mismatch', key: cmd.key, actual: cur.type };
      const elements = new Map<string, JsonValue>();
      for (const v of (cur?.value as JsonValue[] | undefined) ?? []) elements.set(canonicalJson(v), v);
      for (const v of cmd.add) elements.set(canonicalJson(v), v);
      for (const v of cmd.remove) elements.delete(canonicalJson(v));
      const keys = [...elements.keys()].sort();
      const values = keys.map((k) => elements.get(k)!);
      tx.put(cmd.key, { type: 'set', value: values, version: index });
      return { status: 'ok', version: index, values };
    }
    case 'batch':
      return executeBatch(cmd, index, tx);
    case 'crdt':
      throw new Error('crdt commands are applied by CrdtKeyspaces');
  }
}

function executeBatch(cmd: BatchCommand, index: number, tx: Overlay): KvResult {
  tx.keepUndo(); // a later op's conflict fails the ops before it
  const results: BatchOpResult[] = [];
  for (const op of cmd.ops) {
    const cur = op.op === 'put' && op.ifVersion === undefined ? undefined : tx.get(op.key);
    if (!precondition(cur, op.ifVersion)) return { status: 'conflict', key: op.key, version: cur?.version ?? 0 };
    switch (op.op) {
      case 'put':
        tx.put(op.key, { type: 'register', value: op.value, version: index });
        results.push({ op: 'put', key: op.key, version: index });
        break;
      case 'delete':
        if (cur !== undefined) tx.delete(op.key, index);
        results.push({ op: 'delete', key: op.key, found: cur !== undefined, version: index });
        break;
      case 'get':
        results.push(
          cur === undefined
            ? { op: 'get', key: op.key, found: false }
            : { op: 'get', key: op.key, found: true, type: cur.type, value: cur.value, version: cur.version },
        );
        break;
    }
  }
  return { status: 'ok', version: index, results };
}
