// @neuroplex/core: the pure, isomorphic core. Import subpaths for each component
// (`@neuroplex/core/clock`, `/crdt`, `/doc`, `/codec`, `/testing`); this entry
// re-exports the main types only.
export { NeuroplexError, DecodeError, TypeMismatchError, InvalidArgumentError, AssertionError, ErrorCode } from './errors.ts';
