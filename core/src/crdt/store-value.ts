// Reads a dot store as the plain value an application sees.
import type { JsonValue } from '../codec/json-value.ts';
import type { CounterStore } from './counter-store.ts';
import { CrdtType, type DotStore } from './dot-store.ts';
import type { MapStore } from './map-store.ts';
import type { RegisterStore } from './register-store.ts';
import type { SequenceStore } from './sequence-store.ts';
import type { SetStore } from './set-store.ts';

export function storeValue(store: DotStore): unknown {
  switch (store.type) {
    case CrdtType.Register:
      return (store as RegisterStore).winner()?.value ?? null;
    case CrdtType.Counter:
      return (store as CounterStore).value();
    case CrdtType.Set:
      return (store as SetStore).values();
    case CrdtType.Map: {
      const out: Record<string, unknown> = {};
      const map = store as MapStore;
      for (const name of map.names()) {
        const v = map.visible(name);
        if (v !== undefined) out[name] = storeValue(v);
      }
      return out;
    }
    case CrdtType.Text:
      return (store as SequenceStore<string>).state().content().join('');
    case CrdtType.List:
      return (store as SequenceStore<JsonValue[]>).state().content().flat();
  }
}

export type { JsonValue };
