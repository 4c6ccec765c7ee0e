// Members of an origin cluster: people name nodes with strings (`n1`), Raft with numbers.
// A node's Raft id is a hash of its name, the same on every node, so no table has to be
// agreed first; a membership change carries the member's name and URL in its context.
import { Reader } from '../../../core/src/codec/reader.ts';
import { Writer } from '../../../core/src/codec/writer.ts';
import type { NodeId } from '../../../core/src/raft/types.ts';
import type { MemberInfo } from '../node/origin-node.ts';

/** FNV-1a over the name's UTF-16 units, 32 bits, never 0 (Raft's "none"). */
export function raftIdOf(name: string): NodeId {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h === 0 ? 1 : h;
}

export function encodeMember(m: MemberInfo): Uint8Array {
  const w = new Writer(64);
  w.u8(1);
  w.string(m.id);
  w.string(m.url);
  w.u8(m.learner ? 1 : 0);
  return w.finish();
}

export function decodeMember(bytes: Uint8Array): MemberInfo {
  const r = new Reader(bytes);
  r.u8();
  const id = r.string(256);
  const url = r.string(2048);
  const learner = r.u8() === 1;
  return { id, url, learner };
}
