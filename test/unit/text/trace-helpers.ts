// Loading and replaying the real editing traces in /work/shared/traces (from the public
// editing-traces collection by Joseph Gentle and contributors; automerge-paper prepared by
// Martin Kleppmann; sveltecomponent and friendsforever under CC BY 4.0).
import { existsSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { replicaId } from '../../../core/src/clock/replica-id.ts';
import { TextDocument } from '../../../core/src/text/standalone-text.ts';

export const TRACES_DIR = '/work/shared/traces';

export type TracePatch = [number, number, string];

export interface SequentialTrace {
  startContent?: string;
  endContent: string;
  txns: { patches: TracePatch[] }[];
}

export interface ConcurrentTrace {
  kind: 'concurrent';
  endContent: string;
  numAgents: number;
  txns: { parents: number[]; agent: number; numChildren: number; patches: TracePatch[] }[];
}

export function loadTrace(path: string): SequentialTrace | ConcurrentTrace {
  if (!existsSync(path)) throw new Error(`trace ${path} not found`);
  return JSON.parse(gunzipSync(readFileSync(path)).toString('utf8')) as SequentialTrace | ConcurrentTrace;
}

export function isConcurrent(t: SequentialTrace | ConcurrentTrace): t is ConcurrentTrace {
  return (t as ConcurrentTrace).kind === 'concurrent';
}

export function applyPatches(doc: TextDocument, patches: TracePatch[]): void {
  for (let i = 0; i < patches.length; i++) {
    const [pos, del, ins] = patches[i]!;
    if (del > 0) doc.delete(pos, del);
    if (ins.length > 0) doc.insert(pos, ins);
  }
}

export function replaySequential(t: SequentialTrace): TextDocument {
  const doc = new TextDocument(replicaId(1));
  if (t.startContent) doc.insert(0, t.startContent);
  for (const txn of t.txns) applyPatches(doc, txn.patches);
  return doc;
}

/**
 * Replays a concurrent trace with fork and merge: one replica per branch. A transaction
 * takes over its first parent's replica when it is that parent's last child, forks it
 * otherwise, and merges its other parents in. Returns the replicas of the leaves.
 */
export function replayConcurrent(t: ConcurrentTrace): TextDocument[] {
  const docs: (TextDocument | undefined)[] = new Array(t.txns.length);
  const childrenLeft = t.txns.map((x) => x.numChildren);
  let nextReplica = 1;
  const leaves: TextDocument[] = [];
  const take = (p: number): TextDocument => {
    const d = docs[p]!;
    childrenLeft[p]!--;
    if (childrenLeft[p] === 0) {
      docs[p] = undefined;
      return d;
    }
    return d.fork(replicaId(nextReplica++));
  };
  for (let i = 0; i < t.txns.length; i++) {
    const txn = t.txns[i]!;
    let doc: TextDocument;
    if (txn.parents.length === 0) doc = new TextDocument(replicaId(nextReplica++));
    else {
      doc = take(txn.parents[0]!);
      for (let k = 1; k < txn.parents.length; k++) {
        const p = txn.parents[k]!;
        doc.mergeFrom(docs[p]!);
        childrenLeft[p]!--;
        if (childrenLeft[p] === 0) docs[p] = undefined;
      }
    }
    applyPatches(doc, txn.patches);
    if (txn.numChildren === 0) leaves.push(doc);
    else docs[i] = doc;
  }
  return leaves;
}
