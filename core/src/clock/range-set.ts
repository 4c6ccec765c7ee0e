// A set of positive integers kept as sorted, disjoint, non-adjacent inclusive ranges in
// one flat array [start0, end0, start1, end1, ...]. It is one replica's part of a causal
// context: dots 1..n seen in order stay one range however many there are.

export class RangeSet {
  /** Invariant: sorted, start <= end, and end_i + 1 < start_{i+1} (no overlap, no adjacency). */
  ranges: number[];

  constructor(ranges: number[] = []) {
    this.ranges = ranges;
  }

  get isEmpty(): boolean {
    return this.ranges.length === 0;
  }

  /** The largest n such that 1..n are all present (0 if 1 is missing). */
  get contiguousMax(): number {
    const r = this.ranges;
    return r.length > 0 && r[0] === 1 ? r[1]! : 0;
  }

  /** The largest member, 0 when empty. */
  get max(): number {
    const r = this.ranges;
    return r.length === 0 ? 0 : r[r.length - 1]!;
  }

  /** Number of members. */
  get size(): number {
    let n = 0;
    const r = this.ranges;
    for (let i = 0; i < r.length; i += 2) n += r[i + 1]! - r[i]! + 1;
    return n;
  }

  has(value: number): boolean {
    const r = this.ranges;
    // Fast path: the common case is one range starting at 1.
    if (r.length === 2) return value >= r[0]! && value <= r[1]!;
    let lo = 0;
    let hi = (r.length >> 1) - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (value < r[mid * 2]!) hi = mid - 1;
      else if (value > r[mid * 2 + 1]!) lo = mid + 1;
      else return true;
    }
    return false;
  }

  /** True when every value of start..end is present. */
  hasRange(start: number, end: number): boolean {
    const r = this.ranges;
    for (let i = 0; i < r.length; i += 2) {
      if (start >= r[i]! && end <= r[i + 1]!) return true;
      if (r[i]! > start) return false;
    }
    return false;
  }

  add(value: number): void {
    const r = this.ranges;
    const n = r.length;
    // Fast path: appending right after the last range.
    if (n > 0 && r[n - 1]! + 1 === value) {
      r[n - 1] = value;
      return;
    }
    if (n > 0 && value <= r[n - 1]! && value >= r[n - 2]!) return;
    this.addRange(value, value);
  }

  addRange(start: number, end: number): void {
    const r = this.ranges;
    const n = r.length;
    if (n === 0 || start > r[n - 1]! + 1) {
      r.push(start, end);
      return;
    }
    // Find the first range whose end + 1 >= start.
    let i = 0;
    while (i < n && r[i + 1]! + 1 < start) i += 2;
    let j = i;
    let newStart = start;
    let newEnd = end;
    while (j < n && r[j]! <= end + 1) {
      if (r[j]! < newStart) newStart = r[j]!;
      if (r[j + 1]! > newEnd) newEnd = r[j + 1]!;
      j += 2;
    }
    r.splice(i, j - i, newStart, newEnd);
  }

  addAll(other: RangeSet): void {
    const o = other.ranges;
    if (this.ranges.length === 0) {
      this.ranges = o.slice();
      return;
    }
    for (let i = 0; i < o.length; i += 2) this.addRange(o[i]!, o[i + 1]!);
  }

  /** Members of this set that are not in `other`. */
  subtract(other: RangeSet): RangeSet {
    const out: number[] = [];
    const a = this.ranges;
    const b = other.ranges;
    let j = 0;
    for (let i = 0; i < a.length; i += 2) {
      let s = a[i]!;
      const e = a[i + 1]!;
      while (j < b.length && b[j + 1]! < s) j += 2;
      let k = j;
      while (s <= e) {
        if (k >= b.length || b[k]! > e) {
          out.push(s, e);
          break;
        }
        if (b[k]! > s) out.push(s, b[k]! - 1);
        s = b[k + 1]! + 1;
        k += 2;
      }
    }
    return new RangeSet(out);
  }

  /** Members in both sets. */
  intersect(other: RangeSet): RangeSet {
    const out: number[] = [];
    const a = this.ranges;
    const b = other.ranges;
    let i = 0;
    let j = 0;
    while (i < a.length && j < b.length) {
      const s = Math.max(a[i]!, b[j]!);
      const e = Math.min(a[i + 1]!, b[j + 1]!);
      if (s <= e) out.push(s, e);
      if (a[i + 1]! < b[j + 1]!) i += 2;
      else j += 2;
    }
    return new RangeSet(out);
  }

  equals(other: RangeSet): boolean {
    const a = this.ranges;
    const b = other.ranges;
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }

  clone(): RangeSet {
    return new RangeSet(this.ranges.slice());
  }
}
