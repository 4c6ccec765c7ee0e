// ReadIndex bookkeeping on the leader (Raft dissertation §6.4): each read records the
// commit index when it arrived and completes once a quorum has answered a heartbeat sent
// after it, which proves no newer leader existed at that moment.
import type { Message, NodeId } from './types.ts';

/** A completed read: the shell may answer it once it has applied up to `index`. */
export interface ReadState {
  index: number;
  context: Uint8Array;
}

interface ReadIndexStatus {
  req: Message;
  index: number;
  acks: Set<NodeId>;
}

/** Upper bound on reads waiting for a heartbeat quorum; more are dropped (the client retries). */
export const MAX_PENDING_READS = 4096;

export function contextKey(ctx: Uint8Array): string {
  let s = '';
  for (let i = 0; i < ctx.length; i++) s += String.fromCharCode(ctx[i]!);
  return s;
}

export class ReadOnly {
  private pending: Map<string, ReadIndexStatus>;
  /** Keys in arrival order. */
  private queue: string[];

  constructor() {
    this.pending = new Map();
    this.queue = [];
  }

  /** Records a read at commit index `index`. Returns false if it is a duplicate or over the limit. */
  addRequest(index: number, req: Message): boolean {
    const key = contextKey(req.context);
    if (this.pending.has(key) || this.queue.length >= MAX_PENDING_READS) return false;
    this.pending.set(key, { req, index, acks: new Set() });
    this.queue.push(key);
    return true;
  }

  /** Records a heartbeat ack for a read; returns the acks so far (undefined if unknown). */
  recvAck(id: NodeId, ctx: Uint8Array): Set<NodeId> | undefined {
    const rs = this.pending.get(contextKey(ctx));
    if (rs === undefined) return undefined;
    rs.acks.add(id);
    return rs.acks;
  }

  /** Completes the read with this context and every read queued before it. */
  advance(ctx: Uint8Array): ReadIndexStatus[] {
    const key = contextKey(ctx);
    const at = this.queue.indexOf(key);
    if (at < 0) return [];
    const done: ReadIndexStatus[] = [];
    for (let k = 0; k <= at; k++) {
      const rs = this.pending.get(this.queue[k]!);
      if (rs !== undefined) done.push(rs);
      this.pending.delete(this.queue[k]!);
    }
    this.queue = this.queue.slice(at + 1);
    return done;
  }

  lastPendingContext(): Uint8Array | undefined {
    if (this.queue.length === 0) return undefined;
    return this.pending.get(this.queue[this.queue.length - 1]!)!.req.context;
  }

  size(): number {
    return this.queue.length;
  }

  reset(): void {
    this.pending.clear();
    this.queue = [];
  }
}
