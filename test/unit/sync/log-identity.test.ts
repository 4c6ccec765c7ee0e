// A log that changes identity while sessions stream it (the origin's empty keyspace takes
// its real log id at its first commit): the server says so with `log` before any position
// of the new log, the client's cursor moves at once, and a reconnect resumes the tail in
// log mode instead of a whole snapshot. Over a memory log whose id changes with its first
// entry, and over the origin's real CommittedKeyspaceSource on a KvStateMachine.
import { describe, expect, it } from 'vitest';
import type { ReplicaId } from '../../../core/src/clock/replica-id.ts';
import { Replica } from '../../../core/src/doc/replica.ts';
import { MAX_CRDT_DELTAS } from '../../../core/src/kv/command-codec.ts';
import { newLogId } from '../../../core/src/kv/crdt-keyspaces.ts';
import { KvStateMachine } from '../../../core/src/kv/state-machine.ts';
import { SyncErrorCode } from '../../../core/src/sync/errors.ts';
import type { SyncMessage, WelcomeMessage } from '../../../core/src/sync/messages.ts';
import { ServerSyncSession } from '../../../core/src/sync/server-session.ts';
import { MemoryKvStorage } from '../../../core/src/testing/memory-kv-storage.ts';
import { CommittedKeyspaceSource, EMPTY_LOG_ID } from '../../../server/src/sync/committed-keyspace-source.ts';
import { ClientHost, Link, ServerHost, messagesOf, settle, stateOf } from '../../support/sync-harness.ts';

function connect(client: ClientHost, server: ServerHost, options = {}): Link {
  const link = new Link([server]);
  client.open(link.clientMux, options);
  return link;
}

/** A server whose log is `empty` until its first entry, then `real`. */
const lateLogServer = (): ServerHost => new ServerHost(100, 'default', 'real', { emptyLogId: 'empty' });

/** No cursor the client persisted ever paired one log's id with another log's position. */
function expectCursorsInOneLog(c: ClientHost, emptyLogId: string): void {
  for (const cur of c.cursors) if (cur.logId === emptyLogId) expect(cur.position, JSON.stringify(c.cursors)).toBe(0);
}

const downTypes = (link: Link): string[] => messagesOf(link.traffic, 'down').map((m) => m.type);
const welcomeOf = (link: Link): WelcomeMessage => messagesOf(link.traffic, 'down', 'welcome')[0] as WelcomeMessage;

