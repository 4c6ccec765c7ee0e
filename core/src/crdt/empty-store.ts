// Creates an empty dot store of a given type (map fields and decoders need one).
import { AssertionError } from '../errors.ts';
import { CounterStore } from './counter-store.ts';
import { CrdtType, type DotStore } from './dot-store.ts';
import { MapStore } from './map-store.ts';
import { RegisterStore } from './register-store.ts';
import { SequenceStore } from './sequence-store.ts';
import { SetStore } from './set-store.ts';

export function createEmptyStore(type: CrdtType): DotStore {
  switch (type) {
    case CrdtType.Register:
      return new RegisterStore();
    case CrdtType.Counter:
      return new CounterStore();
    case CrdtType.Set:
      return new SetStore();
    case CrdtType.Map:
      return new MapStore();
    case CrdtType.Text:
    case CrdtType.List:
      return SequenceStore.empty(type);
    default:
      throw new AssertionError(`no store for CRDT type ${type}`);
  }
}
