// The edge replica's outbound link to the origin: one ClientSyncSession over a WebSocket to
// `${ORIGIN_URL}/v1/sync`. Every change a client makes at this edge is stored in the
// object's log and, in the same synchronous step, appended to a durable outbox (the
// session's pending changes); the origin's committed acknowledgements drop outbox rows and
// are passed on to the clients that made those changes. Changes from the origin enter the
// edge log like a client's and fan out from there. While the origin is unreachable the
// edge keeps serving; reconnects back off through Durable Object alarms and resume from
// the persisted cursor (origin log id + position) with the outbox resent. Presence (never
// stored) rides the same session both ways; see `presence` below.
//
// A change may be forwarded before its rows (edge log, outbox) are written: `forward` sends
// it, `writeOutbox` writes the outbox rows in the turn that writes the log. If the object
// dies in between, the origin may hold a change the edge lost, and the origin never
// streams an edge's own changes back to it by cursor. So the first session of every link
// instance (every object start) resumes by causal context: the origin sends whatever the
// edge's replica lacks, that change included; later reconnects resume by cursor.
//
// Tables (besides SqlKeyspaceLog's):
//   np_outbox(lsn INTEGER PRIMARY KEY, bytes BLOB)   changes not yet committed at the origin
//   np_meta: originLogId, originPosition              the resume cursor
import { assert } from '../../core/src/errors.ts';
import { ClientSyncSession } from '../../core/src/sync/client-session.ts';
import { ClientSyncState, type PendingDelta } from '../../core/src/sync/client-state.ts';
import { Multiplexer } from '../../core/src/sync/multiplexer.ts';
import type { ReplicaId } from '../../core/src/clock/replica-id.ts';
import type { ServerSyncSession } from '../../core/src/sync/server-session.ts';
import type { DurableObjectState, SqlStorage } from './cf-types.ts';
import { bytesOf, readMeta, type SqlKeyspaceLog, writeMeta } from './sql-keyspace-log.ts';

/** Backoff bounds for reconnecting to the origin. */
export const ORIGIN_RETRY_MIN_MS = 250;
export const ORIGIN_RETRY_MAX_MS = 30_000;

interface Waiting {
  readonly lsn: number;
  readonly session: ServerSyncSession;
  readonly seq: number;
  readonly position: number;
}

export type OriginLinkStatus = 'idle' | 'connecting' | 'open' | 'backoff' | 'stopped';

/** The owner's presence hooks: the link carries its clients' presence up and the origin's down. */
export interface OriginLinkPresence {
  /** A session to the origin is open: announce who is present here. */
  opened(): void;
  received(peer: ReplicaId, state: Uint8Array | undefined): void;
  /** The session ended: the peers the origin announced are gone. */
  lost(): void;
}

export class OriginLink {
  private readonly ctx: DurableObjectState;
  private readonly sql: SqlStorage;
  private readonly log: SqlKeyspaceLog;
  /** The origin nodes' sync endpoints; a failed connection or a lost one moves to the next. */
  private readonly urls: readonly string[];
  private urlIndex: number;
  private readonly token: string;
  /** The owner's shell loop: run after anything arrives from the origin. */
  private readonly run: () => void;
  private readonly state: ClientSyncState;
  private session: ClientSyncSession | undefined;
  private mux: Multiplexer | undefined;
  private ws: WebSocket | undefined;
  private waiting: Waiting[];
  /** Forwarded changes whose outbox rows are not written yet (writeOutbox). */
  private unwritten: { lsn: number; bytes: Uint8Array }[];
  /** The highest lsn the origin acknowledged as committed. */
  private committedLsn: number;
  /** Until a session of this instance caught up: resume by causal context (see the header). */
  private resumeByContext: boolean;
  private attempts: number;
  status: OriginLinkStatus;
  presence: OriginLinkPresence | undefined;

