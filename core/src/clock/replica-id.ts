// Replica ids: positive safe integers. Numbers (not strings) keep dots cheap to compare,
// to store in typed arrays and to encode (a varint of at most 8 bytes). A 53-bit random
// id makes a collision among a million replicas about a 1-in-18,000 event.
import { InvalidArgumentError } from '../errors.ts';

export type ReplicaId = number & { readonly __brand: 'ReplicaId' };

export const MAX_REPLICA_ID = Number.MAX_SAFE_INTEGER;

export function isReplicaId(value: unknown): value is ReplicaId {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0;
}

/** Checks and brands a number as a replica id. */
export function replicaId(value: number): ReplicaId {
  if (!isReplicaId(value)) {
    throw new InvalidArgumentError(`replica id must be a positive safe integer, got ${value}`);
  }
  return value;
}

/**
 * Makes a replica id from at least 7 random bytes (the caller supplies them, e.g. from
 * `crypto.getRandomValues`, so the core itself stays free of randomness).
 */
export function replicaIdFromBytes(bytes: Uint8Array): ReplicaId {
  if (bytes.length < 7) throw new InvalidArgumentError('replicaIdFromBytes needs 7 random bytes');
  // 53 bits: 5 bits from the first byte, then 6 full bytes.
  let id = bytes[0]! & 0x1f;
  for (let i = 1; i < 7; i++) id = id * 256 + bytes[i]!;
  return (id === 0 ? 1 : id) as ReplicaId;
}
