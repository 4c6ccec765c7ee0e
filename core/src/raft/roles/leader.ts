// The leader role: replication (probe, pipelined replicate, snapshot), commit by counting,
// heartbeats and check-quorum, ReadIndex, and leadership transfer.
import { majoritySize } from '../quorum/majority.ts';
import { StateType } from '../config.ts';
import type { Raft } from '../raft.ts';
import { CompactedError, ProposalDroppedError, SnapshotTemporarilyUnavailableError } from '../errors.ts';
import { ProgressState } from '../tracker/progress.ts';
import { type Entry, type Message, type NodeId, EMPTY_BYTES, EntryType, MessageType, NONE, entrySizeBytes, isEmptySnapshot, message } from '../types.ts';

/** Assigns term and index to new entries and appends them to the leader's log. */
export function appendEntries(r: Raft, ents: Entry[]): void {
  let li = r.raftLog.lastIndex();
  for (let k = 0; k < ents.length; k++) {
    const e = ents[k]!;
    e.term = r.term;
    e.index = ++li;
  }
  r.raftLog.append(ents);
  // With asynchronous storage writes the leader's own entries count only once durable
  // (selfAppendDurable): a follower's ack plus an unpersisted leader entry is no quorum.
  if (r.raftLog.asyncWrites) return;
  const self = r.prs.progress.get(r.id);
  if (self !== undefined) self.maybeUpdate(li);
  // A single-voter group commits at once.
  r.maybeCommit();
}

/**
 * Asynchronous storage writes: the leader's own log is durable up to `index`. It counts
 * as the leader's acknowledgement, like a follower's AppendResponse; a commit it completes
 * reaches the followers at once.
 */
export function selfAppendDurable(r: Raft, index: number): void {
  const self = r.prs.progress.get(r.id);
  if (self === undefined || !self.maybeUpdate(index)) return;
  commitAndBroadcast(r);
}

/**
 * An acknowledgement (a follower's, or the leader's own durable append) moved a match
 * index: commits what a quorum now holds and tells the followers. False if nothing new
 * committed.
 */
function commitAndBroadcast(r: Raft): boolean {
  const hadCommittedInTerm = r.committedEntryInCurrentTerm();
  if (!r.maybeCommit()) return false;
  if (r.state !== StateType.Leader) return true;
  if (!hadCommittedInTerm) releasePendingReadIndex(r);
  bcastAppend(r);
  return true;
}

export function tickHeartbeat(r: Raft): void {
  r.heartbeatElapsed++;
  r.electionElapsed++;
  if (r.electionElapsed >= r.electionTimeout) {
    r.electionElapsed = 0;
    if (r.checkQuorum) {
      if (!r.prs.quorumActive(r.id)) {
        r.becomeFollower(r.term, NONE);
        return;
      }
      for (const [id, pr] of r.prs.progress) if (id !== r.id) pr.recentActive = false;
    }
    // A transfer that did not finish within an election timeout is abandoned.
    if (r.state === StateType.Leader && r.leadTransferee !== NONE) r.leadTransferee = NONE;
    for (const [id, pr] of r.prs.progress) {
      if (id !== r.id && pr.state === ProgressState.Snapshot && r.pendingSnapshotTimedOut(pr.snapshotSentTick)) {
        pr.pendingSnapshot = 0;
        pr.becomeProbe();
      }
    }
  }
  if (r.state !== StateType.Leader) return;
  if (r.heartbeatElapsed >= r.heartbeatTimeout) {
    r.heartbeatElapsed = 0;
    bcastHeartbeat(r, r.readOnly.lastPendingContext() ?? EMPTY_BYTES);
  }
}

export function bcastHeartbeat(r: Raft, ctx: Uint8Array): void {
  for (const [id, pr] of r.prs.progress) {
    if (id === r.id) continue;
    r.send(
      message({
        type: MessageType.Heartbeat,
        to: id,
        from: NONE,
        commit: Math.min(pr.match, r.raftLog.committed),
        context: ctx,
        index: r.ticks,
      }),
    );
  }
}

export function bcastAppend(r: Raft): void {
  for (const id of r.prs.progress.keys()) if (id !== r.id) maybeSendAppend(r, id, true);
}

