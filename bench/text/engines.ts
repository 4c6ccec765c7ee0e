// The three text CRDTs the benchmark compares, behind one small interface, and the
// sequential and concurrent (fork and merge) trace replays written once over it.
// Traces: the editing-traces collection (Joseph Gentle and contributors); automerge-paper
// prepared by Martin Kleppmann; sveltecomponent and friendsforever under CC BY 4.0.
import * as A from '@automerge/automerge';
import * as Y from 'yjs';
import { replicaId } from '../../core/src/clock/replica-id.ts';
import { TextDocument } from '../../core/src/text/standalone-text.ts';

export type TracePatch = [number, number, string];
export interface SequentialTrace {
  startContent?: string;
  endContent: string;
  txns: { patches: TracePatch[] }[];
}
export interface ConcurrentTrace {
  kind: 'concurrent';
  endContent: string;
  txns: { parents: number[]; numChildren: number; patches: TracePatch[] }[];
}
export type Trace = SequentialTrace | ConcurrentTrace;

export interface Engine<D> {
  readonly name: string;
  /** A fresh replica with a unique id (all replicas of one replay share one root). */
  create(id: number): D;
  fork(d: D, id: number): D;
  /** Merges src into dst; returns dst (or its replacement, for immutable docs). */
  merge(dst: D, src: D): D;
  /** Applies one transaction; returns the document (or its replacement). */
  apply(d: D, patches: TracePatch[]): D;
  text(d: D): string;
  encode(d: D): Uint8Array;
  decodeText(bytes: Uint8Array): string;
}

export const neuroplex: Engine<TextDocument> = {
  name: 'Neuroplex',
  create: (id) => new TextDocument(replicaId(id)),
  fork: (d, id) => d.fork(replicaId(id)),
  merge(dst, src) {
    dst.mergeFrom(src);
    return dst;
  },
  apply(d, patches) {
    for (let i = 0; i < patches.length; i++) {
      const p = patches[i]!;
      if (p[1] > 0) d.delete(p[0], p[1]);
      if (p[2].length > 0) d.insert(p[0], p[2]);
    }
    return d;
  },
  text: (d) => d.toString(),
  encode: (d) => d.encodeState(),
  decodeText(bytes) {
    const d = new TextDocument(replicaId(1));
    d.loadState(bytes);
    return d.toString();
  },
};

export const yjs: Engine<Y.Doc> = {
  name: 'Yjs',
  create(id) {
    const d = new Y.Doc();
    d.clientID = id;
    return d;
  },
  fork(d, id) {
    const n = new Y.Doc();
    n.clientID = id;
    Y.applyUpdateV2(n, Y.encodeStateAsUpdateV2(d));
    return n;
  },
  merge(dst, src) {
    Y.applyUpdateV2(dst, Y.encodeStateAsUpdateV2(src, Y.encodeStateVector(dst)));
    return dst;
  },
  apply(d, patches) {
    const t = d.getText('text');
    d.transact(() => {
      for (let i = 0; i < patches.length; i++) {
        const p = patches[i]!;
        if (p[1] > 0) t.delete(p[0], p[1]);
        if (p[2].length > 0) t.insert(p[0], p[2]);
      }
    });
    return d;
  },
  text: (d) => d.getText('text').toString(),
  encode: (d) => Y.encodeStateAsUpdateV2(d),
  decodeText(bytes) {
    const d = new Y.Doc();
    Y.applyUpdateV2(d, bytes);
    return d.getText('text').toString();
  },
};

type AmDoc = { text: string };
const actor = (id: number): string => id.toString(16).padStart(32, '0');
let amRoot: A.Doc<AmDoc> | null = null;

export const automerge: Engine<A.Doc<AmDoc>> = {
  name: 'Automerge',
  create(id) {
    // Every replica starts from one shared root, so all edit the same text object.
    if (amRoot === null) amRoot = A.from<AmDoc>({ text: '' }, actor(0xffff));
    return A.clone(amRoot, actor(id));
  },
  fork: (d, id) => A.clone(d, actor(id)),
  merge: (dst, src) => A.merge(dst, src),
  apply: (d, patches) =>
    A.change(d, (doc) => {
      for (let i = 0; i < patches.length; i++) {
        const p = patches[i]!;
        A.splice(doc, ['text'], p[0], p[1], p[2]);
      }
    }),
  text: (d) => d.text,
  encode: (d) => A.save(d),
  decodeText: (bytes) => A.load<AmDoc>(bytes).text,
};

export function isConcurrent(t: Trace): t is ConcurrentTrace {
  return (t as ConcurrentTrace).kind === 'concurrent';
}

/** Replays a trace; returns the replica that holds everything (all leaves merged in). */
export function replay<D>(engine: Engine<D>, trace: Trace): D {
  if (!isConcurrent(trace)) {
    let d = engine.create(1);
    if (trace.startContent) d = engine.apply(d, [[0, 0, trace.startContent]]);
    for (const txn of trace.txns) d = engine.apply(d, txn.patches);
    return d;
  }
  const docs: (D | undefined)[] = new Array(trace.txns.length);
  const left = trace.txns.map((x) => x.numChildren);
  let nextId = 1;
  const leaves: D[] = [];
  for (let i = 0; i < trace.txns.length; i++) {
    const txn: ConcurrentTrace['txns'][number] = trace.txns[i]!;
    let d: D;
    if (txn.parents.length === 0) d = engine.create(nextId++);
    else {
      const p0 = txn.parents[0]!;
      d = --left[p0]! === 0 ? (docs[p0] as D) : engine.fork(docs[p0] as D, nextId++);
      if (left[p0] === 0) docs[p0] = undefined;
      for (let k = 1; k < txn.parents.length; k++) {
        const p = txn.parents[k]!;
        d = engine.merge(d, docs[p] as D);
        if (--left[p]! === 0) docs[p] = undefined;
      }
    }
    d = engine.apply(d, txn.patches);
    if (txn.numChildren === 0) leaves.push(d);
    else docs[i] = d;
  }
  let all = leaves[0] as D;
  for (let i = 1; i < leaves.length; i++) all = engine.merge(all, leaves[i]!);
  return all;
}
