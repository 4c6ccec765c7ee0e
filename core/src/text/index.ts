// @neuroplex/core/text: the sequence CRDT (lists and text), its codecs, cursors and undo.
export { Sequence, type RemovedRun, type IdRun, type ElementOf, continuesRun } from './sequence.ts';
export { type TextSequence, type ListSequence, textSequence, listSequence } from './make-sequence.ts';
export { cloneSequence } from './clone-sequence.ts';
export { UndoManager, type UndoManagerOptions, UndoOpKind } from './undo-manager.ts';
export { Chunk, NO_REPLICA } from './chunk.ts';
export { type ContentKind, ContentTag, textKind, listKind, MAX_RUN_ELEMENTS } from './content.ts';
export {
  type DotClock,
  type DeltaItem,
  type SequenceDelta,
  type Patch,
  PatchKind,
  type RelativePosition,
} from './delta.ts';
export { DeleteLog } from './delete-log.ts';
export { DELTA_VERSION, writeDelta, readDelta, emptyDelta } from './delta-codec.ts';
export { STATE_VERSION, writeState, readState, type LoadedState } from './state-codec.ts';
export { TextDocument } from './standalone-text.ts';
