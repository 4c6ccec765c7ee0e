// Sessions syncing replicas through a server: convergence, resume that sends only what is
// missing (asserted on the frames), snapshot fallback behind compaction, context-exchange
// fallback, and many keyspaces on one connection with their own authorization.
import { describe, expect, it } from 'vitest';
import { RefuseReason, SyncErrorCode } from '../../../core/src/sync/errors.ts';
import type { AckMessage, DeltaMessage, HelloMessage } from '../../../core/src/sync/messages.ts';
import { ClientHost, Link, ServerHost, messagesOf, settle, stateOf } from '../../support/sync-harness.ts';

const filler = (n: number): string => 'x'.repeat(n);

function connect(client: ClientHost, server: ServerHost, options = {}): Link {
  const link = new Link([server]);
  client.open(link.clientMux, options);
  return link;
}

describe('sync sessions', () => {
  it('two replicas converge through client and server sessions over an in-memory pipe', () => {
    const server = new ServerHost(100);
    const a = new ClientHost(1);
    const b = new ClientHost(2);
    a.replica.put('offline-a', 1); // written before the first connection
    const la = connect(a, server);
    const lb = connect(b, server);
    a.replica.counter('views').increment(3);
    b.replica.counter('views').increment(4);
    b.replica.set('tags').add('crdt');
    a.replica.map('user:1').set('name', 'Ada');
    settle([la, lb], [server], [a, b]);
    b.replica.delete('offline-a');
    settle([la, lb], [server], [a, b]);
    expect(stateOf(a.replica)).toEqual(stateOf(b.replica));
    expect(stateOf(a.replica)).toEqual(stateOf(server.replica));
    expect(a.replica.counter('views').value).toBe(7);
    expect(a.replica.has('offline-a')).toBe(false);
    // Every change is acknowledged as committed and dropped from the pending list.
    expect(a.state.pending).toHaveLength(0);
    expect(b.state.pending).toHaveLength(0);
    expect(a.committedLsn).toBe(3);
    // A client's own changes are not echoed back to it.
    for (const m of messagesOf(la.traffic, 'down', 'delta') as DeltaMessage[]) {
      expect(server.log.read(m.position - 1, 1 << 20, 1)[0]!.origin).not.toBe(1);
    }
  });

  it('resume after a disconnect sends only what is missing, and the cursor does not grow with writers', () => {
    const server = new ServerHost(100);
    const a = new ClientHost(1);
    const b = new ClientHost(2);
    let la = connect(a, server);
    const lb = connect(b, server);
    for (let i = 0; i < 50; i++) a.replica.put(`a${i}`, i);
    for (let i = 0; i < 50; i++) b.replica.put(`b${i}`, i);
    settle([la, lb], [server], [a, b]);
    expect(a.replica.size).toBe(100);
    // Many replicas write once: a version-vector resume would grow with them.
    const writers: ClientHost[] = [];
    for (let w = 0; w < 30; w++) {
      const c = new ClientHost(1000 + w);
      const l = connect(c, server);
      c.replica.put(`w${w}`, w);
      settle([l], [server], [c]);
      writers.push(c);
    }
    settle([la, lb], [server], [a, b]);
    expect(a.replica.size).toBe(130);

    la.drop([server]);
    a.session = undefined;
    a.replica.put('a-offline-1', true);
    a.replica.put('a-offline-2', true);
    const headBefore = server.log.head();
    b.replica.put('b-while-away-1', 1);
    b.replica.put('b-while-away-2', 2);
    b.replica.put('b-while-away-3', 3);
    settle([lb], [server], [b]);
    expect(server.log.head()).toBe(headBefore + 3);

    la = connect(a, server);
    settle([la, lb], [server], [a, b]);
    expect(stateOf(a.replica)).toEqual(stateOf(server.replica));
    expect(stateOf(b.replica)).toEqual(stateOf(server.replica));

    const hello = messagesOf(la.traffic, 'up', 'hello')[0] as HelloMessage;
    expect(hello.resume).toEqual({ mode: 'cursor', logId: 'log-default', position: headBefore });
    const helloBytes = la.traffic.find((t) => t.message.type === 'hello')!.bytes;
    expect(helloBytes).toBeLessThan(40); // 32 replicas wrote; the hello names none of them

    const down = messagesOf(la.traffic, 'down', 'delta') as DeltaMessage[];
    expect(down.map((m) => m.position)).toEqual([headBefore + 1, headBefore + 2, headBefore + 3]);
    const expected = server.log.read(headBefore, 1 << 20, 3).map((e) => e.bytes);
    expect(down.map((m) => m.bytes)).toEqual(expected);
    expect(messagesOf(la.traffic, 'down', 'chunk')).toHaveLength(0);
    const up = messagesOf(la.traffic, 'up', 'delta') as DeltaMessage[];
    expect(up).toHaveLength(2); // exactly the two offline changes
    expect(up.map((m) => m.bytes)).toEqual([...a.local.values()].slice(-2).map((d) => a.replica.encodeDelta(d)));
  });

  it('stored and committed are acknowledged apart: pending changes are dropped only once committed', () => {
    const server = new ServerHost(100);
    server.deferCommits = true;
    server.storeOnReceipt = true; // an edge: durable at once, committed when the origin says
    const a = new ClientHost(1);
    const la = connect(a, server);
    a.replica.put('x', 1);
    a.replica.put('y', 2);
    settle([la], [server], [a]);
    const ackMessages = messagesOf(la.traffic, 'down', 'ack') as AckMessage[];
    expect(ackMessages.map((m) => m.level)).toEqual(['stored', 'stored']);
    expect(ackMessages.at(-1)!.seq).toBe(2);
    expect(a.state.pending).toHaveLength(2);
    expect(a.committedLsn).toBe(0);
    expect(a.session!.inflightBytes).toBe(0); // stored frees the window
    server.flushCommits();
    settle([la], [server], [a]);
    const after = messagesOf(la.traffic, 'down', 'ack') as AckMessage[];
    expect(after.slice(2)).toMatchObject([{ level: 'committed', seq: 2, position: 2 }]);
    expect(a.state.pending).toHaveLength(0);
    expect(a.committedLsn).toBe(2);
  });

  it('resends changes whose committed acknowledgement was lost, and the server applies them once', () => {
    const server = new ServerHost(100);
    server.deferCommits = true;
    const a = new ClientHost(1);
    let la = connect(a, server);
    a.replica.counter('c').increment(5);
    settle([la], [server], [a]);
    expect(server.pending).toHaveLength(1);
    la.drop([server]);
    a.session = undefined;
    server.flushCommits(); // committed, but the acknowledgement has nowhere to go
    expect(a.state.pending).toHaveLength(1);
    la = connect(a, server);
    settle([la], [server], [a]);
    server.flushCommits();
    settle([la], [server], [a]);
    expect(messagesOf(la.traffic, 'up', 'delta')).toHaveLength(1);
    expect(a.state.pending).toHaveLength(0);
    expect(server.log.head()).toBe(1); // the resent copy was recognised, not appended again
    expect(server.replica.counter('c').value).toBe(5);
    expect(a.replica.counter('c').value).toBe(5);
  });

  it('falls back to a snapshot when the cursor is behind compaction, then streams the log after it', () => {
    const server = new ServerHost(100);
    const a = new ClientHost(1);
    const b = new ClientHost(2);
    let la = connect(a, server);
    const lb = connect(b, server);
    a.replica.put('early', 1);
    settle([la, lb], [server], [a, b]);
    la.drop([server]);
    a.session = undefined;
    for (let i = 0; i < 20; i++) b.replica.put(`k${i}`, i);
    b.replica.delete('early');
    settle([lb], [server], [b]);
    server.log.compact();
    b.replica.put('after-compaction', true);
    settle([lb], [server], [b]);
    const compacted = server.log.compactedThrough();
    expect(a.state.position).toBeLessThan(compacted);

    la = connect(a, server);
    settle([la, lb], [server], [a, b]);
    const welcome = messagesOf(la.traffic, 'down', 'welcome')[0]!;
    expect(welcome).toMatchObject({ mode: 'snapshot' });
    const chunks = messagesOf(la.traffic, 'down', 'chunk');
    expect(chunks.length).toBeGreaterThan(0);
    expect(chunks[0]).toMatchObject({ kind: 'snapshot', position: compacted, offset: 0 });
    const deltas = messagesOf(la.traffic, 'down', 'delta') as DeltaMessage[];
    expect(deltas.map((d) => d.position)).toEqual([compacted + 1]);
    expect(stateOf(a.replica)).toEqual(stateOf(server.replica));
    expect(a.replica.has('early')).toBe(false);
    expect(a.state.position).toBe(server.log.head());
    expect(a.session!.status).toBe('synced');
  });

  it('a cursor from another log is never resumed, even after a snapshot from the new log was cut off', () => {
    const server = new ServerHost(100, 'default', 'log-B');
    server.sessionOptions = { chunkBytes: 128, maxInflightBytes: 256 };
    for (let i = 0; i < 30; i++) server.replica.put(`k${i}`, filler(30));
    expect(server.log.head()).toBe(30);
    const client = new ClientHost(1);
    client.state.logId = 'log-A'; // a cursor from a server whose log this one does not share
    client.state.position = 12;
    let link = new Link([server]);
    client.open(link.clientMux);
    for (let i = 0; i < 100 && (client.state.transfer?.receivedBytes ?? 0) === 0; i++) {
      server.drain();
      client.drain();
      link.collect();
      link.deliver(1);
    }
    expect(messagesOf(link.traffic, 'down', 'welcome')[0]).toMatchObject({ mode: 'snapshot' });
    expect(client.state.transfer!.complete).toBe(false);
    expect(client.state).toMatchObject({ logId: 'log-B', position: 0 });
    link.drop([server]);
    client.session = undefined;
    link = new Link([server]);
    client.open(link.clientMux);
    settle([link], [server], [client]);
    expect((messagesOf(link.traffic, 'up', 'hello')[0] as HelloMessage).resume).toEqual({ mode: 'cursor', logId: 'log-B', position: 0 });
    expect(stateOf(client.replica)).toEqual(stateOf(server.replica));
    expect(client.replica.size).toBe(30);
  });

  it('log positions may skip numbers (Raft indexes shared with other keyspaces)', () => {
    const server = new ServerHost(100);
    const log = server.log;
    const k = 10; // every entry of this keyspace sits 10 indexes after the previous one
    server.source = {
      keyspace: log.keyspace,
      replicaId: log.replicaId,
      logId: log.logId,
      head: () => log.head() * k,
      compactedThrough: () => log.compactedThrough() * k,
      read: (p, b, n) => log.read(Math.floor(p / k), b, n).map((e) => ({ ...e, position: e.position * k })),
      snapshot: () => ({ position: log.snapshot().position * k, bytes: log.snapshot().bytes }),
      context: () => log.context(),
      deltaSince: (c) => ({ position: log.head() * k, bytes: log.deltaSince(c).bytes }),
    };
    const a = new ClientHost(1);
    const b = new ClientHost(2);
    let la = connect(a, server);
    const lb = connect(b, server);
    a.replica.put('x', 1);
    b.replica.put('y', 2);
    settle([la, lb], [server], [a, b]);
    la.drop([server]);
    a.session = undefined;
    b.replica.put('z', 3);
    settle([lb], [server], [b]);
    la = connect(a, server);
    settle([la, lb], [server], [a, b]);
    expect((messagesOf(la.traffic, 'up', 'hello')[0] as HelloMessage).resume).toMatchObject({ position: 2 * k });
    expect((messagesOf(la.traffic, 'down', 'delta') as DeltaMessage[]).map((m) => m.position)).toEqual([3 * k]);
    expect(stateOf(a.replica)).toEqual({ x: 1, y: 2, z: 3 });
    expect(a.state.position).toBe(3 * k);
  });

  it('context exchange is the fallback: each side sends what the other lacks', () => {
    const server = new ServerHost(100);
    const b = new ClientHost(2);
    const lb = connect(b, server);
    b.replica.put('from-b', 1);
    settle([lb], [server], [b]);
    const a = new ClientHost(1);
    a.replica.put('from-a', 2);
    a.state.acknowledge(Infinity); // as if its pending list was lost: only the context can tell
    const la = connect(a, server, { resume: 'context' });
    settle([la, lb], [server], [a, b]);
    expect(messagesOf(la.traffic, 'down', 'welcome')[0]).toMatchObject({ mode: 'context' });
    expect(stateOf(a.replica)).toEqual({ 'from-a': 2, 'from-b': 1 });
    expect(stateOf(server.replica)).toEqual(stateOf(a.replica));
    expect(stateOf(b.replica)).toEqual(stateOf(a.replica));
    expect(a.state.position).toBe(server.log.head());
  });

  it('multiplexes several keyspaces on one connection, each with its own authorization', () => {
    const docs = new ServerHost(100, 'docs');
    const chat = new ServerHost(101, 'chat');
    const secret = new ServerHost(102, 'secret');
    const servers = [docs, chat, secret];
    for (const s of servers) s.authorize = (token, keyspace) => token === `key-for-${keyspace}`;
    const link = new Link(servers);
    const cd = new ClientHost(1, 'docs');
    const cc = new ClientHost(1, 'chat');
    const cs = new ClientHost(1, 'secret');
    cd.open(link.clientMux, { token: 'key-for-docs' });
    cc.open(link.clientMux, { token: 'key-for-chat' });
    cs.open(link.clientMux, { token: 'key-for-docs' });
    cd.replica.put('title', 'Doc');
    cc.replica.put('msg', 'hi');
    cs.replica.put('password', 'hunter2');
    settle([link], servers, [cd, cc, cs]);
    expect(new Set(link.traffic.map((t) => t.message.channel))).toEqual(new Set([1, 2, 3]));
    expect(docs.replica.get('title')).toBe('Doc');
    expect(chat.replica.get('msg')).toBe('hi');
    expect(docs.replica.has('msg')).toBe(false);
    expect(secret.replica.size).toBe(0);
    expect(cs.session!.error).toMatchObject({ code: SyncErrorCode.Refused, reason: RefuseReason.Unauthorized });
    expect(cs.state.pending).toHaveLength(1); // kept for a later, authorized session
    expect(cd.session!.status).toBe('synced');
    expect(cc.session!.status).toBe('synced');
    // The refused channel is free again and can be opened with the right token.
    cs.open(link.clientMux, { token: 'key-for-secret' });
    settle([link], servers, [cd, cc, cs]);
    expect(secret.replica.get('password')).toBe('hunter2');
    expect(link.clientMux.channels.length).toBe(3);
  });
});
