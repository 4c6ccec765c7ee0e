// Elections, seen from both sides: a node campaigning (pre-vote or vote requests to every
// voter, its own vote counted first) and a node answering a vote request (§5.2, §5.4.1,
// and pre-vote §9.6). Counting the answers is the (pre-)candidate role's (follower.ts).
import { CAMPAIGN_TRANSFER } from '../config.ts';
import { VoteResult } from '../quorum/majority.ts';
import type { Raft } from '../raft.ts';
import { type Message, type NodeId, EMPTY_BYTES, MessageType, NONE, message } from '../types.ts';

/** Becomes (pre-)candidate and asks every other voter; `transfer` overrides their leases. */
export function campaign(r: Raft, voteType: typeof MessageType.Vote | typeof MessageType.PreVote, transfer: boolean): void {
  let term: number;
  if (voteType === MessageType.PreVote) {
    r.becomePreCandidate();
    term = r.term + 1;
  } else {
    r.becomeCandidate();
    term = r.term;
  }
  if (poll(r, r.id, true) === VoteResult.Won) {
    // Single voter: won already.
    if (voteType === MessageType.PreVote) campaign(r, MessageType.Vote, transfer);
    else r.becomeLeader();
    return;
  }
  const lastIndex = r.raftLog.lastIndex();
  const lastTerm = r.raftLog.lastTerm();
  for (const id of r.prs.config.voters) {
    if (id === r.id) continue;
    r.send(
      message({
        type: voteType,
        to: id,
        from: NONE,
        term,
        index: lastIndex,
        logTerm: lastTerm,
        context: transfer ? CAMPAIGN_TRANSFER : EMPTY_BYTES,
      }),
    );
  }
}

/** Records a vote and returns the election result. */
export function poll(r: Raft, id: NodeId, granted: boolean): VoteResult {
  r.prs.recordVote(id, granted);
  return r.prs.tallyVotes().result;
}

/** Answers a (pre-)vote request whose term step() has already dealt with. */
export function handleVoteRequest(r: Raft, m: Message): void {
  const canVote =
    r.vote === m.from ||
    (r.vote === NONE && r.lead === NONE) ||
    (m.type === MessageType.PreVote && m.term > r.term);
  const respType = m.type === MessageType.Vote ? MessageType.VoteResponse : MessageType.PreVoteResponse;
  if (canVote && r.raftLog.isUpToDate(m.index, m.logTerm)) {
    r.send(message({ type: respType, to: m.from, from: NONE, term: m.term }));
    if (m.type === MessageType.Vote) {
      r.electionElapsed = 0;
      r.vote = m.from;
    }
  } else {
    r.send(message({ type: respType, to: m.from, from: NONE, term: r.term, reject: true }));
  }
}
