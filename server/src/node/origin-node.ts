// The seam between the HTTP API and a node: propose a command and await its result, read
// with a consistency level, describe the cluster, watch changes. LocalNode implements it for
// one node; the Raft driver implements it for a cluster (followers forward to the leader).
import type { KvChange, KvCommand, KvEntry, KvResult } from '../../../core/src/kv/commands.ts';

export const Consistency = { Strong: 'strong', Causal: 'causal', Eventual: 'eventual' } as const;
export type Consistency = (typeof Consistency)[keyof typeof Consistency];

export interface ProposeOptions {
  /** Fail with NodeTimeoutError after this long. */
  readonly timeoutMs: number;
  /**
   * The command as encodeCommand's bytes, when the caller already has them (the binary
   * protocol decoded the command from them): a node may log these instead of encoding again.
   */
  readonly encoded?: Uint8Array;
}

export interface ReadOptions {
  /** strong: linearizable (ReadIndex); causal: at least `minVersion`; eventual: local state. */
  readonly consistency: Consistency;
  /** For causal reads: wait until the node has applied this log index. */
  readonly minVersion?: number;
  readonly timeoutMs: number;
}

export interface MemberInfo {
  readonly id: string;
  readonly url: string;
  readonly learner: boolean;
}

export interface ClusterInfo {
  readonly id: string;
  readonly leader: string | null;
  readonly term: number;
  readonly commitIndex: number;
  readonly appliedIndex: number;
  readonly members: readonly MemberInfo[];
}

export interface Readiness {
  readonly ready: boolean;
  readonly reason?: string;
}

export interface WatchSubscription {
  close(): void;
}

export interface OriginNode {
  readonly id: string;
  /** Commits a command through the log and returns the state machine's answer. */
  propose(command: KvCommand, options: ProposeOptions): Promise<KvResult>;
  read(ks: string, key: string, options: ReadOptions): Promise<KvEntry | undefined>;
  cluster(): ClusterInfo;
  readiness(): Readiness;
  /**
   * Calls `onChange` for every committed change to a key of `ks` starting with `prefix`,
   * first those with version >= `fromVersion` (when given) that the node still knows, then
   * live ones, in log order.
   */
  watch(ks: string, prefix: string, fromVersion: number | undefined, onChange: (change: KvChange) => void): WatchSubscription;
  addMember(member: MemberInfo): Promise<ClusterInfo>;
  removeMember(id: string): Promise<ClusterInfo>;
  /** Calls `listener` on every leader change this node observes (absent on a single node). */
  onLeaderChange?(listener: (leader: string | null) => void): void;
}
