// The id tree: a splay tree over chunks ordered by (replica, counter of the first element),
// through the chunks' own ip/il/ir links. It answers "which chunk holds element
// replica:counter" in O(log n) amortised; ranges of one replica never overlap, so the
// holder is the last chunk starting at or before the id.
import type { Chunk } from './chunk.ts';

export interface IdTree<C> {
  idRoot: Chunk<C> | null;
}

function rotate<C>(x: Chunk<C>): void {
  const p = x.ip!;
  const g = p.ip;
  if (p.il === x) {
    const b = x.ir;
    p.il = b;
    if (b !== null) b.ip = p;
    x.ir = p;
  } else {
    const b = x.il;
    p.ir = b;
    if (b !== null) b.ip = p;
    x.il = p;
  }
  p.ip = x;
  x.ip = g;
  if (g !== null) {
    if (g.il === p) g.il = x;
    else g.ir = x;
  }
}

export function idSplay<C>(t: IdTree<C>, x: Chunk<C>): void {
  while (x.ip !== null) {
    const p = x.ip;
    const g = p.ip;
    if (g !== null) rotate((g.il === p) === (p.il === x) ? p : x);
    rotate(x);
  }
  t.idRoot = x;
}

/** The last chunk whose first id is <= replica:counter (any replica), or null. */
export function idFloor<C>(t: IdTree<C>, replica: number, counter: number): Chunk<C> | null {
  let n = t.idRoot;
  let best: Chunk<C> | null = null;
  let lastSeen: Chunk<C> | null = null;
  while (n !== null) {
    lastSeen = n;
    if (n.replica < replica || (n.replica === replica && n.counter <= counter)) {
      best = n;
      n = n.ir;
    } else n = n.il;
  }
  if (best !== null) idSplay(t, best);
  else if (lastSeen !== null) idSplay(t, lastSeen);
  return best;
}

/** The chunk holding element replica:counter, or null when it is not known. */
export function idFind<C>(t: IdTree<C>, replica: number, counter: number): Chunk<C> | null {
  const n = idFloor(t, replica, counter);
  if (n === null || n.replica !== replica || counter >= n.counter + n.length) return null;
  return n;
}

/** The first chunk of `replica` starting after `counter`, or null. */
export function idNextStart<C>(t: IdTree<C>, replica: number, counter: number): Chunk<C> | null {
  let n = t.idRoot;
  let best: Chunk<C> | null = null;
  while (n !== null) {
    if (n.replica > replica || (n.replica === replica && n.counter > counter)) {
      best = n;
      n = n.il;
    } else n = n.ir;
  }
  if (best === null || best.replica !== replica) return null;
  idSplay(t, best);
  return best;
}

/** Links a fresh chunk into the id tree; its id range must not overlap any other. */
export function idInsert<C>(t: IdTree<C>, n: Chunk<C>): void {
  n.il = null;
  n.ir = null;
  let x = t.idRoot;
  if (x === null) {
    n.ip = null;
    t.idRoot = n;
    return;
  }
  const replica = n.replica;
  const counter = n.counter;
  for (;;) {
    if (x.replica < replica || (x.replica === replica && x.counter < counter)) {
      if (x.ir === null) {
        x.ir = n;
        break;
      }
      x = x.ir;
    } else {
      if (x.il === null) {
        x.il = n;
        break;
      }
      x = x.il;
    }
  }
  n.ip = x;
  idSplay(t, n);
}

/** Links `n` right after `after`, its neighbour in id order (used when splitting a chunk). */
export function idInsertAfter<C>(t: IdTree<C>, after: Chunk<C>, n: Chunk<C>): void {
  n.il = null;
  n.ir = null;
  if (after.ir === null) {
    after.ir = n;
  } else {
    let m = after.ir;
    while (m.il !== null) m = m.il;
    m.il = n;
    after = m;
  }
  n.ip = after;
  idSplay(t, n);
}

export function idRemove<C>(t: IdTree<C>, n: Chunk<C>): void {
  idSplay(t, n);
  const l = n.il;
  const r = n.ir;
  n.il = null;
  n.ir = null;
  if (l === null) {
    if (r !== null) r.ip = null;
    t.idRoot = r;
    return;
  }
  l.ip = null;
  let m = l;
  while (m.ir !== null) m = m.ir;
  t.idRoot = l;
  idSplay(t, m);
  m.ir = r;
  if (r !== null) r.ip = m;
}

/** In-order walk of the id tree (replica, then counter). */
export function idFirst<C>(t: IdTree<C>): Chunk<C> | null {
  let n = t.idRoot;
  if (n === null) return null;
  while (n.il !== null) n = n.il;
  return n;
}

export function idNext<C>(n: Chunk<C>): Chunk<C> | null {
  let c = n.ir;
  if (c !== null) {
    while (c.il !== null) c = c.il;
    return c;
  }
  let x = n;
  let p = x.ip;
  while (p !== null && p.ir === x) {
    x = p;
    p = p.ip;
  }
  return p;
}

/** Replaces the tree with a balanced one over `nodes`, which must be sorted by id. O(n). */
export function idBuildBalanced<C>(t: IdTree<C>, nodes: Chunk<C>[]): void {
  t.idRoot = idBuildRange(nodes, 0, nodes.length - 1, null);
}

function idBuildRange<C>(nodes: Chunk<C>[], lo: number, hi: number, parent: Chunk<C> | null): Chunk<C> | null {
  if (lo > hi) return null;
  const mid = (lo + hi) >>> 1;
  const n = nodes[mid]!;
  n.ip = parent;
  n.il = idBuildRange(nodes, lo, mid - 1, n);
  n.ir = idBuildRange(nodes, mid + 1, hi, n);
  return n;
}
