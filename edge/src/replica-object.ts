// The edge replica of one keyspace at one region: a Durable Object holding the keyspace in
// its SQLite storage (SqlKeyspaceLog) and serving clients with the core's ServerSyncSession
// over hibernatable WebSockets. The shell loop is the one in core/src/sync/sync-session.ts:
// frames in -> multiplexer; effects out -> store (before acknowledging), then every
// session of every socket streams the new log entries (fan-out); frames out -> sockets.
//
// Relay first, write next turn: workerd's output gate holds every message sent after a
// storage write until that write is durable, and a turn that writes also pays for the
// commit before its frames reach the sockets (measured: bench:edge's bare floors). So a
// client's change is applied in memory (SqlKeyspaceLog.stage) and sent to every session at
// once, then to the origin (the link is pumped after the fan-out's sends); its rows are
// written in a later turn (a 0 ms timer, so the changes of several turns share one commit),
// and its author's ack is queued only after that write, so it still leaves only once the
// change is durable. A crash in between loses
// nothing acknowledged (the author resends what was not acked), reuses no relayed log
// position (reservations, sql-keyspace-log.ts), and loses nothing the origin got: the
// link's first session after a start resumes by causal context (origin-link.ts).
//
// Hibernation: sockets are accepted with ctx.acceptWebSocket; each carries an attachment
// with its sessions' resume state (ServerSessionResumeState, replica-socket.ts), rewritten
// 250 ms after it changed. An object woken from hibernation rebuilds the sessions from it, so idle clients
// notice nothing. A socket whose sessions were not quiescent when the object went away
// (attachment `sessions: null`) is closed with 1012 and its client resumes from its cursor
// on a new socket (nothing acknowledged is lost: it is stored).
//
// Presence (ephemeral: never in SQLite, the attachment or the outbox) is relayed between
// this object's clients and up and down the origin link (core PresenceRelay). After a
// rebuild from hibernation the table starts empty and is rebuilt from the clients' next
// heartbeats (~10 s): shorter than their timeout (~30 s), so nobody seems to leave. Whether
// each session speaks presence survives in its attachment (ServerSessionResumeState).
import { replicaIdFromBytes } from '../../core/src/clock/replica-id.ts';
import { Multiplexer } from '../../core/src/sync/multiplexer.ts';
import { type ServerSessionResumeState, ServerSyncSession } from '../../core/src/sync/server-session.ts';
import type { HelloMessage } from '../../core/src/sync/messages.ts';
import { PresenceRelay } from '../../core/src/sync/presence-relay.ts';
import type { SyncSession } from '../../core/src/sync/sync-session.ts';
import type { DurableObjectState, HibernatableWebSocket, UpgradeResponseInit, WebSocketPairCtor } from './cf-types.ts';
import type { EdgeEnv } from './env.ts';
import { CloseCode, EdgeErrorCode, errorBody } from './errors.ts';
import { type Attachment, attachmentOf, closeFor, closeQuietly, type Connection, saveAttachment, unresumable } from './replica-socket.ts';
import { originUrls } from './origin-urls.ts';
import { OriginLink } from './origin-link.ts';
import { readMeta, SqlKeyspaceLog } from './sql-keyspace-log.ts';

declare const WebSocketPair: WebSocketPairCtor;

/** Header the Worker uses to tell the object which keyspace it serves. */
export const KEYSPACE_HEADER = 'x-neuroplex-keyspace';
/** Header of the Worker's debug route (honoured only with EDGE_DEBUG=1). */
export const DEBUG_HEADER = 'x-neuroplex-debug';

/** The debug header's value that makes the next relayed change be lost as in a crash (EDGE_DEBUG=1 only). */
export const DEBUG_CRASH_BEFORE_WRITE = 'crash-before-write';
/** How long after a change the sockets' attachments are rewritten (far below workerd's ~10 s eviction). */
const ATTACHMENT_SAVE_DELAY_MS = 250;

/** What GET /v1/debug/replica reports (EDGE_DEBUG=1 only). */
export interface ReplicaDebugInfo {
  /** Random per constructed instance: a new one means workerd rebuilt the object. */
  readonly instance: string;
  /** Sockets workerd holds for the object (survive hibernation). */
  readonly sockets: number;
  /** Sockets with live sessions in this instance (rebuilt from attachments after a wake). */
  readonly connections: number;
  /** Sockets whose attachment holds a resumable state (every session quiescent). */
  readonly resumable: number;
  /** Connections this instance rebuilt from attachments. */
  readonly resumed: number;
  readonly head: number;
  /** Changes this instance relayed before their write (the fast path; see the header). */
  readonly relayedFirst: number;
}

