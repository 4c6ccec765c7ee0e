// Backpressure and bulk transfers: a slow peer never holds more than the in-flight bound
// of the sender's data, and a large first sync streams in chunks and, cut off halfway,
// resumes where it stopped.
import { describe, expect, it } from 'vitest';
import { CausalContext } from '../../../core/src/clock/causal-context.ts';
import { DeltaEncoder } from '../../../core/src/codec/delta/encoder.ts';
import { DeltaKind } from '../../../core/src/codec/delta/layout.ts';
import { Delta } from '../../../core/src/crdt/delta.ts';
import { MapStore } from '../../../core/src/crdt/map-store.ts';
import { Replica } from '../../../core/src/doc/replica.ts';
import { fnv1a32 } from '../../../core/src/sync/checksum.ts';
import type { ServerSyncSession } from '../../../core/src/sync/server-session.ts';
import type { ChunkMessage, HelloMessage } from '../../../core/src/sync/messages.ts';
import { ClientHost, Link, ServerHost, messagesOf, settle, stateOf } from '../../support/sync-harness.ts';

const filler = (n: number): string => 'x'.repeat(n);

describe('sync flow control', () => {
  it('server to a slow client: in-flight bytes never exceed the bound while the client does not ack', () => {
    const bound = 8 * 1024;
    const server = new ServerHost(100);
    server.sessionOptions = { maxInflightBytes: bound };
    const writer = new ClientHost(2);
    const lw = new Link([server]);
    writer.open(lw.clientMux);
    for (let i = 0; i < 200; i++) writer.replica.put(`k${i}`, filler(1000));
    settle([lw], [server], [writer]);
    expect(server.log.head()).toBe(200);

    const slow = new ClientHost(1);
    slow.holdAcks = true;
    const link = new Link([server]);
    slow.open(link.clientMux);
    settle([link], [server], [slow]);
    const session = link.serverSessions[0]! as ServerSyncSession;
    const received = messagesOf(link.traffic, 'down', 'delta').length;
    expect(received).toBeGreaterThan(0);
    expect(received).toBeLessThan(10);
    expect(session.inflightBytes).toBeLessThanOrEqual(bound);
    // New writes keep arriving; the slow client's session still does not grow.
    for (let i = 0; i < 50; i++) writer.replica.put(`more${i}`, filler(1000));
    settle([lw, link], [server], [writer, slow]);
    expect(messagesOf(link.traffic, 'down', 'delta').length).toBe(received);
    expect(session.peakInflightBytes).toBeLessThanOrEqual(bound);

    // Acks trickle in: everything arrives, never more than the bound in flight.
    for (let round = 0; round < 1000 && slow.replica.size < 250; round++) {
      slow.releaseAcks();
      slow.holdAcks = true;
      settle([link], [server], [slow]);
      expect(session.inflightBytes).toBeLessThanOrEqual(bound);
    }
    expect(slow.replica.size).toBe(250);
    expect(session.peakInflightBytes).toBeLessThanOrEqual(bound);
    expect(session.peakInflightBytes).toBeGreaterThan(bound / 2);
  });

  it('client to a server that does not acknowledge: offline changes go out within the bound', () => {
    const bound = 4 * 1024;
    const server = new ServerHost(100);
    server.deferCommits = true; // nothing is stored, so nothing is acknowledged
    const client = new ClientHost(1);
    for (let i = 0; i < 100; i++) client.replica.put(`offline${i}`, filler(500));
    const link = new Link([server]);
    const session = client.open(link.clientMux, { maxInflightBytes: bound });
    settle([link], [server], [client]);
    const sent = messagesOf(link.traffic, 'up', 'delta').length;
    expect(sent).toBeGreaterThan(0);
    expect(sent).toBeLessThan(10);
    expect(session.inflightBytes).toBeLessThanOrEqual(bound);
    for (let round = 0; round < 1000 && client.state.pending.length > 0; round++) {
      server.flushCommits(3);
      settle([link], [server], [client]);
      expect(session.inflightBytes).toBeLessThanOrEqual(bound);
    }
    expect(client.state.pending).toHaveLength(0);
    expect(session.peakInflightBytes).toBeLessThanOrEqual(bound);
    expect(server.replica.size).toBe(100);
  });

  it('a large first sync streams in bounded chunks, and resumes where it stopped after a disconnect', () => {
    const server = new ServerHost(100);
    server.sessionOptions = { chunkBytes: 4096, maxInflightBytes: 16 * 1024 };
    for (let i = 0; i < 300; i++) server.replica.put(`doc:${i}`, { body: filler(300), n: i });
    server.log.compact();
    const total = server.log.snapshot().bytes.length;
    expect(total).toBeGreaterThan(90_000);

    const client = new ClientHost(1);
    let link = new Link([server]);
    client.open(link.clientMux);
    // Step frame by frame until about half the snapshot arrived, then cut the connection.
    for (let i = 0; i < 10_000 && (client.state.transfer?.receivedBytes ?? 0) < total / 2; i++) {
      server.drain();
      client.drain();
      link.collect();
      link.deliver(1);
    }
    client.drain();
    const first = messagesOf(link.traffic, 'down', 'chunk') as ChunkMessage[];
    for (const c of first) expect(c.bytes.length).toBeLessThanOrEqual(4096);
    const got = client.state.transfer!.receivedBytes;
    expect(got).toBeGreaterThanOrEqual(total / 2);
    expect(got).toBeLessThan(total);
    expect(client.replica.size).toBe(0); // nothing applied from an incomplete snapshot
    expect(client.session!.status).toBe('syncing');
    link.drop([server]);
    client.session = undefined;

    link = new Link([server]);
    client.open(link.clientMux);
    settle([link], [server], [client]);
    const hello = messagesOf(link.traffic, 'up', 'hello')[0] as HelloMessage;
    expect(hello.transfer).toEqual({ position: server.log.compactedThrough(), checksum: fnv1a32(server.log.snapshot().bytes), receivedBytes: got });
    const second = messagesOf(link.traffic, 'down', 'chunk') as ChunkMessage[];
    expect(second[0]!.offset).toBe(got);
    const resent = second.reduce((n, c) => n + c.bytes.length, 0);
    expect(resent).toBe(total - got);
    expect(stateOf(client.replica)).toEqual(stateOf(server.replica));
    expect(client.session!.status).toBe('synced');
    expect(client.state.transfer).toBeUndefined();
  });

  it('a partial transfer of a snapshot that was replaced restarts from the new snapshot', () => {
    const server = new ServerHost(100);
    server.sessionOptions = { chunkBytes: 1024, maxInflightBytes: 2048 };
    for (let i = 0; i < 100; i++) server.replica.put(`k${i}`, filler(100));
    server.log.compact();
    const client = new ClientHost(1);
    let link = new Link([server]);
    client.open(link.clientMux);
    for (let i = 0; i < 1000 && (client.state.transfer?.receivedBytes ?? 0) < 2048; i++) {
      server.drain();
      client.drain();
      link.collect();
      link.deliver(1);
    }
    client.drain();
    expect(client.state.transfer!.receivedBytes).toBeGreaterThan(0);
    link.drop([server]);
    client.session = undefined;
    server.replica.put('newer', 1);
    server.log.compact();
    link = new Link([server]);
    client.open(link.clientMux);
    settle([link], [server], [client]);
    const chunks = messagesOf(link.traffic, 'down', 'chunk') as ChunkMessage[];
    expect(chunks[0]!.offset).toBe(0);
    expect(chunks[0]!.position).toBe(server.log.compactedThrough());
    expect(stateOf(client.replica)).toEqual(stateOf(server.replica));
  });
});

