// The few Cloudflare Workers runtime types the edge uses, declared here rather than pulled
// in from @cloudflare/workers-types, whose globals clash with the DOM lib the other
// workspaces share. Only what this folder calls is listed.

export interface SqlCursor<T> extends Iterable<T> {
  toArray(): T[];
  one(): T;
  readonly rowsWritten: number;
}

export interface SqlStorage {
  exec<T = Record<string, SqlValue>>(query: string, ...bindings: unknown[]): SqlCursor<T>;
}

export type SqlValue = string | number | ArrayBuffer | null;

export interface DurableObjectStorage {
  readonly sql: SqlStorage;
  getAlarm(): Promise<number | null>;
  setAlarm(scheduledTime: number): Promise<void>;
  deleteAlarm(): Promise<void>;
  transactionSync<T>(fn: () => T): T;
  /** Resolves once every write made so far is durable. */
  sync(): Promise<void>;
}

export interface DurableObjectState {
  readonly storage: DurableObjectStorage;
  blockConcurrencyWhile<T>(fn: () => Promise<T>): Promise<T>;
  acceptWebSocket(ws: WebSocket, tags?: string[]): void;
  getWebSockets(tag?: string): WebSocket[];
}

/** A WebSocket as workerd extends it (attachments survive hibernation). */
export interface HibernatableWebSocket extends WebSocket {
  serializeAttachment(value: unknown): void;
  deserializeAttachment(): unknown;
  accept(): void;
}

export interface DurableObjectId {
  toString(): string;
}

export interface DurableObjectStub {
  fetch(request: Request): Promise<Response>;
}

export interface DurableObjectNamespace {
  idFromName(name: string): DurableObjectId;
  get(id: DurableObjectId): DurableObjectStub;
}

/** The pair `new WebSocketPair()` gives: [client end, server end]. */
export interface WebSocketPairCtor {
  new (): { 0: HibernatableWebSocket; 1: HibernatableWebSocket };
}

/** A Response init that may carry the client end of an upgraded socket. */
export type UpgradeResponseInit = ResponseInit & { webSocket?: WebSocket };
