// A throwing change or delta listener: every other listener still hears every change, and
// the error surfaces (to the handler, or thrown once all listeners ran).
import { describe, expect, it } from 'vitest';
import type { ReplicaId } from '../../../core/src/clock/replica-id.ts';
import { ListenersFailedError } from '../../../core/src/doc/errors.ts';
import { Replica } from '../../../core/src/doc/replica.ts';

const make = (id: number) => new Replica({ replicaId: id as ReplicaId });

describe('Replica listener errors', () => {
  it('a throwing listener does not keep later listeners or delta listeners from a local op; its error is rethrown after', () => {
    const r = make(1);
    const heard: string[] = [];
    const boom = new Error('boom');
    r.subscribe('*', () => {
      throw boom;
    });
    r.subscribe('*', (e) => heard.push(`after:${e.key}`));
    r.onLocalDelta(() => heard.push('delta'));
    expect(() => r.put('a', 1)).toThrow(boom);
    expect(heard).toEqual(['after:a', 'delta']);
    expect(r.get('a')).toBe(1);
  });

  it('every key of an applied delta is announced even when a listener throws on the first', () => {
    const a = make(1);
    a.put('x', 1);
    a.put('y', 2);
    a.put('z', 3);
    const b = make(2);
    const heard: string[] = [];
    b.subscribe('*', (e) => {
      heard.push(e.key);
      throw new Error(`bad ${e.key}`);
    });
    let thrown: unknown;
    try {
      b.applyDelta(a.deltaSince(b.contextOf()));
    } catch (e) {
      thrown = e;
    }
    expect(heard.sort()).toEqual(['x', 'y', 'z']);
    expect(thrown).toBeInstanceOf(ListenersFailedError);
    const failed = thrown as ListenersFailedError;
    expect(failed.code).toBe('LISTENERS_FAILED');
    expect(failed.errors.map((e) => (e as Error).message).sort()).toEqual(['bad x', 'bad y', 'bad z']);
    expect(b.get('z')).toBe(3);
  });

  it('with a handler, errors go to it and the op returns as usual', () => {
    const r = make(1);
    const reported: unknown[] = [];
    const stop = r.onListenerError((e) => reported.push(e));
    r.onLocalDelta(() => {
      throw new Error('delta listener');
    });
    const heard: string[] = [];
    r.subscribe('k', () => heard.push('k'));
    const delta = r.put('k', 'v');
    expect(delta).toBeDefined();
    expect(heard).toEqual(['k']);
    expect(reported.map((e) => (e as Error).message)).toEqual(['delta listener']);
    stop();
    expect(() => r.put('k', 'w')).toThrow('delta listener');
  });

  it('a handler that throws still hears every failure, and its own error is thrown after', () => {
    const r = make(1);
    const first = new Error('first');
    const second = new Error('second');
    r.subscribe('*', () => {
      throw first;
    });
    r.subscribe('*', () => {
      throw second;
    });
    const handled: unknown[] = [];
    const handlerError = new Error('handler failed');
    r.onListenerError((e) => {
      handled.push(e);
      throw handlerError;
    });
    expect(() => r.put('a', 1)).toThrow(handlerError);
    expect(handled).toEqual([first, second]);
    expect(r.get('a')).toBe(1);
  });

  it('a second handler (an app beside a shell) does not displace the first; each hears every failure', () => {
    const r = make(1);
    r.subscribe('*', () => {
      throw new Error('listener');
    });
    const shell: unknown[] = [];
    const app: unknown[] = [];
    r.onListenerError((e) => shell.push(e));
    const stopApp = r.onListenerError((e) => app.push(e));
    r.put('a', 1);
    expect([shell.length, app.length]).toEqual([1, 1]);
    stopApp();
    r.put('a', 2);
    expect([shell.length, app.length]).toEqual([2, 1]);
  });
});