describe('sync flow control and compaction', () => {
  it('a client still streaming when the log is compacted past it continues from a snapshot', () => {
    const server = new ServerHost(100);
    server.sessionOptions = { maxInflightBytes: 2048, chunkBytes: 512 };
    const writer = new ClientHost(2);
    const lw = new Link([server]);
    writer.open(lw.clientMux);
    for (let i = 0; i < 40; i++) writer.replica.put(`k${i}`, filler(200));
    settle([lw], [server], [writer]);
    const slow = new ClientHost(1);
    slow.holdAcks = true;
    const link = new Link([server]);
    slow.open(link.clientMux);
    settle([link], [server], [slow]);
    expect(slow.replica.size).toBeLessThan(40);
    writer.replica.delete('k0');
    settle([lw], [server], [writer]);
    server.log.compact();
    for (let round = 0; round < 1000 && slow.session!.status !== 'synced'; round++) {
      slow.releaseAcks();
      slow.holdAcks = true;
      settle([link, lw], [server], [slow, writer]);
    }
    const chunks = messagesOf(link.traffic, 'down', 'chunk') as ChunkMessage[];
    expect(chunks[0]).toMatchObject({ kind: 'snapshot', offset: 0, position: server.log.compactedThrough() });
    expect(stateOf(slow.replica)).toEqual(stateOf(server.replica));
    expect(slow.replica.has('k0')).toBe(false);
    expect(slow.errors).toEqual([]);
  });
});

