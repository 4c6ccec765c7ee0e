// The origin node seam and its single-node implementation.
export {
  Consistency,
  type OriginNode,
  type ProposeOptions,
  type ReadOptions,
  type ClusterInfo,
  type MemberInfo,
  type Readiness,
  type WatchSubscription,
} from './origin-node.ts';
export { LocalNode, type LocalNodeOptions, withTimeout } from './local-node.ts';
export { ChangeFeed } from './change-feed.ts';
export { NodeErrorCode, NodeUnavailableError, NodeTimeoutError } from './errors.ts';
