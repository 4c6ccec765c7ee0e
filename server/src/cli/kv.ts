// `neuroplex kv get|put|del|cas|watch`, against a node's HTTP API (like etcdctl).
import { ApiClient } from './client.ts';
import { CliError, ENDPOINT_OPTIONS, ExitCode, endpoints, int, noExtraPositionals, parse, positional, str, type Parsed } from './args.ts';
import { HELP } from './help.ts';

export interface Output {
  out(line: string): void;
}

function client(p: Parsed, command: string): ApiClient {
  return new ApiClient(endpoints(p, command), int(p, 'timeout', command, 1, 120_000) ?? 5000);
}

function query(p: Parsed, extra: Record<string, string | number | undefined> = {}): string {
  const q = new URLSearchParams();
  const ks = str(p, 'ks');
  if (ks !== undefined) q.set('ks', ks);
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) q.set(k, String(v));
  const s = q.toString();
  return s === '' ? '' : `?${s}`;
}

/** JSON when it parses as JSON, otherwise the literal string. */
function parseValue(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

const kvPath = (key: string) => `/v1/kv/${encodeURIComponent(key)}`;

export async function runKv(argv: string[], io: Output): Promise<number> {
  const sub = argv[0];
  const rest = argv.slice(1);
  if (sub === undefined || sub === '--help' || sub === '-h') {
    io.out(HELP.kv!);
    return sub === undefined ? ExitCode.Usage : ExitCode.Ok;
  }
  const command = `kv ${sub}`;
  switch (sub) {
    case 'get': {
      const p = parse(rest, { ...ENDPOINT_OPTIONS, consistency: { type: 'string' }, 'min-version': { type: 'string' }, json: { type: 'boolean' } }, command);
      if (p.values.help === true) return help(io);
      const key = positional(p, 0, 'key', command);
      noExtraPositionals(p, 1, command);
      const consistency = str(p, 'consistency');
      if (consistency !== undefined && !['strong', 'causal', 'eventual'].includes(consistency)) {
        throw new CliError(`${command}: --consistency must be strong, causal or eventual`, ExitCode.Usage);
      }
      const minVersion = int(p, 'min-version', command);
      const body = (await client(p, command).request('GET', kvPath(key) + query(p, { consistency, minVersion }))) as { value: unknown };
      io.out(p.values.json === true ? JSON.stringify(body) : JSON.stringify(body.value));
      return ExitCode.Ok;
    }
    case 'put':
    case 'cas': {
      const p = parse(rest, { ...ENDPOINT_OPTIONS, 'if-version': { type: 'string' }, 'idempotency-key': { type: 'string' } }, command);
      if (p.values.help === true) return help(io);
      const key = positional(p, 0, 'key', command);
      let ifVersion = int(p, 'if-version', command);
      let raw: string;
      if (sub === 'cas') {
        const expected = positional(p, 1, 'expected-version', command);
        if (!/^\d{1,16}$/.test(expected)) throw new CliError(`${command}: <expected-version> must be an integer`, ExitCode.Usage);
        ifVersion = Number(expected);
        raw = positional(p, 2, 'value', command);
        noExtraPositionals(p, 3, command);
      } else {
        raw = positional(p, 1, 'value', command);
        noExtraPositionals(p, 2, command);
      }
      const headers: Record<string, string> = {};
      const idem = str(p, 'idempotency-key');
      if (idem !== undefined) headers['Idempotency-Key'] = idem;
      const body = { value: parseValue(raw), ...(ifVersion === undefined ? {} : { ifVersion }) };
      const r = (await client(p, command).request('PUT', kvPath(key) + query(p), body, headers)) as { version: number };
      io.out(`OK version ${r.version}`);
      return ExitCode.Ok;
    }
    case 'del': {
      const p = parse(rest, { ...ENDPOINT_OPTIONS, 'if-version': { type: 'string' } }, command);
      if (p.values.help === true) return help(io);
      const key = positional(p, 0, 'key', command);
      noExtraPositionals(p, 1, command);
      const r = (await client(p, command).request('DELETE', kvPath(key) + query(p, { ifVersion: int(p, 'if-version', command) }))) as { version: number };
      io.out(`OK version ${r.version}`);
      return ExitCode.Ok;
    }
    case 'watch':
      return watch(rest, io, command);
    default:
      throw new CliError(`unknown command "kv ${sub}". See \`neuroplex kv --help\`.`, ExitCode.Usage);
  }
}

function help(io: Output): number {
  io.out(HELP.kv!);
  return ExitCode.Ok;
}

/** Prints one JSON line per change until --count events, or until interrupted. */
async function watch(rest: string[], io: Output, command: string): Promise<number> {
  const p = parse(rest, { ...ENDPOINT_OPTIONS, 'from-version': { type: 'string' }, count: { type: 'string' } }, command);
  if (p.values.help === true) return help(io);
  const prefix = p.positionals[0] ?? '';
  noExtraPositionals(p, 1, command);
  const count = int(p, 'count', command, 1);
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const res = await client(p, command).stream(`/v1/watch${query(p, { prefix, fromVersion: int(p, 'from-version', command) })}`, controller.signal);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let buffered = '';
    let seen = 0;
    // Bounded by the stream: ends when the server closes, --count is reached, or a signal.
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffered += decoder.decode(value, { stream: true });
      let sep: number;
      while ((sep = buffered.indexOf('\n\n')) >= 0) {
        const event = buffered.slice(0, sep);
        buffered = buffered.slice(sep + 2);
        const data = event.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
        if (data === '') continue;
        if (event.includes('event: error')) throw new CliError(`watch ended by the server: ${data}`);
        io.out(data);
        if (count !== undefined && ++seen >= count) {
          controller.abort();
          return ExitCode.Ok;
        }
      }
    }
    return ExitCode.Ok;
  } catch (cause) {
    if (controller.signal.aborted) return ExitCode.Ok;
    throw cause;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}
