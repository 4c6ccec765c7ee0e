// One client socket of the keyspace replica object: its sessions (a Multiplexer of
// ServerSyncSessions) and its hibernation attachment, which holds the sessions' resume state
// so that an object rebuilt after eviction serves the socket on (replica-object.ts). Also
// how a socket is closed: quietly (it may be closing already) and with the close code for a
// sync protocol error.
import { SyncErrorCode, type SyncProtocolError } from '../../core/src/sync/errors.ts';
import type { Multiplexer } from '../../core/src/sync/multiplexer.ts';
import type { ServerSessionResumeState, ServerSyncSession } from '../../core/src/sync/server-session.ts';
import type { HibernatableWebSocket } from './cf-types.ts';
import { CloseCode } from './errors.ts';

/** What a socket's attachment holds (structured-cloneable, survives hibernation). */
export interface Attachment {
  keyspace: string;
  /** True once a session was opened on the socket (its loss needs a reconnect). */
  hello: boolean;
  /** The sessions' resume state; null when one was not quiescent (no resume possible). */
  sessions: ServerSessionResumeState[] | null;
}

export interface Connection {
  readonly keyspace: string;
  readonly mux: Multiplexer;
  readonly sessions: Set<ServerSyncSession>;
  /** The attachment last written, as JSON (written again only when it changes). */
  saved: string;
}

export function attachmentOf(ws: WebSocket): Attachment | null {
  return (ws as HibernatableWebSocket).deserializeAttachment() as Attachment | null;
}

/** A socket whose sessions cannot be rebuilt from its attachment: it must reconnect. */
export function unresumable(att: Attachment | null): att is null | (Attachment & { sessions: null }) {
  return att === null || (att.hello && att.sessions === null);
}

/** Keeps the socket's attachment in step with its sessions, for a wake from hibernation. */
export function saveAttachment(ws: WebSocket, conn: Connection): void {
  let sessions: ServerSessionResumeState[] | null = [];
  for (const s of conn.sessions) {
    if (s.closed) continue;
    const r = s.resumeState();
    if (r === undefined) {
      sessions = null;
      break;
    }
    sessions.push(r);
  }
  const att: Attachment = { keyspace: conn.keyspace, hello: true, sessions };
  const json = JSON.stringify(att);
  if (json === conn.saved) return;
  conn.saved = json;
  (ws as HibernatableWebSocket).serializeAttachment(att);
}

/** Closes a socket that may already be closing (close reasons are capped at 123 bytes). */
export function closeQuietly(ws: WebSocket, code: number, reason: string): void {
  try {
    ws.close(code, reason.slice(0, 120));
  } catch {
    // already closed
  }
}

export function closeFor(error: SyncProtocolError): { code: number; reason: string } {
  const reason = `${error.code}: ${error.message}`;
  if (error.code === SyncErrorCode.Refused) return { code: error.reason === 'unauthorized' ? CloseCode.Unauthorized : CloseCode.ProtocolError, reason };
  if (error.code === SyncErrorCode.TooLarge) return { code: CloseCode.TooLarge, reason };
  return { code: CloseCode.ProtocolError, reason };
}
