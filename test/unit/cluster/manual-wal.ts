// The part of WriteAheadLog that the Ready loop uses (persist, bufferWrites, sync), with
// fsyncs the test finishes by hand: sync() waits until flush() (or flushLast(), out of
// order), or fails with fail(). It records what is durable, for ordering checks.
import type { MemoryStorage, RawNode, Ready } from '../../../core/src/raft/index.ts';
import type { Message } from '../../../core/src/raft/types.ts';
import type { PeerTransport } from '../../../server/src/cluster/peer-transport.ts';
import { RaftDriver } from '../../../server/src/cluster/raft-driver.ts';
import type { WriteAheadLog } from '../../../server/src/wal/wal.ts';

export class ManualWal {
  lastIndex = 1;
  readonly snapshot = { index: 0, term: 0, data: new Uint8Array(0) };
  private bufferedLast = 1;
  private bufferedHard = { term: 1, vote: '0', commit: 1 };
  durableLast = 1;
  durableHard = { term: 1, vote: '0', commit: 1 };
  private waiting: { done: () => void; fail: (e: Error) => void }[] = [];

  append(es: readonly { index: number }[]): void {
    this.bufferedLast = es[es.length - 1]!.index;
    this.lastIndex = this.bufferedLast;
  }
  truncateSuffix(): void {}
  setHardState(hs: { term: number; vote: string; commit: number }): void {
    this.bufferedHard = hs;
  }
  sync(): Promise<void> {
    const last = this.bufferedLast;
    const hard = this.bufferedHard;
    return new Promise((resolve, reject) =>
      this.waiting.push({
        done: () => {
          this.durableLast = Math.max(this.durableLast, last);
          this.durableHard = hard;
          resolve();
        },
        fail: reject,
      }),
    );
  }
  get syncsWaiting(): number {
    return this.waiting.length;
  }
  /** Finishes every sync waiting now. */
  flush(): void {
    const w = this.waiting;
    this.waiting = [];
    for (const f of w) f.done();
  }
  /** Finishes only the newest sync (a completion out of order). */
  flushLast(): void {
    this.waiting.pop()?.done();
  }
  /** Fails every sync waiting now. */
  fail(e: Error): void {
    const w = this.waiting;
    this.waiting = [];
    for (const f of w) f.fail(e);
  }
}

export const turns = async (n = 5): Promise<void> => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

/**
 * A started RaftDriver over `wal` that only the test drives (no ticks, no snapshots): its
 * messages go to `send`, each committed entry it applies to `applied`.
 */
export function manualDriver(o: {
  node: RawNode;
  storage: MemoryStorage;
  wal: ManualWal;
  send: (m: Message) => void;
  applied: (index: number) => void;
  onFatal: (cause: unknown) => void;
}): RaftDriver {
  const transport = {
    send: (ms: readonly Message[]) => {
      for (const m of ms) o.send(m);
    },
  } as unknown as PeerTransport;
  const driver = new RaftDriver({
    node: o.node,
    wal: o.wal as unknown as WriteAheadLog,
    storage: o.storage,
    transport,
    tickMs: 3_600_000, // no ticks: the test drives everything
    snapshotDir: '/nonexistent',
    onReady: (rd: Ready) => {
      for (const e of rd.committedEntries) o.applied(e.index);
    },
    onFatal: o.onFatal,
  });
  driver.start();
  return driver;
}