/** A client's change relayed before its write: acknowledged once written. */
interface Relayed {
  readonly ws: WebSocket;
  readonly session: ServerSyncSession;
  readonly seq: number;
  readonly bytes: Uint8Array;
  readonly position: number;
}

export class KeyspaceReplicaObject {
  private readonly ctx: DurableObjectState;
  private readonly env: EdgeEnv;
  private log: SqlKeyspaceLog | undefined;
  private link: OriginLink | undefined;
  private readonly conns: Map<WebSocket, Connection>;
  private readonly presence: PresenceRelay;
  private readonly instance: string;
  private resumed: number;
  /** Sockets whose attachment is rewritten in the next turn (see run). */
  private readonly unsaved: Map<WebSocket, Connection>;
  private saveTimer: ReturnType<typeof setTimeout> | undefined;
  /** Changes relayed and not yet acknowledged, in log order: acked once their rows are written. */
  private pendingAcks: Relayed[];
  private writeTimer: ReturnType<typeof setTimeout> | undefined;
  /** Test hook (EDGE_DEBUG=1): the next relayed change is lost before its write, as in a crash. */
  private crashBeforeWrite: boolean;
  private relayedFirst: number;

  constructor(ctx: DurableObjectState, env: EdgeEnv) {
    this.ctx = ctx;
    this.env = env;
    this.log = undefined;
    this.link = undefined;
    this.conns = new Map();
    this.presence = new PresenceRelay({ sessionsOf: () => this.allSessions() });
    this.instance = crypto.randomUUID();
    this.resumed = 0;
    this.unsaved = new Map();
    this.saveTimer = undefined;
    this.pendingAcks = [];
    this.writeTimer = undefined;
    this.crashBeforeWrite = false;
    this.relayedFirst = 0;
    const stored = readMeta(ctx.storage.sql).get('keyspace');
    if (typeof stored === 'string') this.load(stored);
  }

  async fetch(request: Request): Promise<Response> {
    const keyspace = request.headers.get(KEYSPACE_HEADER);
    if (keyspace === null || keyspace === '') return json(400, errorBody(EdgeErrorCode.BadRequest, 'missing keyspace'));
    const debug = this.env.EDGE_DEBUG === '1' ? request.headers.get(DEBUG_HEADER) : null;
    if (debug === '1') return json(200, this.debugInfo());
    if (debug === DEBUG_CRASH_BEFORE_WRITE) {
      this.crashBeforeWrite = true;
      return json(200, this.debugInfo());
    }
    if (request.headers.get('upgrade')?.toLowerCase() !== 'websocket') {
      return json(426, errorBody(EdgeErrorCode.UpgradeRequired, 'GET /v1/sync needs a WebSocket upgrade'));
    }
    const log = this.load(keyspace);
    if (log.keyspace !== keyspace) return json(400, errorBody(EdgeErrorCode.BadRequest, `this replica serves keyspace ${log.keyspace}`));
    const pair = new WebSocketPair();
    const server = pair[1];
    this.ctx.acceptWebSocket(server);
    server.serializeAttachment({ keyspace, hello: false, sessions: [] } satisfies Attachment);
    const init: UpgradeResponseInit = { status: 101, webSocket: pair[0] };
    return new Response(null, init);
  }

