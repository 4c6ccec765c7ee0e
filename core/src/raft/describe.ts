// Deterministic text renderings of Raft data, for scenario tests and failure traces.
import { decodeConfChangeData } from './codec.ts';
import { STATE_NAMES } from './raft.ts';
import type { Ready } from './raw-node.ts';
import { type ConfState, type Entry, type HardState, type Message, EntryType, MessageType } from './types.ts';

const TYPE_NAMES: Record<number, string> = {};
for (const [name, value] of Object.entries(MessageType)) TYPE_NAMES[value] = name;

const CC_NAMES = ['v', 'l', 'r'];

function describeData(d: Uint8Array): string {
  let ascii = true;
  for (let i = 0; i < d.length; i++) if (d[i]! < 0x20 || d[i]! > 0x7e) ascii = false;
  if (ascii) return d.length === 0 ? '' : ` "${String.fromCharCode(...d)}"`;
  return ` 0x${Array.from(d, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

export function describeConfState(cs: ConfState): string {
  const l = cs.learners.length > 0 ? ` learners=(${cs.learners.join(' ')})` : '';
  return `voters=(${cs.voters.join(' ')})${l}`;
}

export function describeEntry(e: Entry): string {
  if (e.type === EntryType.ConfChange) {
    const d = decodeConfChangeData(e.data);
    return `${e.term}/${e.index} conf ${CC_NAMES[d.change.type]}${d.change.nodeId} -> ${describeConfState(d.confState)}`;
  }
  return `${e.term}/${e.index}${describeData(e.data)}`;
}

export function describeEntries(ents: Entry[]): string {
  return `[${ents.map(describeEntry).join(', ')}]`;
}

export function describeHardState(hs: HardState): string {
  return `term=${hs.term} vote=${hs.vote} commit=${hs.commit}`;
}

export function describeMessage(m: Message): string {
  let s = `${m.from}->${m.to} ${TYPE_NAMES[m.type] ?? m.type} term=${m.term}`;
  if (m.type === MessageType.Heartbeat || m.type === MessageType.HeartbeatResponse) s += ` tick=${m.index}`;
  else if (m.type === MessageType.AppendResponse) s += m.reject ? ` index=${m.index} hintTerm=${m.logTerm}` : ` index=${m.index}`;
  else if (m.type === MessageType.ReadIndex || m.type === MessageType.ReadIndexResponse) s += ` index=${m.index}`;
  else if (m.logTerm !== 0 || m.index !== 0) s += ` log=${m.logTerm}/${m.index}`;
  if (m.commit !== 0) s += ` commit=${m.commit}`;
  if (m.reject) s += ` reject hint=${m.rejectHint}`;
  if (m.entries.length > 0) s += ` entries=${describeEntries(m.entries)}`;
  if (m.snapshot !== null) s += ` snapshot=${m.snapshot.metadata.term}/${m.snapshot.metadata.index}`;
  if (m.context.length > 0) s += ` ctx=${describeData(m.context).trim()}`;
  return s;
}

export function describeReady(rd: Ready): string {
  const lines: string[] = [];
  if (rd.softState !== null) lines.push(`lead=${rd.softState.lead} state=${STATE_NAMES[rd.softState.state]}`);
  if (rd.hardState !== null) lines.push(`hardstate ${describeHardState(rd.hardState)}`);
  if (rd.entries.length > 0) lines.push(`entries ${describeEntries(rd.entries)}`);
  if (rd.snapshot !== null) lines.push(`snapshot ${rd.snapshot.metadata.term}/${rd.snapshot.metadata.index} ${describeConfState(rd.snapshot.metadata.confState)}`);
  if (rd.committedEntries.length > 0) lines.push(`committed ${describeEntries(rd.committedEntries)}`);
  for (const rs of rd.readStates) lines.push(`read index=${rs.index} ctx=${describeData(rs.context).trim()}`);
  for (const m of rd.messages) lines.push(describeMessage(m));
  return lines.join('\n');
}
