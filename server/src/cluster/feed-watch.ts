// Watching a node's committed changes: the backlog from `fromVersion` (from the change feed
// when it still holds it, else from a scan of the state), then live changes, with no gap
// and no duplicate between the two. Shared by every OriginNode implementation.
import type { KvChange } from '../../../core/src/kv/commands.ts';
import type { KvStateMachine } from '../../../core/src/kv/state-machine.ts';
import type { ChangeFeed } from '../node/change-feed.ts';
import type { WatchSubscription } from '../node/origin-node.ts';

export function watchFeed(
  feed: ChangeFeed,
  sm: KvStateMachine,
  ks: string,
  prefix: string,
  fromVersion: number | undefined,
  onChange: (change: KvChange) => void,
): WatchSubscription {
  let backlog: KvChange[] = [];
  if (fromVersion !== undefined) {
    if (feed.covers(fromVersion)) backlog = feed.since(ks, prefix, fromVersion);
    else {
      for (const { key, entry } of sm.scan(ks, prefix)) {
        if (entry.version >= fromVersion) backlog.push({ ks, key, version: entry.version, deleted: false, type: entry.type, value: entry.value });
      }
      backlog.sort((a, b) => a.version - b.version);
    }
  }
  // Synchronous from the backlog to the subscription: no apply can slip in between.
  for (const c of backlog) onChange(c);
  const unsubscribe = feed.subscribe({ ks, prefix, onChange });
  return { close: () => void unsubscribe() };
}
