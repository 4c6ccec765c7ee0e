// A quiescent server session moves to a rebuilt shell (a Durable Object woken from
// hibernation) through resumeState()/resume(): the client notices nothing, and the
// sequence numbers, cursor and acknowledgements carry on.
import { describe, expect, it } from 'vitest';
import { Multiplexer } from '../../../core/src/sync/multiplexer.ts';
import { ServerSyncSession } from '../../../core/src/sync/server-session.ts';
import { ClientHost, ServerHost, stateOf } from '../../support/sync-harness.ts';

/** One client on its own connection to `host`; the server side can be rebuilt. */
class Wire {
  readonly clientMux = new Multiplexer();
  serverMux: Multiplexer;
  session: ServerSyncSession | undefined = undefined;

  constructor(readonly host: ServerHost, readonly client: ClientHost) {
    this.serverMux = this.acceptingMux();
    client.open(this.clientMux);
  }

  private acceptingMux(): Multiplexer {
    return new Multiplexer({
      accept: (hello) => {
        this.session = this.host.accept(hello);
        return this.session;
      },
    });
  }

  /** The shell was rebuilt: a new multiplexer with the session resumed from its saved state. */
  rebuild(): void {
    const saved = this.session!.resumeState();
    expect(saved).toBeDefined();
    const copy = structuredClone(saved!);
    this.host.forget([this.session!]);
    const s = ServerSyncSession.resume({ channel: copy.channel, source: this.host.source }, copy);
    this.host.sessions.add(s);
    this.serverMux = this.acceptingMux();
    this.serverMux.add(s);
    this.session = s;
  }

  move(): number {
    let n = 0;
    for (const f of this.clientMux.takeFrames()) {
      this.serverMux.receive(f);
      n++;
    }
    for (const f of this.serverMux.takeFrames()) {
      this.clientMux.receive(f);
      n++;
    }
    return n;
  }
}

function settle(host: ServerHost, wires: Wire[]): void {
  for (let round = 0; round < 1000; round++) {
    let moved = host.drain();
    for (const w of wires) moved += w.client.drain() + w.move();
    if (moved === 0) return;
  }
  throw new Error('did not settle');
}

describe('ServerSyncSession resume', () => {
  it('continues after the server side is rebuilt from resumeState()', () => {
    const host = new ServerHost(1, 'ks');
    const a = new ClientHost(2, 'ks');
    const b = new ClientHost(3, 'ks');
    const wa = new Wire(host, a);
    const wb = new Wire(host, b);
    settle(host, [wa, wb]);
    a.replica.put('x', 1);
    b.replica.counter('n').increment(2);
    settle(host, [wa, wb]);
    wa.rebuild();
    wb.rebuild();
    a.replica.put('y', 'after');
    b.replica.counter('n').increment(3);
    settle(host, [wa, wb]);
    expect(stateOf(a.replica)).toEqual(stateOf(b.replica));
    expect(a.replica.get('n')).toBe(5);
    expect(b.replica.get('y')).toBe('after');
    expect(a.errors).toEqual([]);
    expect(b.errors).toEqual([]);
    expect(host.errors).toEqual([]);
    expect(a.disk.pending).toEqual([]);
    expect(b.committedLsn).toBe(2);
  });

  it('has no resume state while something is in flight', () => {
    const host = new ServerHost(1, 'ks');
    const a = new ClientHost(2, 'ks');
    const b = new ClientHost(3, 'ks');
    const wa = new Wire(host, a);
    const wb = new Wire(host, b);
    settle(host, [wa, wb]);
    expect(wb.session!.resumeState()).toBeDefined();
    a.replica.put('x', 1);
    a.drain();
    wa.move();
    host.drain();
    // b's session has sent the change and has no ack yet; a's is not yet acknowledged back.
    expect(wb.session!.resumeState()).toBeUndefined();
    settle(host, [wa, wb]);
    expect(wb.session!.resumeState()).toBeDefined();
    expect(wa.session!.resumeState()).toBeDefined();
  });
});