/**
 * Sends entries from the follower's next index (or a snapshot if they are compacted).
 * With sendIfEmpty false, nothing is sent when there is nothing new. Returns whether a
 * message was sent.
 */
export function maybeSendAppend(r: Raft, to: NodeId, sendIfEmpty: boolean): boolean {
  const pr = r.prs.progress.get(to);
  if (pr === undefined || pr.isPaused()) return false;
  const prevIndex = pr.next - 1;
  const prevTerm = r.raftLog.term(prevIndex);
  if (prevTerm === undefined) return sendSnapshot(r, to);
  let ents: Entry[];
  try {
    ents = r.raftLog.entriesFrom(pr.next, r.maxMsgSize);
  } catch (err) {
    if (err instanceof CompactedError) return sendSnapshot(r, to);
    throw err;
  }
  if (ents.length === 0 && !sendIfEmpty) return false;
  let bytes = 0;
  for (let k = 0; k < ents.length; k++) bytes += entrySizeBytes(ents[k]!);
  r.send(
    message({
      type: MessageType.Append,
      to,
      from: NONE,
      index: prevIndex,
      logTerm: prevTerm,
      entries: ents,
      commit: r.raftLog.committed,
    }),
  );
  pr.sentEntries(prevIndex + ents.length, ents.length, bytes);
  return true;
}

function sendSnapshot(r: Raft, to: NodeId): boolean {
  const pr = r.prs.progress.get(to)!;
  if (!pr.recentActive) return false;
  let snap;
  try {
    snap = r.raftLog.snapshot();
  } catch (err) {
    if (err instanceof SnapshotTemporarilyUnavailableError) return false;
    throw err;
  }
  if (isEmptySnapshot(snap)) return false;
  pr.becomeSnapshot(snap.metadata.index, r.ticks);
  r.send(message({ type: MessageType.Snapshot, to, from: NONE, snapshot: snap }));
  return true;
}

export function sendTimeoutNow(r: Raft, to: NodeId): void {
  r.leaseForfeited = true;
  r.send(message({ type: MessageType.TimeoutNow, to, from: NONE }));
}

export function stepLeader(r: Raft, m: Message): void {
  switch (m.type) {
    case MessageType.Propose:
      if (m.entries.length > 0) proposeAsLeader(r, m.entries, false);
      return;
    case MessageType.ReadIndex:
      handleReadIndex(r, m);
      return;
    case MessageType.TransferLeader:
      handleTransferLeader(r, m.from);
      return;
    case MessageType.AppendResponse:
      handleAppendResponse(r, m);
      return;
    case MessageType.HeartbeatResponse:
      handleHeartbeatResponse(r, m);
      return;
    default:
      // Votes for an election we already won, stale snapshots/appends of our own term: ignore.
      return;
  }
}

function handleAppendResponse(r: Raft, m: Message): void {
  const pr = r.prs.progress.get(m.from);
  if (pr === undefined) return;
  pr.recentActive = true;
  if (m.reject) {
    // Fast backtracking (§5.3 optimisation): jump past the follower's whole conflicting term.
    let hint = m.rejectHint;
    if (m.logTerm > 0) hint = r.raftLog.findConflictByTerm(m.rejectHint, m.logTerm).index;
    if (pr.maybeDecrTo(m.index, hint)) {
      if (pr.state === ProgressState.Replicate) pr.becomeProbe();
      maybeSendAppend(r, m.from, true);
    }
    return;
  }
  const wasPaused = pr.isPaused();
  if (!pr.maybeUpdate(m.index)) return;
  if (pr.state === ProgressState.Probe) {
    pr.becomeReplicate();
  } else if (pr.state === ProgressState.Snapshot) {
    if (pr.match + 1 >= r.raftLog.firstIndex()) {
      pr.becomeProbe();
      pr.becomeReplicate();
    }
  } else {
    pr.inflights.freeLE(m.index);
  }
  if (commitAndBroadcast(r)) {
    if (r.state !== StateType.Leader) return;
  } else if (wasPaused) {
    maybeSendAppend(r, m.from, false);
  }
  // Fill the pipeline while the in-flight budget allows.
  for (let k = 0; k < 64 && maybeSendAppend(r, m.from, false); k++) {
    /* keep sending */
  }
  if (m.from === r.leadTransferee && pr.match === r.raftLog.lastIndex()) sendTimeoutNow(r, m.from);
}

