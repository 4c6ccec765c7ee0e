// The client's counter and set APIs (`client.counter`, `client.set`), built over its replica:
// every write goes through the client's timed write (stored locally, then synced).
import type { JsonValue } from '../../core/src/codec/json-value.ts';
import type { Replica } from '../../core/src/doc/replica.ts';
import type { CounterApi, OperationOptions, SetApi } from './client-options.ts';

/** `client.counter`: every write goes through `timedWrite` (stored, then synced). */
export function counterApi(replica: Replica, timedWrite: (op: () => unknown) => Promise<void>): CounterApi {
  return {
    create: async (key) => timedWrite(() => replica.counter(key).increment(0)),
    increment: async (key, by = 1) => timedWrite(() => replica.counter(key).increment(by)),
    decrement: async (key, by = 1) => timedWrite(() => replica.counter(key).decrement(by)),
    value: async (key) => replica.counter(key).value,
    handle: (key) => replica.counter(key),
  };
}

/** `client.set`: called, it writes a register (`setRegister`); its methods work on set CRDTs. */
export function setApi(
  replica: Replica,
  timedWrite: (op: () => unknown) => Promise<void>,
  setRegister: (key: string, value: JsonValue, options?: OperationOptions) => Promise<void>,
): SetApi {
  const setFn = (key: string, value: JsonValue, options?: OperationOptions): Promise<void> => setRegister(key, value, options);
  return Object.assign(setFn, {
    add: async (key: string, value: JsonValue) => timedWrite(() => replica.set(key).add(value)),
    remove: async (key: string, value: JsonValue) => timedWrite(() => replica.set(key).remove(value)),
    values: async (key: string) => replica.set(key).values(),
    has: async (key: string, value: JsonValue) => replica.set(key).has(value),
  });
}
