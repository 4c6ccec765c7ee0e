// The replicated key-value state machine the simulator runs on top of Raft: get, put,
// delete and compare-and-set, with a client session table so that a retried or duplicated
// command is applied exactly once (Raft dissertation §6.3).
import type { KvInput, KvOutput } from './checkers/linearizability.ts';

export interface KvCommand {
  clientId: number;
  seq: number;
  input: KvInput;
}

const te = new TextEncoder();
const td = new TextDecoder();

export function encodeCommand(c: KvCommand): Uint8Array {
  return te.encode(JSON.stringify(c));
}

export function decodeCommand(b: Uint8Array): KvCommand {
  return JSON.parse(td.decode(b)) as KvCommand;
}

interface Session {
  seq: number;
  output: KvOutput;
}

export class KvStateMachine {
  data = new Map<string, string>();
  sessions = new Map<number, Session>();
  /** Index of the last applied entry. */
  appliedIndex = 0;

  /** Applies a write; returns its output (the cached one for a duplicate). */
  apply(index: number, c: KvCommand): KvOutput {
    this.appliedIndex = index;
    const s = this.sessions.get(c.clientId);
    if (s !== undefined && c.seq <= s.seq) return s.output;
    const output = this.execute(c.input);
    this.sessions.set(c.clientId, { seq: c.seq, output });
    return output;
  }

  private execute(input: KvInput): KvOutput {
    switch (input.kind) {
      case 'put':
        this.data.set(input.key, input.value);
        return {};
      case 'delete':
        this.data.delete(input.key);
        return {};
      case 'cas': {
        const cur = this.data.get(input.key) ?? null;
        if (cur !== input.expected) return { ok: false };
        this.data.set(input.key, input.value);
        return { ok: true };
      }
      case 'get':
        return { value: this.data.get(input.key) ?? null };
    }
  }

  read(key: string): string | null {
    return this.data.get(key) ?? null;
  }

  snapshot(): Uint8Array {
    return te.encode(JSON.stringify({ d: [...this.data], s: [...this.sessions], i: this.appliedIndex }));
  }

  static restore(b: Uint8Array): KvStateMachine {
    const kv = new KvStateMachine();
    if (b.length === 0) return kv;
    const o = JSON.parse(td.decode(b)) as { d: [string, string][]; s: [number, Session][]; i: number };
    kv.data = new Map(o.d);
    kv.sessions = new Map(o.s);
    kv.appliedIndex = o.i;
    return kv;
  }
}
