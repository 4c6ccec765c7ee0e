// The follower and (pre-)candidate roles: election timeouts, accepting appends, heartbeats
// and snapshots from the leader, forwarding requests to it, and counting votes.
import { StateType } from '../config.ts';
import { VoteResult } from '../quorum/majority.ts';
import type { Raft } from '../raft.ts';
import { type Message, MessageType, NONE, message } from '../types.ts';
import { campaign, poll } from './election.ts';
import { bcastAppend } from './leader.ts';

export function tickElection(r: Raft): void {
  r.electionElapsed++;
  if (r.promotable() && r.electionElapsed >= r.randomizedElectionTimeout) {
    r.electionElapsed = 0;
    r.hup(false);
  }
}

export function stepFollower(r: Raft, m: Message): void {
  switch (m.type) {
    case MessageType.Propose:
      if (r.lead === NONE || r.disableProposalForwarding) return;
      m.to = r.lead;
      r.send(m);
      return;
    case MessageType.Append:
      r.electionElapsed = 0;
      r.lead = m.from;
      handleAppend(r, m);
      return;
    case MessageType.Heartbeat:
      r.electionElapsed = 0;
      r.lead = m.from;
      handleHeartbeat(r, m);
      return;
    case MessageType.Snapshot:
      r.electionElapsed = 0;
      r.lead = m.from;
      handleSnapshot(r, m);
      return;
    case MessageType.TransferLeader:
      if (r.lead === NONE) return;
      m.to = r.lead;
      r.send(m);
      return;
    case MessageType.TimeoutNow:
      // The leader asked us to take over: campaign at once, skipping pre-vote and leases.
      r.hup(true);
      return;
    case MessageType.ReadIndex:
      if (r.lead === NONE) return;
      m.to = r.lead;
      r.send(m);
      return;
    case MessageType.ReadIndexResponse:
      r.readStates.push({ index: m.index, context: m.context });
      return;
    default:
      return;
  }
}

export function stepCandidate(r: Raft, m: Message): void {
  const myResp = r.state === StateType.PreCandidate ? MessageType.PreVoteResponse : MessageType.VoteResponse;
  switch (m.type) {
    case MessageType.Append:
      r.becomeFollower(m.term, m.from);
      handleAppend(r, m);
      return;
    case MessageType.Heartbeat:
      r.becomeFollower(m.term, m.from);
      handleHeartbeat(r, m);
      return;
    case MessageType.Snapshot:
      r.becomeFollower(m.term, m.from);
      handleSnapshot(r, m);
      return;
    case MessageType.PreVoteResponse:
    case MessageType.VoteResponse: {
      if (m.type !== myResp) return;
      const result = poll(r, m.from, !m.reject);
      if (result === VoteResult.Won) {
        if (r.state === StateType.PreCandidate) {
          campaign(r, MessageType.Vote, false);
        } else {
          r.becomeLeader();
          bcastAppend(r);
        }
      } else if (result === VoteResult.Lost) {
        r.becomeFollower(r.term, NONE);
      }
      return;
    }
    default:
      // Proposals, reads and transfers are dropped while there is no leader.
      return;
  }
}

export function handleAppend(r: Raft, m: Message): void {
  if (m.index < r.raftLog.committed) {
    r.send(message({ type: MessageType.AppendResponse, to: m.from, from: NONE, index: r.raftLog.committed }));
    return;
  }
  const lastNew = r.raftLog.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
  if (lastNew !== undefined) {
    r.send(message({ type: MessageType.AppendResponse, to: m.from, from: NONE, index: lastNew }));
    return;
  }
  // Reject with a hint: the last index <= m.index whose term is <= m.logTerm, so the leader
  // can skip a whole conflicting term in one round trip.
  const hint = r.raftLog.findConflictByTerm(Math.min(m.index, r.raftLog.lastIndex()), m.logTerm);
  r.send(
    message({
      type: MessageType.AppendResponse,
      to: m.from,
      from: NONE,
      index: m.index,
      reject: true,
      rejectHint: hint.index,
      logTerm: hint.term,
    }),
  );
}

export function handleHeartbeat(r: Raft, m: Message): void {
  r.raftLog.commitTo(Math.min(m.commit, r.raftLog.lastIndex()));
  r.send(message({ type: MessageType.HeartbeatResponse, to: m.from, from: NONE, context: m.context, index: m.index }));
}

export function handleSnapshot(r: Raft, m: Message): void {
  if (m.snapshot === null) return;
  if (r.restore(m.snapshot)) {
    r.send(message({ type: MessageType.AppendResponse, to: m.from, from: NONE, index: r.raftLog.lastIndex() }));
  } else {
    r.send(message({ type: MessageType.AppendResponse, to: m.from, from: NONE, index: r.raftLog.committed }));
  }
}
