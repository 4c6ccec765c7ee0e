// GET /v1/watch?prefix=&fromVersion=&ks=: committed changes as a text/event-stream, one
// `data: {"key","value","version","deleted"}` event per change with `id: <version>`. A
// watcher that falls more than `maxQueuedEvents` behind is sent an `error` event and closed,
// so one slow reader cannot grow the node's memory without bound.
import type { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { KvChange } from '../../../core/src/kv/commands.ts';
import type { OriginNode } from '../node/origin-node.ts';
import { intQuery, keyspace } from './parse.ts';

export interface WatchRouteOptions {
  readonly maxQueuedEvents: number;
  readonly keepaliveMs: number;
}

export function registerWatchRoute(app: Hono, node: OriginNode, options: WatchRouteOptions): void {
  app.get('/v1/watch', (c) => {
    const ks = keyspace(c);
    const prefix = c.req.query('prefix') ?? '';
    const fromVersion = intQuery(c, 'fromVersion');
    const queue: KvChange[] = [];
    let overflow = false;
    let closed = false;
    let wake: (() => void) | null = null;
    const notify = (): void => {
      const w = wake;
      wake = null;
      w?.();
    };
    // Subscribed before the stream starts, so a node that cannot watch answers with the
    // typed error JSON instead of an empty 200 stream.
    const sub = node.watch(ks, prefix, fromVersion, (change) => {
      if (queue.length >= options.maxQueuedEvents) overflow = true;
      else queue.push(change);
      notify();
    });
    return streamSSE(c, async (stream) => {
      stream.onAbort(() => {
        closed = true;
        notify();
      });
      try {
        while (!closed && !stream.closed) {
          // Drains what is queued, then sleeps until a change, the keepalive or an abort.
          while (queue.length > 0 && !closed) {
            const ch = queue.shift()!;
            const event = { key: ch.key, value: ch.deleted ? null : ch.value, version: ch.version, deleted: ch.deleted };
            await stream.writeSSE({ data: JSON.stringify(event), id: String(ch.version) });
          }
          if (overflow) {
            await stream.writeSSE({ event: 'error', data: JSON.stringify({ error: { code: 'WATCH_OVERFLOW', message: 'watcher fell too far behind' } }) });
            break;
          }
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, options.keepaliveMs);
            wake = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          if (queue.length === 0 && !closed) await stream.write(': keepalive\n\n');
        }
      } finally {
        sub.close();
      }
    });
  });
}