  /** `originUrls`: the origin nodes' base URLs (origin-urls.ts), at least one. */
  constructor(ctx: DurableObjectState, log: SqlKeyspaceLog, originUrls: readonly string[], token: string, run: () => void) {
    assert(originUrls.length > 0, 'an origin link needs an origin URL');
    this.ctx = ctx;
    this.sql = ctx.storage.sql;
    this.log = log;
    this.urls = originUrls.map((u) => `${u}/v1/sync`);
    this.urlIndex = 0;
    this.token = token;
    this.run = run;
    this.sql.exec('CREATE TABLE IF NOT EXISTS np_outbox (lsn INTEGER PRIMARY KEY, bytes BLOB NOT NULL)');
    const meta = readMeta(this.sql);
    const pending: PendingDelta[] = [];
    for (const row of this.sql.exec<{ lsn: number; bytes: ArrayBuffer }>('SELECT lsn, bytes FROM np_outbox ORDER BY lsn')) {
      pending.push({ lsn: row.lsn, bytes: bytesOf(row.bytes) });
    }
    const logId = meta.get('originLogId');
    const position = meta.get('originPosition');
    this.state = new ClientSyncState({ logId: typeof logId === 'string' ? logId : '', position: typeof position === 'number' ? position : 0, pending });
    this.session = undefined;
    this.mux = undefined;
    this.ws = undefined;
    this.waiting = [];
    this.unwritten = [];
    this.committedLsn = 0;
    this.resumeByContext = true;
    this.attempts = 0;
    this.status = 'idle';
    this.presence = undefined;
  }

  /** Sends a peer's presence to the origin; false while no session can carry it. */
  sendPresence(peer: ReplicaId, state: Uint8Array | undefined): boolean {
    const s = this.session;
    return s !== undefined && !s.closed && s.sendPresence(peer, state);
  }

  /** Changes stored at the edge and not yet committed at the origin. */
  get outboxLength(): number {
    return this.state.pending.length;
  }

  start(): void {
    if (this.status === 'idle') void this.connect();
  }

  onAlarm(): void {
    if (this.status === 'backoff' || this.status === 'idle') void this.connect();
  }

  /** Ends the link for good (the owner's test-hook crash): no reconnect follows. */
  stop(): void {
    const ws = this.ws;
    this.ws = undefined;
    this.mux = undefined;
    this.session = undefined;
    this.status = 'stopped';
    try {
      ws?.close(1000, 'stopped');
    } catch {
      // already closed
    }
  }

  /**
   * A client's change, in the edge log at `position` (its row written in this turn or a
   * later one): queued for the origin (sent at the next pump). Its outbox row is written by
   * `writeOutbox`, in the turn that writes the log.
   */
  forward(bytes: Uint8Array, session: ServerSyncSession, seq: number, position: number): void {
    const live = this.session !== undefined && !this.session.closed && this.status === 'open';
    const p = live ? this.session!.localDelta(bytes) : this.state.addLocal(bytes);
    this.unwritten.push({ lsn: p.lsn, bytes });
    this.waiting.push({ lsn: p.lsn, session, seq, position });
  }

  /** Writes the outbox rows of forwarded changes (not those the origin committed meanwhile). */
  writeOutbox(): void {
    for (const u of this.unwritten) if (u.lsn > this.committedLsn) this.sql.exec('INSERT INTO np_outbox (lsn, bytes) VALUES (?, ?)', u.lsn, u.bytes);
    this.unwritten = [];
  }

  /** Sessions of a socket that went away: nothing more to tell them. */
  forgetSessions(sessions: ReadonlySet<ServerSyncSession>): void {
    if (sessions.size > 0) this.waiting = this.waiting.filter((w) => !sessions.has(w.session));
  }

  /**
   * Part of the owner's loop: carries out the session's effects and sends its frames.
   * Returns true when it did something that may concern any client session.
   */
  pump(): boolean {
    const s = this.session;
    if (s === undefined) return false;
    const effects = s.takeEffects();
    for (const e of effects) {
      switch (e.kind) {
        case 'deliver':
          this.log.commit(e.delta, e.bytes, undefined);
          writeMeta(this.sql, 'originLogId', this.state.logId);
          writeMeta(this.sql, 'originPosition', e.position);
          s.storedUpTo(e.seq);
          break;
        case 'chunk':
          // Snapshot parts are not kept across restarts: an interrupted transfer restarts.
          s.storedUpTo(e.seq);
          break;
        case 'cursor':
          writeMeta(this.sql, 'originLogId', e.logId);
          writeMeta(this.sql, 'originPosition', e.position);
          break;
        case 'acknowledged':
          if (e.level === 'committed') this.committed(e.lsn);
          break;
        case 'status':
          // Resume by cursor only once the catch-up by context is whole (and written, by the
          // deliveries before this effect): a session cut during it asks by context again.
          if (e.status === 'synced') this.resumeByContext = false;
          if (e.status === 'syncing') {
            this.status = 'open';
            this.attempts = 0;
            this.presence?.opened();
          }
          break;
        case 'presence':
          this.presence?.received(e.peer, e.state);
          break;
        case 'closed':
          this.disconnected();
          return true;
      }
    }
    const ws = this.ws;
    if (ws === undefined || this.mux === undefined) return effects.length > 0;
    for (const f of this.mux.takeFrames()) {
      try {
        ws.send(f as Uint8Array<ArrayBuffer>);
      } catch {
        this.disconnected();
        return true;
      }
    }
    return effects.length > 0;
  }

