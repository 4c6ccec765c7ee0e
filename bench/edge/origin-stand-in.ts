// The origin of `npm run bench:edge`, in its own process so that its event loop does not
// queue behind the benchmark's 100 receiving sockets: the test OriginStub (core
// ServerSyncSession over an in-memory log) for one keyspace. Prints one JSON line per event
// on stdout: {"port":N} once listening, then for every new value of key `k` committed,
// {"k":value,"recvAt":ms,"commitAt":ms}: when the delta frame carrying it arrived on the
// edge's socket and when it was applied, in wall-clock ms (performance.timeOrigin +
// performance.now(), comparable across processes on one machine).
import { peekFrameHeader } from '../../core/src/sync/codec.ts';
import { OriginStub } from '../../test/support/origin-stub.ts';

const keyspace = process.argv[2] ?? 'bench';
const origin = new OriginStub([keyspace]);
const now = (): number => performance.timeOrigin + performance.now();

let lastDeltaAt = 0;
let lastValue: unknown = undefined;
const run = origin.run.bind(origin);
origin.run = () => {
  run();
  const v = origin.host(keyspace).replica.get('k');
  if (v !== lastValue) {
    lastValue = v;
    process.stdout.write(`${JSON.stringify({ k: v, recvAt: lastDeltaAt, commitAt: now() })}\n`);
  }
};
origin.onFrame = (frame) => {
  if (peekFrameHeader(frame)?.type === 'delta') lastDeltaAt = now();
};

const port = await origin.start(Number(process.argv[3] ?? 0));
process.stdout.write(`${JSON.stringify({ port })}\n`);
const stop = (): void => {
  void origin.stop().finally(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
// The parent went away: do not linger.
process.stdin.on('end', stop);
process.stdin.resume();
