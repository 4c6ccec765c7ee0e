// Binary format of deltas and whole-replica snapshots, version 1.
//
//   +---------+-----------------+--------------------------------+
//   | version | kind | rootType | replicaCount | ids (7 B each)  |
//   |   u8=1  | hi 4 |   lo 4   |   varuint    | big-endian u56  |
//   +---------+-----------------+--------------------------------+
//   | context: varuint n × (replicaIdx, rangeCount, (gap, len-1)×) |
//   | removals: varuint n × (op dot, slots: n × slot)              |
//   | store (when rootType != 0): payload of rootType            |
//   +------------------------------------------------------------+
//
//   dot      = varuint replicaIdx, varuint counter
//   slot     = path: n × string, dots: n × dot, u8 type of the store owning the slot
//   register = n × (dot, varuint wallMs, varuint logical, json)
//   counter  = n × (varuint replicaIdx, varuint counter, varuint inc, varuint dec)
//   set      = n × (json, n × dot)
//   text, list = a sequence delta (text/delta-codec.ts: its own version byte and table)
//   map      = n × (string name, stores)   stores = u8 type, payload
//                                          | 0, varuint n ≥ 2, n × (u8 type, payload)
//
// Replica ids are written once in a table and referenced by index, so a dot costs 2-4
// bytes. A snapshot is the delta "since nothing": the same layout with kind 2. Kind 3, the
// state snapshot, is that layout with every text and list in the sequence's state form
// instead (text/state-codec.ts, about half the bytes of its delta form), each followed by
// a sequence delta of the items still waiting for their origins (usually none):
//
//   text, list (kind 3) = sequence state, sequence delta (items only)

export const DELTA_FORMAT_VERSION = 1;

export const DeltaKind = { Delta: 1, Snapshot: 2, StateSnapshot: 3 } as const;
export type DeltaKind = (typeof DeltaKind)[keyof typeof DeltaKind];

/** Replica ids are 53-bit: 7 bytes hold them. */
export const REPLICA_ID_BYTES = 7;

/** Nesting limit for maps inside maps (decoders reject deeper input). */
export const MAX_MAP_DEPTH = 32;

export interface DecodeLimits {
  /** Largest string (key, field name or JSON string) accepted, in bytes. */
  maxStringBytes: number;
}

export const DEFAULT_DECODE_LIMITS: DecodeLimits = { maxStringBytes: 1 << 20 };
