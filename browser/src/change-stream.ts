// subscribe(pattern) as an async iterator: changes of matching keys (local and remote)
// queue until the consumer reads them. The queue is bounded: a consumer that falls more
// than `maxQueued` changes behind gets a SubscriptionOverflowError instead of unbounded
// memory. Ending the loop (break/return) unsubscribes.
import type { ChangeEvent, Replica } from '../../core/src/doc/replica.ts';
import { SubscriptionOverflowError } from './errors.ts';

export interface Change {
  readonly key: string;
  readonly value: unknown;
  readonly deleted: boolean;
  readonly origin: 'local' | 'remote';
}

export class ChangeStream implements AsyncIterableIterator<Change> {
  private readonly queue: Change[] = [];
  private waiting: { resolve: (r: IteratorResult<Change>) => void; reject: (e: unknown) => void } | undefined;
  private readonly unsubscribe: () => void;
  private done = false;
  private overflow: SubscriptionOverflowError | undefined;

  constructor(replica: Replica, pattern: string, private readonly maxQueued = 10_000) {
    this.unsubscribe = replica.subscribe(pattern, (e) => this.push(e));
  }

  private push(e: ChangeEvent): void {
    if (this.done) return;
    const change: Change = { key: e.key, value: e.value, deleted: e.deleted, origin: e.origin };
    if (this.waiting !== undefined) {
      const w = this.waiting;
      this.waiting = undefined;
      w.resolve({ value: change, done: false });
      return;
    }
    if (this.queue.length >= this.maxQueued) {
      this.overflow = new SubscriptionOverflowError(`subscriber fell more than ${this.maxQueued} changes behind`);
      this.finish();
      return;
    }
    this.queue.push(change);
  }

  next(): Promise<IteratorResult<Change>> {
    const c = this.queue.shift();
    if (c !== undefined) return Promise.resolve({ value: c, done: false });
    if (this.overflow !== undefined) {
      const e = this.overflow;
      this.overflow = undefined;
      return Promise.reject(e);
    }
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => (this.waiting = { resolve, reject }));
  }

  return(): Promise<IteratorResult<Change>> {
    this.finish();
    this.queue.length = 0;
    return Promise.resolve({ value: undefined, done: true });
  }

  /** Ends the stream (the client closed); a waiting reader gets `done`. */
  finish(): void {
    if (this.done) return;
    this.done = true;
    this.unsubscribe();
    const w = this.waiting;
    this.waiting = undefined;
    w?.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<Change> {
    return this;
  }
}