function handleHeartbeatResponse(r: Raft, m: Message): void {
  const pr = r.prs.progress.get(m.from);
  if (pr === undefined) return;
  pr.recentActive = true;
  pr.probeSent = false;
  if (m.index > pr.ackedTick) pr.ackedTick = m.index;
  if (pr.state === ProgressState.Replicate && pr.inflights.full()) pr.inflights.freeFirstOne();
  if (pr.match < r.raftLog.lastIndex() || pr.state === ProgressState.Probe) maybeSendAppend(r, m.from, true);
  if (m.context.length === 0) return;
  const acks = r.readOnly.recvAck(m.from, m.context);
  if (acks === undefined) return;
  let voterAcks = 0;
  for (const id of r.prs.config.voters) if (id === r.id || acks.has(id)) voterAcks++;
  if (voterAcks < majoritySize(r.prs.config.voters.length)) return;
  for (const rs of r.readOnly.advance(m.context)) respondToReadIndex(r, rs.req, rs.index);
}

function releasePendingReadIndex(r: Raft): void {
  const pending = r.pendingReadIndexMessages;
  r.pendingReadIndexMessages = [];
  for (const m of pending) handleReadIndex(r, m);
}

function handleReadIndex(r: Raft, m: Message): void {
  if (r.prs.config.voters.length === 1 && r.prs.isVoter(r.id)) {
    respondToReadIndex(r, m, r.raftLog.committed);
    return;
  }
  // Until an entry of this term commits, the leader's commit index may be stale (§6.4).
  if (!r.committedEntryInCurrentTerm()) {
    r.queuePendingReadIndex(m);
    return;
  }
  if (r.leaseValid()) {
    respondToReadIndex(r, m, r.raftLog.committed);
    return;
  }
  if (!r.readOnly.addRequest(r.raftLog.committed, m)) return;
  r.readOnly.recvAck(r.id, m.context);
  bcastHeartbeat(r, m.context);
}

function respondToReadIndex(r: Raft, req: Message, index: number): void {
  if (req.from === NONE || req.from === r.id) {
    r.readStates.push({ index, context: req.context });
    return;
  }
  r.send(message({ type: MessageType.ReadIndexResponse, to: req.from, from: NONE, index, context: req.context }));
}

function handleTransferLeader(r: Raft, transferee: NodeId): void {
  const pr = r.prs.progress.get(transferee);
  if (pr === undefined || pr.isLearner) return;
  if (r.leadTransferee === transferee || transferee === r.id) return;
  r.leadTransferee = transferee;
  r.electionElapsed = 0;
  if (pr.match === r.raftLog.lastIndex()) sendTimeoutNow(r, transferee);
  else maybeSendAppend(r, transferee, true);
}

/** Leader-side proposal handling; `local` proposals throw when dropped, forwarded ones are ignored. */
export function proposeAsLeader(r: Raft, entries: Entry[], local: boolean): void {
  const drop = (why: string): void => {
    if (local) throw new ProposalDroppedError(why);
  };
  if (!r.prs.isVoter(r.id)) return drop('this leader was removed or demoted');
  if (r.leadTransferee !== NONE) return drop(`leadership is being transferred to ${r.leadTransferee}`);
  for (const e of entries) {
    if (e.type !== EntryType.ConfChange) continue;
    // Configuration changes are validated against the leader's configuration by
    // RawNode.proposeConfChange; one arriving from a peer is never trusted.
    if (!local) return;
    if (entries.length !== 1) return drop('a configuration change must be proposed alone');
    if (!r.committedEntryInCurrentTerm()) return drop('the leader has not committed an entry in its term yet');
    if (r.confHistory.lastIndex() > r.raftLog.committed) return drop('another configuration change is pending');
  }
  appendEntries(r, entries);
  bcastAppend(r);
}
