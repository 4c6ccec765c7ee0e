// The handshake: the happy path, `synced` only after the local store loaded and the
// server's state arrived, every refusal, and the handshake timeout.
import { describe, expect, it } from 'vitest';
import type { ReplicaId } from '../../../core/src/clock/replica-id.ts';
import { Replica } from '../../../core/src/doc/replica.ts';
import { ClientSyncSession } from '../../../core/src/sync/client-session.ts';
import { ClientSyncState } from '../../../core/src/sync/client-state.ts';
import { decodeMessage, encodeMessage } from '../../../core/src/sync/codec.ts';
import { RefuseReason, SyncErrorCode, SyncProtocolError } from '../../../core/src/sync/errors.ts';
import { MemoryKeyspaceLog } from '../../../core/src/sync/memory-keyspace-log.ts';
import { MIN_SYNC_PROTOCOL_VERSION, SYNC_PROTOCOL_VERSION, type HelloMessage, type SyncMessage } from '../../../core/src/sync/messages.ts';
import { Multiplexer } from '../../../core/src/sync/multiplexer.ts';
import { ServerSyncSession } from '../../../core/src/sync/server-session.ts';
import { ClientHost, Link, ServerHost, messagesOf, settle } from '../../support/sync-harness.ts';

const hello = (over: Partial<HelloMessage> = {}): HelloMessage => ({
  type: 'hello',
  channel: 1,
  version: SYNC_PROTOCOL_VERSION,
  keyspace: 'default',
  replica: 5 as ReplicaId,
  token: '',
  resume: { mode: 'cursor', logId: '', position: 0 },
  transfer: undefined,
  ...over,
});

function refusal(messages: SyncMessage[]): SyncMessage {
  expect(messages).toHaveLength(1);
  expect(messages[0]!.type).toBe('refuse');
  return messages[0]!;
}

