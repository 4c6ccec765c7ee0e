// Checkers for the sync simulation, each returning a list of violations (empty = pass).
import type { ClientHost, ServerHost } from '../../support/sync-harness.ts';
import { stateOf } from '../../support/sync-harness.ts';

/** Safety: every change a client saw acknowledged as committed is in the server's state. */
export function checkAcknowledgedKept(server: ServerHost, clients: readonly ClientHost[], checked?: Map<ClientHost, number>): string[] {
  const out: string[] = [];
  let ctx;
  for (const c of clients) {
    // With `checked`, only changes acknowledged since the last call (the server never forgets).
    const from = checked?.get(c) ?? 0;
    if (c.committedLsn <= from) continue;
    ctx ??= server.replica.contextOf();
    for (let lsn = from + 1; lsn <= c.committedLsn; lsn++) {
      const delta = c.local.get(lsn);
      if (delta === undefined) out.push(`client ${c.replica.id}: lsn ${lsn} acknowledged but never made`);
      else if (!ctx.includes(delta.context)) out.push(`client ${c.replica.id}: change lsn ${lsn} was acknowledged committed but the server lacks it`);
    }
    checked?.set(c, c.committedLsn);
  }
  return out;
}

/** Liveness after healing: everyone holds the same state and nothing waits. */
export function checkConverged(server: ServerHost, clients: readonly ClientHost[]): string[] {
  const out: string[] = [];
  const expected = JSON.stringify(stateOf(server.replica));
  for (const c of clients) {
    const got = JSON.stringify(stateOf(c.replica));
    if (got !== expected) out.push(`client ${c.replica.id} diverged:\n  server ${expected}\n  client ${got}`);
    if (c.state.pending.length > 0) out.push(`client ${c.replica.id} still has ${c.state.pending.length} unacknowledged changes`);
    if (c.session?.status !== 'synced') out.push(`client ${c.replica.id} is ${c.session?.status ?? 'offline'}, not synced`);
    const mine = c.replica.contextOf();
    const theirs = server.replica.contextOf();
    if (!mine.equals(theirs)) {
      const describe = (x: typeof mine): string => [...x.entries].map(([r, set]) => `${r}:${JSON.stringify(set.ranges)}`).join(' ');
      out.push(`client ${c.replica.id} context differs: client lacks ${describe(theirs.subtract(mine))}; server lacks ${describe(mine.subtract(theirs))}`);
    }
  }
  return out;
}

/** No session anywhere ended with a protocol error: the protocol never fights itself. */
export function checkNoProtocolErrors(server: ServerHost, clients: readonly ClientHost[]): string[] {
  const out: string[] = [];
  for (const e of server.errors) out.push(`server session error ${e.code}: ${e.message}`);
  for (const c of clients) for (const e of c.errors) out.push(`client ${c.replica.id} session error ${e.code}: ${e.message}`);
  return out;
}

/**
 * Safety, for a log that is `emptyLogId` until its first entry: no cursor a client
 * persisted ever paired that id with a position of the real log (a reconnect would then
 * be sent a whole snapshot, or, with a log that reused positions, skip entries).
 */
export function checkCursorsInOneLog(clients: readonly ClientHost[], emptyLogId: string): string[] {
  const out: string[] = [];
  for (const c of clients) {
    for (const cur of c.cursors) if (cur.logId === emptyLogId && cur.position !== 0) out.push(`client ${c.replica.id} persisted cursor (${cur.logId}, ${cur.position})`);
    c.cursors.length = 0;
  }
  return out;
}
