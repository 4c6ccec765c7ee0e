// Frames of the binary client protocol (a WebSocket binary message each): many requests in
// flight on one connection, each answered by its request id, in any order.
//
// Request  = u8 version (1) | u8 op | varuint requestId | body
//   op 1 propose: varuint timeoutMs | bytes command (kv/command-codec.ts)
//   op 2 read:    u8 consistency (0 strong, 1 causal, 2 eventual) | string ks | string key |
//                 varuint minVersion (0: none) | varuint timeoutMs
//   op 3 cluster: (empty) — who leads, for clients that follow the leader
// Response = u8 version (1) | u8 kind | varuint requestId | body
//   kind 1 result:  bytes result (kv/record-codec.ts encodeResult)
//   kind 2 entry:   u8 found (0|1) | found ? bytes entry (encodeEntry) : nothing
//   kind 3 error:   string code | string message
//   kind 4 cluster: string nodeId | string leaderId ("" none) | string leaderUrl ("" unknown)
//
// Decoders validate everything (version, op/kind, sizes, nested command/result/entry) and
// throw DecodeError; nothing is trusted from the wire.
import { Reader } from '../codec/reader.ts';
import { Writer } from '../codec/writer.ts';
import { DecodeError, ErrorCode } from '../errors.ts';
import { decodeCommand, encodeCommand, type CommandLimits } from '../kv/command-codec.ts';
import type { KvCommand, KvEntry, KvResult } from '../kv/commands.ts';
import { decodeEntry, decodeResult, encodeEntry, encodeResult } from '../kv/record-codec.ts';

export const CLIENT_PROTOCOL_VERSION = 1;
const MAX_NAME_BYTES = 1024;
const MAX_MESSAGE_BYTES = 4096;
const MAX_TIMEOUT_MS = 10 * 60_000;
/** Request ids are varuints below 2^53 (a JS safe integer). */

export const ClientOp = { Propose: 1, Read: 2, Cluster: 3 } as const;
export type ClientOp = (typeof ClientOp)[keyof typeof ClientOp];
export const ResponseKind = { Result: 1, Entry: 2, Error: 3, Cluster: 4 } as const;
export type ResponseKind = (typeof ResponseKind)[keyof typeof ResponseKind];

const CONSISTENCIES = ['strong', 'causal', 'eventual'] as const;
export type ClientConsistency = (typeof CONSISTENCIES)[number];

export type ClientRequest =
  | {
      readonly op: typeof ClientOp.Propose;
      readonly id: number;
      readonly timeoutMs: number;
      readonly command: KvCommand;
      /** Set by decodeRequest: the bytes `command` was decoded from (a node logs them as they are). */
      readonly commandBytes?: Uint8Array;
    }
  | {
      readonly op: typeof ClientOp.Read;
      readonly id: number;
      readonly consistency: ClientConsistency;
      readonly ks: string;
      readonly key: string;
      readonly minVersion: number;
      readonly timeoutMs: number;
    }
  | { readonly op: typeof ClientOp.Cluster; readonly id: number };

export type ClientResponse =
  | { readonly kind: typeof ResponseKind.Result; readonly id: number; readonly result: KvResult }
  | { readonly kind: typeof ResponseKind.Entry; readonly id: number; readonly entry: KvEntry | undefined }
  | { readonly kind: typeof ResponseKind.Error; readonly id: number; readonly code: string; readonly message: string }
  | { readonly kind: typeof ResponseKind.Cluster; readonly id: number; readonly nodeId: string; readonly leaderId: string; readonly leaderUrl: string };

export function encodeRequest(req: ClientRequest, limits: CommandLimits = {}, w = new Writer(256)): Uint8Array {
  w.reset();
  w.u8(CLIENT_PROTOCOL_VERSION);
  w.u8(req.op);
  w.varuint(req.id);
  switch (req.op) {
    case ClientOp.Propose:
      w.varuint(req.timeoutMs);
      w.bytes(encodeCommand(req.command, limits));
      break;
    case ClientOp.Read:
      w.u8(CONSISTENCIES.indexOf(req.consistency));
      w.string(req.ks);
      w.string(req.key);
      w.varuint(req.minVersion);
      w.varuint(req.timeoutMs);
      break;
    case ClientOp.Cluster:
      break;
  }
  return w.finish();
}

function readHeader(r: Reader): { tag: number; id: number } {
  const v = r.u8();
  if (v !== CLIENT_PROTOCOL_VERSION) throw new DecodeError(ErrorCode.DecodeVersion, `unknown client protocol version ${v}`, r.pos - 1);
  const tag = r.u8();
  const id = r.varuint();
  return { tag, id };
}