describe('a log that changes identity under a session', () => {
  it('a client first synced on the empty log follows it to the real log and resumes by log, not snapshot', () => {
    const server = lateLogServer();
    const a = new ClientHost(1);
    const b = new ClientHost(2);
    let la = connect(a, server);
    settle([la], [server], [a]);
    expect(a.statuses).toContain('synced');
    expect(a.disk).toMatchObject({ logId: 'empty', position: 0 });

    const lb = connect(b, server);
    for (let i = 0; i < 3; i++) b.replica.put(`k${i}`, i);
    settle([la, lb], [server], [a, b]);
    expect(server.log.logId).toBe('real');
    expect(a.replica.get('k2')).toBe(2);
    // `log` went out before the first delta of the new log.
    const types = downTypes(la);
    expect(types.indexOf('log')).toBeGreaterThan(-1);
    expect(types.indexOf('log')).toBeLessThan(types.indexOf('delta'));
    expect(messagesOf(la.traffic, 'down', 'log')).toEqual([{ type: 'log', channel: 1, logId: 'real', position: 0 }]);
    expect(a.disk).toMatchObject({ logId: 'real', position: server.log.head() });
    expectCursorsInOneLog(a, 'empty');

    la.drop([server]);
    a.session = undefined;
    b.replica.put('while-away', true);
    settle([lb], [server], [b]);
    a.restart();
    la = connect(a, server);
    settle([la, lb], [server], [a, b]);
    expect(welcomeOf(la)).toMatchObject({ mode: 'log', logId: 'real' });
    expect(messagesOf(la.traffic, 'down', 'chunk')).toHaveLength(0);
    expect(messagesOf(la.traffic, 'down', 'delta')).toHaveLength(1);
    expect(stateOf(a.replica)).toEqual(stateOf(server.replica));
  });

  it("the author's own changes are skipped, yet its cursor moves to the real log", () => {
    const server = lateLogServer();
    const a = new ClientHost(1);
    let la = connect(a, server);
    settle([la], [server], [a]);
    a.replica.put('mine', 1);
    settle([la], [server], [a]);
    expect(messagesOf(la.traffic, 'down', 'delta')).toHaveLength(0);
    expect(a.disk).toMatchObject({ logId: 'real', position: 1 });
    expect(a.state.pending).toHaveLength(0);
    la.drop([server]);
    a.session = undefined;
    a.restart();
    la = connect(a, server);
    settle([la], [server], [a]);
    expect(welcomeOf(la).mode).toBe('log');
    expect(messagesOf(la.traffic, 'down', 'chunk')).toHaveLength(0);
  });

  it('a client that left while the log was empty resumes at position 0 of the real log', () => {
    const server = lateLogServer();
    const a = new ClientHost(1);
    const b = new ClientHost(2);
    let la = connect(a, server);
    settle([la], [server], [a]);
    la.drop([server]);
    a.session = undefined;
    const lb = connect(b, server);
    b.replica.put('x', 1);
    settle([lb], [server], [b]);
    a.restart();
    expect(a.state.logId).toBe('empty');
    la = connect(a, server);
    settle([la, lb], [server], [a, b]);
    expect(welcomeOf(la)).toMatchObject({ mode: 'log', logId: 'real' });
    expect(messagesOf(la.traffic, 'down', 'chunk')).toHaveLength(0);
    expect(a.replica.get('x')).toBe(1);
    expect(a.disk).toMatchObject({ logId: 'real', position: 1 });
  });

  it('a cursor of another log at a position past 0 still gets a snapshot (another cluster is not the same log)', () => {
    const server = lateLogServer();
    const b = new ClientHost(2);
    const lb = connect(b, server);
    b.replica.put('x', 1);
    settle([lb], [server], [b]);
    const a = new ClientHost(1);
    a.state.logId = 'empty';
    a.state.position = 1;
    const la = connect(a, server);
    settle([la, lb], [server], [a, b]);
    expect(welcomeOf(la).mode).toBe('snapshot');
    expect(a.disk).toMatchObject({ logId: 'real', position: 1 });
  });

  it('a change of identity during a snapshot transfer waits for its end: chunks, then log, then the new log', () => {
    const fresh = lateLogServer();
    fresh.sessionOptions = { chunkBytes: 2, maxInflightBytes: 4 };
    const a = new ClientHost(1);
    a.state.logId = 'elsewhere';
    a.state.position = 7; // a foreign cursor: the (empty) log is sent as a snapshot
    a.holdAcks = true;
    const la = connect(a, fresh);
    settle([la], [fresh], [a]);
    expect(welcomeOf(la)).toMatchObject({ mode: 'snapshot', logId: 'empty' });
    const chunksBefore = messagesOf(la.traffic, 'down', 'chunk').length;
    expect(chunksBefore).toBeGreaterThan(0);
    // The first commit lands mid-transfer.
    const b = new ClientHost(2);
    const lb = connect(b, fresh);
    b.replica.put('first', 1);
    settle([la, lb], [fresh], [a, b]);
    expect(fresh.log.logId).toBe('real');
    expect(messagesOf(la.traffic, 'down', 'log')).toHaveLength(0); // the transfer is still under way
    a.releaseAcks();
    for (let i = 0; i < 50 && a.disk.logId !== 'real'; i++) {
      a.releaseAcks();
      settle([la, lb], [fresh], [a, b]);
    }
    const types = downTypes(la).filter((t) => t === 'chunk' || t === 'log' || t === 'delta');
    const logAt = types.indexOf('log');
    expect(logAt).toBeGreaterThan(0);
    expect(types.slice(0, logAt).every((t) => t === 'chunk')).toBe(true);
    expect(types.slice(logAt + 1)).toEqual(['delta']);
    expect(a.replica.get('first')).toBe(1);
    expect(a.disk).toMatchObject({ logId: 'real', position: 1 });
    expectCursorsInOneLog(a, 'empty');
  });

  it('a quiescent session saved and resumed elsewhere keeps the log it streams', () => {
    const server = lateLogServer();
    const a = new ClientHost(1);
    const la = connect(a, server);
    settle([la], [server], [a]);
    const session = la.serverSessions[0]!;
    const saved = session.resumeState()!;
    expect(saved.logId).toBe('empty');
    const resumed = ServerSyncSession.resume({ channel: saved.channel, source: server.log }, saved);
    server.replica.put('later', 1);
    resumed.logAdvanced();
    const sent = resumed.takeMessages();
    expect(sent.map((m) => m.type)).toEqual(['log', 'delta']);
    expect(sent[0]).toMatchObject({ logId: 'real', position: 0 });
    expect(resumed.resumeState()).toBeUndefined(); // the delta is in flight
  });

  it('the client refuses a log message that names its own log, comes mid-transfer, or precedes the welcome', () => {
    const server = lateLogServer();
    const a = new ClientHost(1);
    const la = connect(a, server);
    settle([la], [server], [a]);
    const bogus: SyncMessage = { type: 'log', channel: a.session!.channel, logId: 'empty', position: 0 };
    a.session!.receive(bogus);
    expect(a.session!.error?.code).toBe(SyncErrorCode.Unexpected);

    const c = new ClientHost(3);
    const lc = new Link([server]);
    c.open(lc.clientMux);
    c.session!.receive({ type: 'log', channel: c.session!.channel, logId: 'real', position: 0 });
    expect(c.session!.error?.code).toBe(SyncErrorCode.Unexpected);
  });
});

