// Majority quorum math over an "acked index" lookup: the committed index of a voter set and
// the outcome of an election. Pure functions, checked against a naive count in
// test/unit/raft/quorum.test.ts.
import type { NodeId } from '../types.ts';

/** Looks up the highest log index a voter is known to hold; undefined if unknown. */
export interface AckedIndexer {
  ackedIndex(id: NodeId): number | undefined;
}

export const VoteResult = {
  Pending: 0,
  Lost: 1,
  Won: 2,
} as const;
export type VoteResult = (typeof VoteResult)[keyof typeof VoteResult];

/**
 * The largest index acked by a majority of `voters`. An empty voter set commits everything
 * (Infinity). `scratch` is a caller-owned buffer (no module state: many groups share a server).
 */
export function majorityCommittedIndex(voters: readonly NodeId[], acked: AckedIndexer, scratch?: number[]): number {
  const n = voters.length;
  if (n === 0) return Infinity;
  const arr = scratch !== undefined && scratch.length >= n ? scratch : new Array<number>(n).fill(0);
  for (let k = 0; k < n; k++) arr[k] = acked.ackedIndex(voters[k]!) ?? 0;
  // Insertion sort, descending: voter sets are small (<= 7 in practice).
  for (let i = 1; i < n; i++) {
    const v = arr[i]!;
    let j = i - 1;
    while (j >= 0 && arr[j]! < v) {
      arr[j + 1] = arr[j]!;
      j--;
    }
    arr[j + 1] = v;
  }
  // The (n/2 + 1)-th largest value is held by a majority.
  return arr[Math.floor(n / 2)]!;
}

/** The outcome of an election given the votes so far (true = granted, false = rejected). */
export function majorityVoteResult(voters: readonly NodeId[], votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  const n = voters.length;
  if (n === 0) return VoteResult.Won;
  let granted = 0;
  let missing = 0;
  for (let k = 0; k < n; k++) {
    const v = votes.get(voters[k]!);
    if (v === undefined) missing++;
    else if (v) granted++;
  }
  const q = Math.floor(n / 2) + 1;
  if (granted >= q) return VoteResult.Won;
  if (granted + missing >= q) return VoteResult.Pending;
  return VoteResult.Lost;
}

/** Size of a majority of n voters. */
export function majoritySize(n: number): number {
  return Math.floor(n / 2) + 1;
}
