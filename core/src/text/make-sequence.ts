// The two sequences the Replica stores: a text (string runs) and a list of JSON values.
import type { ReplicaId } from '../clock/replica-id.ts';
import type { JsonValue } from '../codec/json-value.ts';
import { listKind, textKind } from './content.ts';
import { Sequence } from './sequence.ts';

export type TextSequence = Sequence<string>;
export type ListSequence = Sequence<JsonValue[]>;

export function textSequence(localReplica: ReplicaId): TextSequence {
  return new Sequence<string>(localReplica, textKind);
}

export function listSequence(localReplica: ReplicaId): ListSequence {
  return new Sequence<JsonValue[]>(localReplica, listKind);
}
