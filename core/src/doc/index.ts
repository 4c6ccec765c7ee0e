export { Replica, type ReplicaOptions, ChangeEvent, ChangeOrigin, type ChangeListener, type DeltaListener, type ListenerErrorHandler, MAX_KEY_BYTES } from './replica.ts';
export { CounterHandle, RegisterHandle, SetHandle, MapHandle } from './handles.ts';
export { KeyPattern } from './key-pattern.ts';
export { TextHandle, ListHandle, SequenceUndo } from './sequence-handles.ts';
export { ListenersFailedError, DocErrorCode } from './errors.ts';