describe('sync handshake', () => {
  it('happy path: connecting, syncing, synced; welcome names the log and the mode', () => {
    const server = new ServerHost(100);
    const client = new ClientHost(1);
    const link = new Link([server]);
    const session = client.open(link.clientMux);
    settle([link], [server], [client]);
    expect(client.statuses).toEqual(['connecting', 'syncing', 'synced']);
    const welcome = messagesOf(link.traffic, 'down', 'welcome')[0]!;
    expect(welcome).toMatchObject({ type: 'welcome', logId: 'log-default', mode: 'log', replica: 100 });
    expect(session.serverReplica).toBe(100);
    expect(client.state.logId).toBe('log-default');
    const progress = messagesOf(link.traffic, 'down', 'progress');
    expect(progress.at(-1)).toMatchObject({ caughtUp: true });
  });

  it('reports synced only once the local store is loaded AND the server state arrived', () => {
    const server = new ServerHost(100);
    server.deferCommits = true;
    const writer = new ClientHost(2);
    const link0 = new Link([server]);
    writer.open(link0.clientMux);
    writer.replica.put('x', 'from-writer');
    settle([link0], [server], [writer]);
    server.flushCommits();
    settle([link0], [server], [writer]);

    const client = new ClientHost(1);
    const link = new Link([server]);
    const session = client.open(link.clientMux, { localStoreLoaded: false });
    settle([link], [server], [client]);
    expect(client.replica.get('x')).toBe('from-writer');
    expect(session.status).toBe('syncing');
    session.localStoreLoaded();
    expect(session.status).toBe('synced');

    // And the other order: loaded first, server state later.
    const late = new ClientHost(3);
    const link2 = new Link([server]);
    const s2 = late.open(link2.clientMux);
    link2.collect();
    expect(s2.status).toBe('connecting');
    link2.deliver(); // hello reaches the server; its answer is not delivered yet
    expect(s2.status).toBe('connecting');
    settle([link2], [server], [late]);
    expect(s2.status).toBe('synced');
  });

  it('refuses a newer protocol version with a clear reason (bytes through the multiplexer, and a session)', () => {
    const server = new ServerHost(100);
    const mux = new Multiplexer({ accept: (h) => server.accept(h) });
    mux.receive(encodeMessage(hello({ version: SYNC_PROTOCOL_VERSION + 1 })));
    const m = refusal(mux.takeFrames().map((f) => decodeMessage(f)));
    expect(m).toMatchObject({ reason: RefuseReason.VersionTooNew, supportedVersion: SYNC_PROTOCOL_VERSION });
    expect((m as { message: string }).message).toMatch(new RegExp(`version ${SYNC_PROTOCOL_VERSION + 1} is newer than this server's ${SYNC_PROTOCOL_VERSION}`));

    const session = new ServerSyncSession({ channel: 1, source: server.log });
    session.receive(encodeMessage(hello({ version: SYNC_PROTOCOL_VERSION + 1 })));
    expect(refusal(session.takeMessages())).toMatchObject({ reason: RefuseReason.VersionTooNew });
    expect(session.error?.code).toBe(SyncErrorCode.Refused);
    expect(session.error?.reason).toBe(RefuseReason.VersionTooNew);
  });

  it('refuses a hello older than its oldest version (version-too-old); a client reports an old server refusing it clearly', () => {
    const server = new ServerHost(100);
    const old = hello({ version: MIN_SYNC_PROTOCOL_VERSION - 1 });
    const mux = new Multiplexer({ accept: (h) => server.accept(h) });
    mux.receive(encodeMessage(old));
    const m = refusal(mux.takeFrames().map((f) => decodeMessage(f)));
    expect(m).toMatchObject({ reason: RefuseReason.VersionTooOld, supportedVersion: SYNC_PROTOCOL_VERSION });
    expect((m as { message: string }).message).toMatch(/older than this server's oldest.*upgrade the client/);

    const session = new ServerSyncSession({ channel: 1, source: server.log });
    session.receive(encodeMessage(old));
    expect(refusal(session.takeMessages())).toMatchObject({ reason: RefuseReason.VersionTooOld });
    expect(session.error?.reason).toBe(RefuseReason.VersionTooOld);

    // A server of the previous version refuses our hello in a frame of its own version.
    const client = new ClientHost(1);
    const link = new Link([server]);
    const cs = client.open(link.clientMux);
    const oldRefusal = encodeMessage({ type: 'refuse', channel: cs.channel, reason: RefuseReason.VersionTooNew, supportedVersion: 1, message: 'protocol version 2 is newer than this server\'s 1' });
    oldRefusal[0] = MIN_SYNC_PROTOCOL_VERSION - 1;
    cs.receive(oldRefusal);
    expect(cs.error?.code).toBe(SyncErrorCode.Refused);
    expect(cs.error?.reason).toBe(RefuseReason.VersionTooNew);
    expect(cs.error?.message).toMatch(/server speaks sync protocol version 1/);
    expect(cs.takeMessages().filter((x) => x.type === 'error')).toHaveLength(0); // nothing sent back to an old server
  });

  it('refuses an unauthorized token, an unknown keyspace and a keyspace the session does not serve', () => {
    const server = new ServerHost(100);
    server.authorize = (token, keyspace) => token === 'good' && keyspace === 'default';
    const unauthorized = new ClientHost(1);
    const link = new Link([server]);
    const s = unauthorized.open(link.clientMux, { token: 'bad' });
    settle([link], [server], [unauthorized]);
    expect(s.status).toBe('closed');
    expect(s.error).toBeInstanceOf(SyncProtocolError);
    expect(s.error).toMatchObject({ code: SyncErrorCode.Refused, reason: RefuseReason.Unauthorized, remote: true });
    expect(server.errors.map((e) => e.reason)).toEqual([RefuseReason.Unauthorized]);

    const good = new ClientHost(2);
    const link2 = new Link([server]);
    good.open(link2.clientMux, { token: 'good' });
    settle([link2], [server], [good]);
    expect(good.session!.status).toBe('synced');

    const lost = new ClientHost(3, 'nope');
    const link3 = new Link([server]);
    const s3 = lost.open(link3.clientMux);
    settle([link3], [server], [lost]);
    expect(s3.error).toMatchObject({ code: SyncErrorCode.Refused, reason: RefuseReason.UnknownKeyspace });

    const direct = new ServerSyncSession({ channel: 1, source: server.log });
    direct.receive(hello({ keyspace: 'other' }));
    expect(refusal(direct.takeMessages())).toMatchObject({ reason: RefuseReason.BadKeyspace });
  });

  it('ends with a timeout when no welcome arrives', () => {
    const replica = new Replica({ replicaId: 1 as ReplicaId });
    const s = new ClientSyncSession({ channel: 1, keyspace: 'default', replica, state: new ClientSyncState(), handshakeTimeoutTicks: 3 });
    s.start();
    s.tick();
    s.tick();
    expect(s.status).toBe('connecting');
    s.tick();
    expect(s.status).toBe('closed');
    expect(s.error?.code).toBe(SyncErrorCode.Timeout);
    expect(s.takeMessages().map((m) => m.type)).toEqual(['hello', 'error']);
  });

  it('a server log is a valid KeyspaceSource on its own', () => {
    const replica = new Replica({ replicaId: 9 as ReplicaId });
    const log = new MemoryKeyspaceLog(replica, 'L');
    expect(log.head()).toBe(0);
    expect(log.snapshot().position).toBe(0);
    expect(log.read(0, 10, 10)).toEqual([]);
  });
});

describe('sync handshake, asynchronous authorization', () => {
  it('waits for the shell when authorize answers pending, then welcomes or refuses', () => {
    const server = new ServerHost(100);
    const ok = new ServerSyncSession({ channel: 1, source: server.log, authorize: () => 'pending' });
    ok.receive(hello());
    expect(ok.takeMessages()).toEqual([]);
    expect(ok.status).toBe('connecting');
    ok.receive({ type: 'delta', channel: 1, seq: 1, position: 0, bytes: new Uint8Array([1]) });
    expect(ok.error?.code).toBe(SyncErrorCode.Unexpected); // nothing before the welcome

    const later = new ServerSyncSession({ channel: 1, source: server.log, authorize: () => 'pending' });
    later.receive(hello());
    later.authorizationResult(true);
    expect(later.takeMessages().map((m) => m.type)).toEqual(['welcome', 'progress']);
    expect(later.status).toBe('synced');

    const denied = new ServerSyncSession({ channel: 1, source: server.log, authorize: () => 'pending' });
    denied.receive(hello());
    denied.authorizationResult(false);
    expect(refusal(denied.takeMessages())).toMatchObject({ reason: RefuseReason.Unauthorized });
    expect(denied.error).toMatchObject({ code: SyncErrorCode.Refused, reason: RefuseReason.Unauthorized });
  });
});

describe('sync channels', () => {
  it('a clean close ends both ends without an error; the channel limit refuses one channel too many', () => {
    const server = new ServerHost(100);
    const client = new ClientHost(1);
    const link = new Link([server]);
    const s = client.open(link.clientMux);
    settle([link], [server], [client]);
    const [serverSession] = [...server.sessions];
    s.close('bye');
    settle([link], [server], [client]);
    expect(s.status).toBe('closed');
    expect(s.error).toBeUndefined();
    expect(serverSession!.status).toBe('closed');
    expect(serverSession!.error).toBeUndefined();
    expect(server.errors).toEqual([]);

    const mux = new Multiplexer({ accept: (h) => server.accept(h), maxChannels: 2 });
    for (const channel of [1, 2, 3]) mux.receive(encodeMessage(hello({ channel })));
    const answers = mux.takeFrames().map((f) => decodeMessage(f));
    expect(answers.filter((m) => m.type === 'welcome').map((m) => m.channel)).toEqual([1, 2]);
    expect(answers.find((m) => m.channel === 3)).toMatchObject({ type: 'refuse', reason: RefuseReason.TooManyChannels });
    mux.closeAll();
    expect(mux.takeFrames().map((f) => decodeMessage(f).type)).toEqual(['close', 'close']);
  });
});