  async webSocketMessage(ws: HibernatableWebSocket, message: string | ArrayBuffer): Promise<void> {
    if (typeof message === 'string') {
      this.drop(ws, CloseCode.UnsupportedData, 'the sync protocol uses binary frames');
      return;
    }
    let conn = this.conns.get(ws);
    if (conn === undefined) {
      // Only a socket this instance does not know yet needs its attachment read (a wake).
      const att = attachmentOf(ws);
      if (unresumable(att)) {
        closeQuietly(ws, CloseCode.ServiceRestart, 'edge replica restarted: reconnect to resume');
        return;
      }
      // Woken from hibernation: the sessions go on from their saved state.
      conn = this.connect(ws, att.keyspace, att.sessions ?? []);
    }
    try {
      conn.mux.receive(new Uint8Array(message));
      this.run(ws);
    } catch (e) {
      // A bug or a storage failure: this socket ends, the object keeps serving the others.
      this.drop(ws, CloseCode.Internal, `edge error: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  async webSocketClose(ws: HibernatableWebSocket, code: number, _reason: string): Promise<void> {
    this.forget(ws);
    this.run(); // its peers' leaves go out
    try {
      ws.close(code === 1005 || code === 1006 ? CloseCode.Normal : code, 'closed');
    } catch {
      // already closed
    }
  }

  async webSocketError(ws: HibernatableWebSocket): Promise<void> {
    this.forget(ws);
    this.run();
  }

  async alarm(): Promise<void> {
    this.link?.onAlarm();
  }

  // ---- the shell loop -----------------------------------------------------------------

  private load(keyspace: string): SqlKeyspaceLog {
    if (this.log !== undefined) return this.log;
    this.log = SqlKeyspaceLog.open(this.ctx.storage.sql, keyspace, () => {
      const bytes = crypto.getRandomValues(new Uint8Array(8));
      const logId = `edge-${[...crypto.getRandomValues(new Uint8Array(8))].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
      return { replicaId: replicaIdFromBytes(bytes), logId };
    });
    // Sockets that outlived an eviction (hibernation): their sessions go on from the saved
    // state, so fan-out reaches them too; ones without a usable state reconnect and resume.
    for (const ws of this.ctx.getWebSockets()) {
      const att = attachmentOf(ws);
      if (unresumable(att)) closeQuietly(ws, CloseCode.ServiceRestart, 'edge replica restarted: reconnect to resume');
      else if (!this.conns.has(ws) && att.keyspace === keyspace) this.connect(ws, att.keyspace, att.sessions ?? []);
    }
    const origins = originUrls(this.env.ORIGIN_URL);
    if (origins.length > 0) {
      const link = new OriginLink(this.ctx, this.log, origins, this.env.ORIGIN_TOKEN ?? '', () => this.run());
      const ks = this.log.keyspace;
      const me = this.log.replica.id;
      link.presence = {
        opened: () => {
          // Says this edge speaks presence (so the origin shows it the others), then who is here.
          link.sendPresence(me, undefined);
          for (const e of this.presence.localEntries(ks)) link.sendPresence(e.peer, e.state);
        },
        received: (peer, state) => this.presence.fromUpstream(ks, 'origin', peer, state, Date.now()),
        lost: () => {
          this.presence.upstreamGone('origin');
          // The link can drop outside the shell loop (a socket close event): flush the leaves.
          queueMicrotask(() => this.run());
        },
      };
      this.link = link;
      link.start();
    }
    return this.log;
  }

  private connect(ws: WebSocket, keyspace: string, resumed: readonly ServerSessionResumeState[] = []): Connection {
    const log = this.load(keyspace);
    const token = this.env.EDGE_TOKEN;
    const options = (hello: Pick<HelloMessage, 'channel'>) => ({
      channel: hello.channel,
      source: log,
      authorize: token === undefined || token === '' ? undefined : (t: string) => t === token,
    });
    if (resumed.length > 0) this.resumed++;
    const conn: Connection = {
      keyspace,
      saved: '',
      sessions: new Set(),
      mux: new Multiplexer({
        accept: (hello) => {
          const s = new ServerSyncSession(options(hello));
          conn.sessions.add(s);
          return s;
        },
        maxChannels: 16,
      }),
    };
    for (const r of resumed) {
      const s = ServerSyncSession.resume(options(r), r);
      conn.sessions.add(s);
      conn.mux.add(s);
    }
    this.conns.set(ws, conn);
    return conn;
  }

  private debugInfo(): ReplicaDebugInfo {
    const sockets = this.ctx.getWebSockets();
    let resumable = 0;
    for (const ws of sockets) {
      const att = attachmentOf(ws);
      if (att !== null && att.sessions !== null && att.sessions.length > 0) resumable++;
    }
    return { instance: this.instance, sockets: sockets.length, connections: this.conns.size, resumable, resumed: this.resumed, head: this.log?.head() ?? 0, relayedFirst: this.relayedFirst };
  }

  /**
   * Drains the sessions' effects (of socket `only`; of all when undefined; of none when
   * null), relays or stores what clients sent, acknowledges what is written, streams new
   * entries to every session and flushes. A frame that changed nothing shared (an ack)
   * touches only its own socket, so N acks per change cost O(N), not O(N^2).
   */
  run(only?: WebSocket | null): void {
    const log = this.log;
    if (log === undefined) return;
    const start = log.head();
    const touched = only === undefined ? [...this.conns] : only !== null && this.conns.has(only) ? [[only, this.conns.get(only)!] as const] : [];
    const relayed: Relayed[] = [];
    for (const [ws, conn] of touched) {
      let closeWith: { code: number; reason: string } | undefined;
      for (const s of conn.sessions) {
        for (const e of s.takeEffects()) {
          if (e.kind === 'deliver') {
            const position = log.stage(e.delta, e.bytes, e.from);
            if (position !== undefined) relayed.push({ ws, session: s, seq: e.seq, bytes: e.bytes, position });
            else {
              // Changes staged earlier in this run reach the origin link first: it numbers
              // what it forwards in log order, and a committed ack covers every earlier seq.
              if (relayed.length > 0) this.relay(relayed.splice(0));
              this.stored(s, e.seq, e.bytes, log.commit(e.delta, e.bytes, e.from), false);
            }
          } else if (e.kind === 'presence') {
            const change = this.presence.fromSession(log.keyspace, s, e.peer, e.state, e.first, Date.now());
            if (change !== undefined) this.link?.sendPresence(change.peer, change.state);
          } else if (e.kind === 'closed') {
            conn.sessions.delete(s);
            this.presenceGone(s);
            if (e.error !== undefined && !e.error.remote) closeWith = closeFor(e.error);
          }
        }
      }
      if (conn.mux.error !== undefined) closeWith = closeFor(conn.mux.error);
      if (closeWith !== undefined) {
        this.send(ws, conn);
        this.drop(ws, closeWith.code, closeWith.reason);
      }
    }
    if (relayed.length > 0) this.relay(relayed);
    // A relay streamed everything up to the head to everyone already; what follows is news
    // only if the log moves again (a change from the origin).
    const head = relayed.length > 0 ? log.head() : start;
    const acked = this.ackWritten(log);
    // After the fan-out of what was relayed (relay sent it): the origin link's frames, its
    // forwarded changes included, and its effects.
    const linkActed = this.link?.pump() ?? false;
    this.confirmReservation(log);
    this.presence.expire(Date.now());
    const presenceSent = this.presence.takeTouched().size > 0;
    const advanced = log.head() !== head;
    if (advanced) for (const conn of this.conns.values()) for (const s of conn.sessions) s.logAdvanced();
    let targets: (readonly [WebSocket, Connection])[];
    if (advanced || linkActed || presenceSent || only === undefined) targets = [...this.conns];
    else {
      const socks = new Set<WebSocket>(acked);
      for (const [ws] of touched) socks.add(ws);
      targets = [...socks].filter((ws) => this.conns.has(ws)).map((ws) => [ws, this.conns.get(ws)!] as const);
    }
    for (const [ws, conn] of targets) {
      this.send(ws, conn);
      this.unsaved.set(ws, conn);
    }
    // Attachments are rewritten in a later turn, not per frame: 100 receivers' acks would
    // otherwise cost 100 rewrites per change, on the thread that writes the fan-out. Safe:
    // workerd evicts an object only after ~10 s without events (the timer fires long
    // before), and a crash drops the sockets with the object.
    if (this.saveTimer === undefined && this.unsaved.size > 0) this.saveTimer = setTimeout(() => this.saveAll(), ATTACHMENT_SAVE_DELAY_MS);
  }

  /**
   * Sends relayed (staged, unwritten) changes to every session now and queues them for the
   * origin; they are written next turn. The origin may get a change the edge then loses in a
   * crash: the link's context resume after a restart brings it back (origin-link.ts).
   *
   * The link is not pumped here: a pump sends on the origin socket and carries out the
   * origin's effects (a delivery from the origin is a log write, which workerd's output gate
   * would make the fan-out below wait for). `run` pumps it once this fan-out is sent. Queuing
   * them here (`forward`), before any change `run` commits after, keeps the origin's order
   * the log's: the link numbers what it forwards in order and sends it in that order.
   */
  private relay(relayed: readonly Relayed[]): void {
    this.relayedFirst += relayed.length;
    if (this.link !== undefined) for (const r of relayed) this.link.forward(r.bytes, r.session, r.seq, r.position);
    for (const conn of this.conns.values()) for (const s of conn.sessions) s.logAdvanced();
    for (const [ws, conn] of [...this.conns]) this.send(ws, conn);
    this.pendingAcks.push(...relayed);
    this.writeTimer ??= setTimeout(() => this.writeStaged(), 0);
  }

  /** The turn after a relay: writes the staged rows, then acknowledges their authors. */
  private writeStaged(): void {
    this.writeTimer = undefined;
    if (this.log === undefined) return;
    if (this.crashBeforeWrite) return this.crash();
    try {
      this.log.flush();
      this.run(null);
    } catch (cause) {
      // Relayed changes whose rows were not written must never be acknowledged: drop this
      // instance's memory as a crash would; clients reconnect and resend what is unacked.
      console.error(`edge replica: writing relayed changes failed, restarting: ${(cause as Error).message}`);
      this.crash();
    }
  }

  /** Acknowledges relayed changes whose rows are written; returns their sockets. */
  private ackWritten(log: SqlKeyspaceLog): Set<WebSocket> {
    const socks = new Set<WebSocket>();
    const written = log.writtenThrough;
    let n = 0;
    while (n < this.pendingAcks.length && this.pendingAcks[n]!.position <= written) {
      const r = this.pendingAcks[n++]!;
      // Even if its author left meanwhile: the outbox row is written, the origin has it.
      this.stored(r.session, r.seq, r.bytes, r.position, true);
      socks.add(r.ws);
    }
    if (n > 0) this.pendingAcks.splice(0, n);
    return socks;
  }

  /** A reservation written in this turn: once durable, relaying before the write may use it. */
  private confirmReservation(log: SqlKeyspaceLog): void {
    const reservation = log.takeReservation();
    if (reservation === undefined) return;
    this.ctx.storage.sync().then(
      () => log.confirm(reservation),
      () => {}, // not confirmed: changes keep being written before they are sent
    );
  }

  /**
   * A client's change is written (in this turn): ack it. `forwarded`: it went to the origin
   * link already (relayed); else it goes now. The link's outbox rows are written with it.
   */
  private stored(s: ServerSyncSession, seq: number, bytes: Uint8Array, position: number, forwarded: boolean): void {
    s.storedUpTo(seq);
    if (this.link === undefined) s.committedUpTo(seq, position);
    else {
      if (!forwarded) this.link.forward(bytes, s, seq, position);
      this.link.writeOutbox();
    }
  }

  /**
   * The test hook's crash, and what a failed write of relayed rows does: this instance's
   * memory (the relayed changes' rows were never written) is gone and every socket must
   * reconnect, as after workerd died; the next request reopens the log from SQLite.
   */
  private crash(): void {
    this.crashBeforeWrite = false;
    for (const ws of this.ctx.getWebSockets()) {
      const att = attachmentOf(ws);
      if (att !== null) (ws as HibernatableWebSocket).serializeAttachment({ ...att, hello: true, sessions: null } satisfies Attachment);
      closeQuietly(ws, CloseCode.ServiceRestart, 'edge replica restarted: reconnect to resume');
    }
    this.conns.clear();
    this.unsaved.clear();
    this.pendingAcks = [];
    if (this.writeTimer !== undefined) clearTimeout(this.writeTimer);
    this.writeTimer = undefined;
    this.link?.stop();
    this.link = undefined;
    this.log = undefined;
  }

  private saveAll(): void {
    this.saveTimer = undefined;
    for (const [ws, conn] of this.unsaved) if (this.conns.get(ws) === conn) saveAttachment(ws, conn);
    this.unsaved.clear();
  }

  /** Sends the socket's pending frames; false when the socket is gone. */
  private send(ws: WebSocket, conn: Connection): boolean {
    for (const f of conn.mux.takeFrames()) {
      try {
        ws.send(f as Uint8Array<ArrayBuffer>);
      } catch {
        this.forget(ws);
        return false;
      }
    }
    return true;
  }

  private drop(ws: WebSocket, code: number, reason: string): void {
    this.forget(ws);
    closeQuietly(ws, code, reason);
  }

  private forget(ws: WebSocket): void {
    const conn = this.conns.get(ws);
    if (conn === undefined) return;
    this.conns.delete(ws);
    this.unsaved.delete(ws);
    this.link?.forgetSessions(conn.sessions);
    for (const s of conn.sessions) this.presenceGone(s);
  }

  /** The peers a session announced leave: its neighbours hear at the next flush, the origin now. */
  private presenceGone(s: ServerSyncSession): void {
    if (this.log === undefined) return;
    for (const change of this.presence.sessionGone(this.log.keyspace, s)) this.link?.sendPresence(change.peer, change.state);
  }

  private *allSessions(): Iterable<SyncSession> {
    for (const conn of this.conns.values()) yield* conn.sessions;
  }
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}