describe("the origin's CommittedKeyspaceSource: empty, then its real log", () => {
  const writes = (n: number): Uint8Array[] => {
    const r = new Replica({ replicaId: 9 as ReplicaId, keyspace: 'default' });
    const out: Uint8Array[] = [];
    r.onLocalDelta((d) => out.push(r.encodeDelta(d)));
    for (let i = 0; i < n; i++) r.put(`k${i}`, i);
    return out;
  };

  it('a reader that first synced the empty keyspace resumes by log after commits', () => {
    const sm = new KvStateMachine(new MemoryKvStorage());
    const source = new CommittedKeyspaceSource(sm, 'default');
    sm.onCrdtApplied((ap) => source.append(ap.entries));
    const server = new ServerHost(100);
    server.source = source;
    const a = new ClientHost(1);
    let la = connect(a, server);
    settle([la], [server], [a]);
    expect(a.disk).toMatchObject({ logId: EMPTY_LOG_ID, position: 0 });
    const bytes = writes(5);
    const commit = (i: number, index: number): void => {
      sm.apply({ type: 'crdt', ks: 'default', deltas: [{ origin: 9, bytes: bytes[i]! }] }, index);
      for (const s of server.sessions) s.logAdvanced();
    };
    commit(0, 4);
    commit(1, 5);
    commit(2, 6);
    settle([la], [server], [a]);
    const realLogId = newLogId('default', 4, bytes[0]!);
    expect(source.logId).toBe(realLogId);
    expect(a.disk).toMatchObject({ logId: realLogId, position: 6 * MAX_CRDT_DELTAS });
    expect(a.replica.get('k2')).toBe(2);
    expectCursorsInOneLog(a, EMPTY_LOG_ID);

    la.drop([server]);
    a.session = undefined;
    commit(3, 7);
    commit(4, 8);
    a.restart();
    la = connect(a, server);
    settle([la], [server], [a]);
    expect(welcomeOf(la)).toMatchObject({ mode: 'log', logId: realLogId });
    expect(messagesOf(la.traffic, 'down', 'chunk')).toHaveLength(0);
    expect(messagesOf(la.traffic, 'down', 'delta')).toHaveLength(2);
    expect(stateOf(a.replica)).toEqual(stateOf(sm.crdtKeyspace('default')!.replica));
  });
});
