// Argument parsing for the CLI on node:util's parseArgs (strict: unknown flags are errors),
// and the error type every command throws for a clear message and an exit code.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { NeuroplexError } from '../../../core/src/errors.ts';

export const ExitCode = { Ok: 0, Failure: 1, Usage: 2 } as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** A failure to report as one line (no stack trace) with an exit code. */
export class CliError extends NeuroplexError {
  readonly exitCode: ExitCode;
  constructor(message: string, exitCode: ExitCode = ExitCode.Failure) {
    super(exitCode === ExitCode.Usage ? 'CLI_USAGE' : 'CLI_FAILURE', message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

export type Options = NonNullable<ParseArgsConfig['options']>;

export interface Parsed {
  readonly values: Record<string, string | boolean | undefined>;
  readonly positionals: string[];
}

/** Parses `argv` for one command; every parse problem becomes a usage CliError. */
export function parse(argv: string[], options: Options, command: string): Parsed {
  try {
    const { values, positionals } = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
    return { values: values as Parsed['values'], positionals };
  } catch (cause) {
    throw new CliError(`${command}: ${(cause as Error).message.split('\n')[0]!.split('. To specify')[0]}. See \`neuroplex ${command} --help\`.`, ExitCode.Usage);
  }
}

export function str(p: Parsed, name: string): string | undefined {
  const v = p.values[name];
  return typeof v === 'string' ? v : undefined;
}

/** A non-negative integer flag, or undefined when absent. */
export function int(p: Parsed, name: string, command: string, min = 0, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const v = str(p, name);
  if (v === undefined) return undefined;
  if (!/^\d{1,16}$/.test(v) || Number(v) < min || Number(v) > max) {
    throw new CliError(`${command}: --${name} must be an integer in ${min}..${max}, got ${JSON.stringify(v)}`, ExitCode.Usage);
  }
  return Number(v);
}

export function positional(p: Parsed, index: number, name: string, command: string): string {
  const v = p.positionals[index];
  if (v === undefined) throw new CliError(`${command}: missing <${name}>. See \`neuroplex ${command} --help\`.`, ExitCode.Usage);
  return v;
}

export function noExtraPositionals(p: Parsed, count: number, command: string): void {
  if (p.positionals.length > count) {
    throw new CliError(`${command}: unexpected argument ${JSON.stringify(p.positionals[count])}. See \`neuroplex ${command} --help\`.`, ExitCode.Usage);
  }
}

export const ENDPOINT_OPTIONS: Options = {
  endpoints: { type: 'string' },
  ks: { type: 'string' },
  timeout: { type: 'string' },
};

export const DEFAULT_ENDPOINT = 'http://127.0.0.1:7101';

/** --endpoints, else $NEUROPLEX_ENDPOINTS, else the default local node. */
export function endpoints(p: Parsed, command: string): string[] {
  const raw = str(p, 'endpoints') ?? process.env.NEUROPLEX_ENDPOINTS ?? DEFAULT_ENDPOINT;
  const list = raw.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  for (const e of list) {
    let url: URL;
    try {
      url = new URL(e);
    } catch {
      throw new CliError(`${command}: --endpoints: ${JSON.stringify(e)} is not a URL (e.g. http://127.0.0.1:7101)`, ExitCode.Usage);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new CliError(`${command}: --endpoints: ${e} is not http(s)`, ExitCode.Usage);
  }
  if (list.length === 0) throw new CliError(`${command}: --endpoints is empty`, ExitCode.Usage);
  return list.map((e) => e.replace(/\/+$/, ''));
}
