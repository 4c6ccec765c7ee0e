// A seeded, deterministic simulation of one server and 3-5 clients syncing: random ops,
// connections that deliver in order at random speeds and drop at random (frames in
// flight lost), deferred commits, slow acknowledgements, log compaction; on odd seeds the
// server's log is `empty` until its first entry, then takes its real id (as the origin's
// keyspaces do), so sessions follow a log that changes identity. A safety phase
// (random faults, checked continuously) is followed by a healed liveness phase. Every
// choice comes from the seed, so a failure replays from it.
import { ClientHost, Link, ServerHost, settle } from '../../support/sync-harness.ts';
import { SeededRandom } from '../../support/sync-random.ts';
import { checkAcknowledgedKept, checkConverged, checkCursorsInOneLog, checkNoProtocolErrors } from './checkers.ts';

export interface SyncSimResult {
  readonly seed: number;
  readonly clients: number;
  readonly violations: string[];
  readonly stats: { ops: number; drops: number; connects: number; compactions: number; frames: number; snapshots: number; restarts: number };
}

const KEYS = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];

function randomOp(rnd: SeededRandom, c: ClientHost | ServerHost): void {
  const r = c.replica;
  const key = rnd.pick(KEYS);
  const kind = r.typeOf(key);
  const choice = rnd.int(6);
  if (kind === undefined || choice === 0) {
    // Create or overwrite with a type chosen by the key, so types never clash across replicas.
    const slot = KEYS.indexOf(key) % 4;
    if (slot === 0) r.put(key, { v: rnd.int(1000), by: r.id, pad: 'p'.repeat(rnd.int(120)) });
    else if (slot === 1) r.counter(key).increment(1 + rnd.int(5));
    else if (slot === 2) r.set(key).add(`e${rnd.int(6)}`);
    else r.map(key).set(`f${rnd.int(4)}`, rnd.int(100));
  } else if (choice === 1) {
    r.delete(key);
  } else if (kind === 'register') r.put(key, rnd.int(1000));
  else if (kind === 'counter') r.counter(key).increment(rnd.int(3) - 1 || 1);
  else if (kind === 'set') {
    if (rnd.chance(0.5)) r.set(key).add(`e${rnd.int(6)}`);
    else r.set(key).remove(`e${rnd.int(6)}`);
  } else if (kind === 'map') r.map(key).set(`f${rnd.int(4)}`, rnd.int(100));
}

export function runSyncSim(seed: number, steps = 1500): SyncSimResult {
  const rnd = new SeededRandom(seed);
  const nClients = 3 + rnd.int(3);
  // Not drawn from `rnd`: the other choices of a seed stay as they were.
  const emptyLogId = seed % 2 === 1 ? 'empty' : undefined;
  const server = new ServerHost(1000, 'default', 'log-default', emptyLogId === undefined ? {} : { emptyLogId });
  server.deferCommits = true;
  server.storeOnReceipt = rnd.chance(0.5);
  server.sessionOptions = { maxInflightBytes: 512 + rnd.int(4096), chunkBytes: 64 + rnd.int(512) };
  const clients: ClientHost[] = [];
  const links: (Link | undefined)[] = [];
  for (let i = 0; i < nClients; i++) {
    clients.push(new ClientHost(i + 1));
    links.push(undefined);
  }
  const stats = { ops: 0, drops: 0, connects: 0, compactions: 0, frames: 0, snapshots: 0, restarts: 0 };
  const violations: string[] = [];
  const checked = new Map<ClientHost, number>();
  const live = (): Link[] => links.filter((l): l is Link => l !== undefined);
  const drainAll = (): void => {
    server.drain();
    for (const c of clients) c.drain();
  };
  const connect = (i: number): void => {
    const link = new Link([server]);
    link.record = false;
    links[i] = link;
    // Mostly the log cursor; sometimes the context-exchange fallback.
    const resume = rnd.chance(0.15) ? 'context' : 'cursor';
    clients[i]!.open(link.clientMux, { maxInflightBytes: 256 + rnd.int(4096), resume });
    stats.connects++;
  };

  // Safety phase: faults at random, the acknowledged-kept check after every step.
  for (let step = 0; step < steps && violations.length === 0; step++) {
    const i = rnd.int(nClients);
    const c = clients[i]!;
    const link = links[i];
    const roll = rnd.next();
    if (roll < 0.3) {
      randomOp(rnd, c);
      stats.ops++;
    } else if (roll < 0.32) {
      randomOp(rnd, server);
      stats.ops++;
    } else if (roll < 0.4) {
      if (link === undefined) connect(i);
    } else if (roll < 0.44) {
      if (link !== undefined) {
        link.drop([server]);
        links[i] = undefined;
        c.session = undefined;
        stats.drops++;
      }
    } else if (roll < 0.75) {
      if (link !== undefined) {
        link.collect();
        stats.frames += link.deliver(1 + rnd.int(4));
        if (rnd.chance(0.03)) {
          // A crash after receiving, before the shell stored what it received.
          link.drop([server]);
          links[i] = undefined;
          c.restart();
          stats.restarts++;
        }
      }
    } else if (roll < 0.87) {
      server.flushCommits(1 + rnd.int(4));
    } else if (roll < 0.88) {
      server.log.compact();
      stats.compactions++;
    } else if (roll < 0.95) {
      c.holdAcks = rnd.chance(0.5);
      if (!c.holdAcks) c.releaseAcks();
    } else if (roll < 0.965) {
      // A crash and reload: the connection goes, the client comes back from its storage.
      if (link !== undefined) {
        link.drop([server]);
        links[i] = undefined;
      }
      c.restart();
      stats.restarts++;
    } else {
      for (const l of live()) l.collect();
    }
    drainAll();
    violations.push(...checkAcknowledgedKept(server, clients, checked));
    if (emptyLogId !== undefined) violations.push(...checkCursorsInOneLog(clients, emptyLogId));
  }

  // Liveness phase: heal everything and run until quiet.
  if (violations.length === 0) {
    for (let i = 0; i < nClients; i++) {
      clients[i]!.releaseAcks();
      if (links[i] === undefined) connect(i);
    }
    for (let round = 0; round < 200; round++) {
      server.flushCommits();
      settle(live(), [server], clients);
      if (server.pending.length === 0) break;
    }
    for (const c of clients) for (const e of c.delivered) if (e.kind === 'deliver' && e.source === 'snapshot') stats.snapshots++;
    violations.push(...checkAcknowledgedKept(server, clients), ...checkConverged(server, clients));
  }
  if (emptyLogId !== undefined) violations.push(...checkCursorsInOneLog(clients, emptyLogId));
  for (const c of clients) if (c.disk.logId !== server.log.logId && c.disk.position > 0) violations.push(`client ${c.replica.id} holds a cursor of log ${c.disk.logId}, the server's is ${server.log.logId}`);
  violations.push(...checkNoProtocolErrors(server, clients));
  return { seed, clients: nClients, violations, stats };
}
