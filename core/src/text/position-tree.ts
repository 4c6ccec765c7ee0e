// The position tree: a splay tree over chunks in text order, through the chunks' own
// p/l/r links, with subtree counts of visible and of all elements. Index lookup descends by
// the visible counts; the position of a chunk is read after splaying it to the root.
// Splaying keeps the chunk being edited at the root, so a burst of typing at one place costs
// O(1) amortised per keystroke, and any access is O(log n) amortised.
import type { Chunk } from './chunk.ts';

/** Holder of the root, so the free functions can move it. */
export interface PositionTree<C> {
  root: Chunk<C> | null;
  /** Offset inside the chunk returned by the last `findVisible` call. */
  offset: number;
}

/** Recomputes a node's subtree counts from its children. */
export function updateCounts<C>(n: Chunk<C>): void {
  let vis = n.deleted ? 0 : n.length;
  let tot = n.length;
  const l = n.l;
  const r = n.r;
  if (l !== null) {
    vis += l.vis;
    tot += l.tot;
  }
  if (r !== null) {
    vis += r.vis;
    tot += r.tot;
  }
  n.vis = vis;
  n.tot = tot;
}

function rotate<C>(x: Chunk<C>): void {
  const p = x.p!;
  const g = p.p;
  if (p.l === x) {
    const b = x.r;
    p.l = b;
    if (b !== null) b.p = p;
    x.r = p;
  } else {
    const b = x.l;
    p.r = b;
    if (b !== null) b.p = p;
    x.l = p;
  }
  p.p = x;
  x.p = g;
  if (g !== null) {
    if (g.l === p) g.l = x;
    else g.r = x;
  }
  updateCounts(p);
  updateCounts(x);
}

/** Moves `x` to the root. Also repairs the counts of every former ancestor of `x`. */
export function splay<C>(t: PositionTree<C>, x: Chunk<C>): void {
  while (x.p !== null) {
    const p = x.p;
    const g = p.p;
    if (g !== null) rotate((g.l === p) === (p.l === x) ? p : x);
    rotate(x);
  }
  updateCounts(x);
  t.root = x;
}

/** The chunk holding visible element `index` (0-based), splayed to the root; offset in `t.offset`. */
export function findVisible<C>(t: PositionTree<C>, index: number): Chunk<C> | null {
  let n = t.root;
  while (n !== null) {
    const l = n.l;
    const lv = l === null ? 0 : l.vis;
    if (index < lv) {
      n = l;
      continue;
    }
    index -= lv;
    const own = n.deleted ? 0 : n.length;
    if (index < own) {
      t.offset = index;
      splay(t, n);
      return n;
    }
    index -= own;
    n = n.r;
  }
  return null;
}

/** Number of elements (visible and deleted) before chunk `n`. */
export function totalBefore<C>(t: PositionTree<C>, n: Chunk<C>): number {
  splay(t, n);
  return n.l === null ? 0 : n.l.tot;
}

/** Number of visible elements before chunk `n`. */
export function visibleBefore<C>(t: PositionTree<C>, n: Chunk<C>): number {
  splay(t, n);
  return n.l === null ? 0 : n.l.vis;
}

export function first<C>(t: PositionTree<C>): Chunk<C> | null {
  let n = t.root;
  if (n === null) return null;
  while (n.l !== null) n = n.l;
  return n;
}

export function last<C>(t: PositionTree<C>): Chunk<C> | null {
  let n = t.root;
  if (n === null) return null;
  while (n.r !== null) n = n.r;
  return n;
}

export function next<C>(n: Chunk<C>): Chunk<C> | null {
  let c = n.r;
  if (c !== null) {
    while (c.l !== null) c = c.l;
    return c;
  }
  let x = n;
  let p = x.p;
  while (p !== null && p.r === x) {
    x = p;
    p = p.p;
  }
  return p;
}

export function prev<C>(n: Chunk<C>): Chunk<C> | null {
  let c = n.l;
  if (c !== null) {
    while (c.r !== null) c = c.r;
    return c;
  }
  let x = n;
  let p = x.p;
  while (p !== null && p.l === x) {
    x = p;
    p = p.p;
  }
  return p;
}

/** Links `n` (a fresh node) right after `after` (null: at the very start). */
export function insertAfter<C>(t: PositionTree<C>, after: Chunk<C> | null, n: Chunk<C>): void {
  n.l = null;
  n.r = null;
  if (after === null) {
    const f = first(t);
    if (f === null) {
      n.p = null;
      t.root = n;
      updateCounts(n);
      return;
    }
    f.l = n;
    n.p = f;
  } else if (after.r === null) {
    after.r = n;
    n.p = after;
  } else {
    let m = after.r;
    while (m.l !== null) m = m.l;
    m.l = n;
    n.p = m;
  }
  updateCounts(n);
  splay(t, n);
}

/** Links `n` (a fresh node) right before `before` (null: at the very end). */
export function insertBefore<C>(t: PositionTree<C>, before: Chunk<C> | null, n: Chunk<C>): void {
  if (before === null) {
    insertAfter(t, last(t), n);
    return;
  }
  n.l = null;
  n.r = null;
  if (before.l === null) {
    before.l = n;
    n.p = before;
  } else {
    let m = before.l;
    while (m.r !== null) m = m.r;
    m.r = n;
    n.p = m;
  }
  updateCounts(n);
  splay(t, n);
}

/** Unlinks `n` from the tree. */
export function remove<C>(t: PositionTree<C>, n: Chunk<C>): void {
  splay(t, n);
  const l = n.l;
  const r = n.r;
  n.l = null;
  n.r = null;
  if (l === null) {
    if (r !== null) r.p = null;
    t.root = r;
    return;
  }
  l.p = null;
  let m = l;
  while (m.r !== null) m = m.r;
  t.root = l;
  splay(t, m);
  m.r = r;
  if (r !== null) r.p = m;
  updateCounts(m);
}

/** Replaces the tree with a balanced one over `nodes` (in text order). O(n). */
export function buildBalanced<C>(t: PositionTree<C>, nodes: Chunk<C>[]): void {
  t.root = buildRange(nodes, 0, nodes.length - 1, null);
}

function buildRange<C>(nodes: Chunk<C>[], lo: number, hi: number, parent: Chunk<C> | null): Chunk<C> | null {
  if (lo > hi) return null;
  const mid = (lo + hi) >>> 1;
  const n = nodes[mid]!;
  n.p = parent;
  n.l = buildRange(nodes, lo, mid - 1, n);
  n.r = buildRange(nodes, mid + 1, hi, n);
  updateCounts(n);
  return n;
}