describe('sync receive bound', () => {
  it('a peer that ignores the window ends the session instead of growing the receiver', () => {
    const server = new ServerHost(100);
    server.deferCommits = true; // nothing stored yet
    server.sessionOptions = { maxUnstoredBytes: 4096 };
    const greedy = new ClientHost(1);
    for (let i = 0; i < 50; i++) greedy.replica.put(`k${i}`, filler(300));
    const link = new Link([server]);
    const s = greedy.open(link.clientMux, { maxInflightBytes: 1 << 20 }); // far past what the server accepts
    settle([link], [server], [greedy]);
    expect(server.errors.map((e) => e.code)).toEqual(['SYNC_TOO_LARGE']);
    expect(s.error).toMatchObject({ code: 'SYNC_TOO_LARGE', remote: true });
    expect(server.pending.length).toBeLessThan(15); // what fit in 4 KiB, nothing more
    expect(greedy.state.pending).toHaveLength(50); // kept for the next session

    // A well-behaved client (window within the bound) is never cut off.
    const polite = new ClientHost(2);
    for (let i = 0; i < 50; i++) polite.replica.put(`p${i}`, filler(300));
    const l2 = new Link([server]);
    const s2 = polite.open(l2.clientMux, { maxInflightBytes: 4096 });
    for (let round = 0; round < 100 && polite.state.pending.length > 0; round++) {
      settle([l2], [server], [polite]);
      server.flushCommits();
    }
    settle([l2], [server], [polite]);
    expect(s2.error).toBeUndefined();
    expect(polite.state.pending).toHaveLength(0);
  });
});

describe('sync transfer identity', () => {
  it('a partial snapshot resumes only against the same bytes: another encoding of the same position restarts', () => {
    const server = new ServerHost(100);
    server.sessionOptions = { chunkBytes: 256, maxInflightBytes: 512 };
    for (let i = 0; i < 60; i++) server.replica.put(`k${i}`, filler(40));
    server.log.compact();
    const position = server.log.compactedThrough();
    // The same state at the same position, encoded by another node (fields in another order).
    const a = server.log.snapshot().bytes;
    const reordered = reorderedSnapshot(server.replica);
    expect(reordered).not.toEqual(a);
    expect(reordered.length).toBe(a.length);
    let snapshotBytes = a;
    const log = server.log;
    server.source = {
      keyspace: log.keyspace,
      replicaId: log.replicaId,
      logId: log.logId,
      head: () => log.head(),
      compactedThrough: () => log.compactedThrough(),
      read: (p, b, n) => log.read(p, b, n),
      snapshot: () => ({ position, bytes: snapshotBytes }),
      context: () => log.context(),
      deltaSince: (c) => log.deltaSince(c),
    };
    const client = new ClientHost(1);
    let link = new Link([server]);
    client.open(link.clientMux);
    for (let i = 0; i < 1000 && (client.state.transfer?.receivedBytes ?? 0) < a.length / 2; i++) {
      server.drain();
      client.drain();
      link.collect();
      link.deliver(1);
    }
    expect(client.state.transfer!.receivedBytes).toBeGreaterThan(0);
    link.drop([server]);
    client.session = undefined;
    snapshotBytes = reordered; // the client reconnects to a node that encoded it differently
    link = new Link([server]);
    client.open(link.clientMux);
    settle([link], [server], [client]);
    const chunks = messagesOf(link.traffic, 'down', 'chunk') as ChunkMessage[];
    expect(chunks[0]!.offset).toBe(0);
    expect(chunks[0]!.checksum).toBe(fnv1a32(reordered));
    expect(client.errors).toEqual([]);
    expect(stateOf(client.replica)).toEqual(stateOf(server.replica));
  });
});

/** The replica's state as a snapshot with its fields in reverse order. */
function reorderedSnapshot(source: Replica): Uint8Array {
  const full = source.deltaSince(new CausalContext());
  const fields = new Map([...full.store!.fields].reverse());
  return new DeltaEncoder().encode(new Delta(full.context, new MapStore(fields), full.removals), DeltaKind.Snapshot);
}