  private committed(lsn: number): void {
    if (lsn > this.committedLsn) this.committedLsn = lsn;
    this.sql.exec('DELETE FROM np_outbox WHERE lsn <= ?', lsn);
    let n = 0;
    const acks = new Map<ServerSyncSession, { seq: number; position: number }>();
    while (n < this.waiting.length && this.waiting[n]!.lsn <= lsn) {
      const w = this.waiting[n++]!;
      acks.set(w.session, { seq: w.seq, position: w.position });
    }
    this.waiting.splice(0, n);
    for (const [session, a] of acks) session.committedUpTo(a.seq, a.position);
  }

  private async connect(): Promise<void> {
    this.status = 'connecting';
    let ws: WebSocket;
    try {
      const headers: Record<string, string> = { Upgrade: 'websocket' };
      if (this.token !== '') headers['authorization'] = `Bearer ${this.token}`;
      const resp = (await fetch(this.urls[this.urlIndex]!, { headers })) as Response & { webSocket?: WebSocket & { accept(): void } };
      if (resp.webSocket === undefined || resp.webSocket === null) throw new Error(`origin answered ${resp.status}`);
      resp.webSocket.accept();
      ws = resp.webSocket;
    } catch {
      // That node is down or refused: the next attempt goes to the next one (the resume
      // cursor is the cluster's log position, valid at every node).
      this.urlIndex = (this.urlIndex + 1) % this.urls.length;
      await this.backoff();
      return;
    }
    // stop() may have run while the fetch was under way.
    if ((this.status as OriginLinkStatus) === 'stopped') {
      ws.close(1000, 'stopped');
      return;
    }
    ws.binaryType = 'arraybuffer';
    const mux = new Multiplexer();
    const session = new ClientSyncSession({ channel: mux.allocateChannel(), keyspace: this.log.keyspace, replica: this.log.replica, state: this.state, token: this.token, localStoreLoaded: true, resume: this.resumeByContext ? 'context' : 'cursor' });
    mux.add(session);
    this.ws = ws;
    this.mux = mux;
    this.session = session;
    ws.addEventListener('message', (ev: MessageEvent) => {
      if (this.ws !== ws || !(ev.data instanceof ArrayBuffer)) return;
      mux.receive(new Uint8Array(ev.data));
      this.run();
    });
    const lost = (): void => {
      if (this.ws === ws) this.disconnected();
    };
    ws.addEventListener('close', lost);
    ws.addEventListener('error', lost);
    session.start();
    this.run();
  }

  private disconnected(): void {
    const ws = this.ws;
    const had = this.session !== undefined;
    this.ws = undefined;
    this.mux = undefined;
    this.session = undefined;
    if (had) this.presence?.lost();
    this.urlIndex = (this.urlIndex + 1) % this.urls.length;
    // Resent by the next session; the clients still wait for their committed acks.
    if (ws !== undefined) {
      try {
        ws.close(1000, 'reconnecting');
      } catch {
        // already closed
      }
    }
    void this.backoff();
  }

  private async backoff(): Promise<void> {
    if (this.status === 'stopped') return;
    this.status = 'backoff';
    const delay = Math.min(ORIGIN_RETRY_MAX_MS, ORIGIN_RETRY_MIN_MS * 2 ** Math.min(this.attempts, 16));
    this.attempts++;
    await this.ctx.storage.setAlarm(Date.now() + delay);
  }
}
