// Single-server membership changes: each returns a new configuration (never mutates the
// old one) and checks the invariants: voters and learners are disjoint, ids are valid, and
// at least one voter remains. One change at a time keeps any two consecutive majorities
// overlapping (Ongaro's dissertation, §4.1), so no joint configuration is needed.
import { InvalidConfChangeError } from '../errors.ts';
import { type ConfChange, ConfChangeType, type ConfState, NONE } from '../types.ts';

export function applyConfChange(cs: ConfState, cc: ConfChange): ConfState {
  if (cc.nodeId === NONE || !Number.isSafeInteger(cc.nodeId) || cc.nodeId < 0) {
    throw new InvalidConfChangeError(`invalid node id ${cc.nodeId}`);
  }
  const voters = cs.voters.filter((id) => id !== cc.nodeId);
  const learners = cs.learners.filter((id) => id !== cc.nodeId);
  switch (cc.type) {
    case ConfChangeType.AddVoter:
      voters.push(cc.nodeId);
      break;
    case ConfChangeType.AddLearner:
      // Demoting a voter to a learner is a removal of a voter: allowed, one server at a time.
      learners.push(cc.nodeId);
      break;
    case ConfChangeType.RemoveNode:
      break;
    default:
      throw new InvalidConfChangeError(`unknown conf change type ${String(cc.type)}`);
  }
  const next: ConfState = { voters: voters.sort((a, b) => a - b), learners: learners.sort((a, b) => a - b) };
  checkInvariants(next);
  return next;
}

export function checkInvariants(cs: ConfState): void {
  if (cs.voters.length === 0) throw new InvalidConfChangeError('a configuration needs at least one voter');
  const seen = new Set<number>();
  for (const id of cs.voters.concat(cs.learners)) {
    if (seen.has(id)) throw new InvalidConfChangeError(`node ${id} appears twice in the configuration`);
    seen.add(id);
  }
}

/** How many voters differ between two configurations (single-server changes: at most 1). */
export function voterDistance(a: ConfState, b: ConfState): number {
  const sa = new Set(a.voters);
  const sb = new Set(b.voters);
  let d = 0;
  for (const id of sa) if (!sb.has(id)) d++;
  for (const id of sb) if (!sa.has(id)) d++;
  return d;
}