/** The request id of a frame whose body is bad, so the error can still be answered (or undefined). */
export function peekRequestId(bytes: Uint8Array): number | undefined {
  try {
    const r = new Reader(bytes);
    r.u8();
    r.u8();
    return r.varuint();
  } catch {
    return undefined;
  }
}

export function decodeRequest(bytes: Uint8Array, limits: CommandLimits = {}): ClientRequest {
  const r = new Reader(bytes);
  const { tag, id } = readHeader(r);
  let req: ClientRequest;
  switch (tag) {
    case ClientOp.Propose: {
      const timeoutMs = r.bounded(1, MAX_TIMEOUT_MS, 'timeoutMs');
      const at = r.pos;
      const raw = r.bytes(bytes.length);
      let command: KvCommand;
      try {
        command = decodeCommand(raw, limits);
      } catch (e) {
        if (e instanceof DecodeError) throw new DecodeError(e.code, `command: ${e.message}`, at);
        throw e;
      }
      req = { op: ClientOp.Propose, id, timeoutMs, command, commandBytes: raw };
      break;
    }
    case ClientOp.Read: {
      const c = r.u8();
      const consistency = CONSISTENCIES[c];
      if (consistency === undefined) r.fail(ErrorCode.DecodeInvalid, `unknown consistency ${c}`);
      const ks = r.string(MAX_NAME_BYTES);
      const key = r.string(MAX_NAME_BYTES);
      const minVersion = r.varuint();
      const timeoutMs = r.bounded(1, MAX_TIMEOUT_MS, 'timeoutMs');
      req = { op: ClientOp.Read, id, consistency, ks, key, minVersion, timeoutMs };
      break;
    }
    case ClientOp.Cluster:
      req = { op: ClientOp.Cluster, id };
      break;
    default:
      throw new DecodeError(ErrorCode.DecodeType, `unknown request op ${tag}`, 1);
  }
  r.end();
  return req;
}

export function encodeResponse(res: ClientResponse, w = new Writer(256)): Uint8Array {
  w.reset();
  w.u8(CLIENT_PROTOCOL_VERSION);
  w.u8(res.kind);
  w.varuint(res.id);
  switch (res.kind) {
    case ResponseKind.Result:
      w.bytes(encodeResult(res.result));
      break;
    case ResponseKind.Entry:
      w.u8(res.entry === undefined ? 0 : 1);
      if (res.entry !== undefined) w.bytes(encodeEntry(res.entry));
      break;
    case ResponseKind.Error:
      w.string(res.code.slice(0, 64));
      w.string(res.message.slice(0, 1000));
      break;
    case ResponseKind.Cluster:
      w.string(res.nodeId);
      w.string(res.leaderId);
      w.string(res.leaderUrl);
      break;
  }
  return w.finish();
}

function nested<T>(r: Reader, what: string, decode: (b: Uint8Array) => T): T {
  const at = r.pos;
  const raw = r.bytes(r.remaining);
  try {
    return decode(raw);
  } catch (e) {
    if (e instanceof DecodeError) throw new DecodeError(e.code, `${what}: ${e.message}`, at);
    throw e;
  }
}

export function decodeResponse(bytes: Uint8Array): ClientResponse {
  const r = new Reader(bytes);
  const { tag, id } = readHeader(r);
  let res: ClientResponse;
  switch (tag) {
    case ResponseKind.Result:
      res = { kind: ResponseKind.Result, id, result: nested(r, 'result', decodeResult) };
      break;
    case ResponseKind.Entry: {
      const found = r.u8();
      if (found > 1) r.fail(ErrorCode.DecodeInvalid, `bad found flag ${found}`);
      res = { kind: ResponseKind.Entry, id, entry: found === 1 ? nested(r, 'entry', decodeEntry) : undefined };
      break;
    }
    case ResponseKind.Error:
      res = { kind: ResponseKind.Error, id, code: r.string(64 * 4), message: r.string(MAX_MESSAGE_BYTES) };
      break;
    case ResponseKind.Cluster:
      res = { kind: ResponseKind.Cluster, id, nodeId: r.string(MAX_NAME_BYTES), leaderId: r.string(MAX_NAME_BYTES), leaderUrl: r.string(4 * MAX_NAME_BYTES) };
      break;
    default:
      throw new DecodeError(ErrorCode.DecodeType, `unknown response kind ${tag}`, 1);
  }
  r.end();
  return res;
}
