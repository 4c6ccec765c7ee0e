// `neuroplex status`, `cluster` and `member add|remove`.
import { ApiClient } from './client.ts';
import { CliError, ENDPOINT_OPTIONS, ExitCode, endpoints, int, noExtraPositionals, parse, positional, str } from './args.ts';
import { HELP } from './help.ts';
import { runLocalCluster } from './local-cluster.ts';
import { resolve } from 'node:path';
import type { Output } from './kv.ts';

interface ClusterJson {
  id: string;
  leader: string | null;
  term: number;
  commitIndex: number;
  appliedIndex: number;
  members: { id: string; url: string; learner: boolean }[];
}

export async function runStatus(argv: string[], io: Output): Promise<number> {
  const p = parse(argv, ENDPOINT_OPTIONS, 'status');
  if (p.values.help === true) {
    io.out(HELP.status!);
    return ExitCode.Ok;
  }
  noExtraPositionals(p, 0, 'status');
  const timeout = int(p, 'timeout', 'status', 1, 120_000) ?? 5000;
  let failures = 0;
  for (const e of endpoints(p, 'status')) {
    try {
      const c = (await new ApiClient([e], timeout).request('GET', '/v1/cluster')) as ClusterJson;
      io.out(`${e}  id=${c.id} leader=${c.leader ?? '-'} term=${c.term} commit=${c.commitIndex} applied=${c.appliedIndex} lag=${c.commitIndex - c.appliedIndex}`);
      for (const m of c.members) io.out(`  member ${m.id} ${m.url}${m.learner ? ' (learner)' : ''}${m.id === c.leader ? ' (leader)' : ''}`);
    } catch (cause) {
      failures++;
      io.out(`${e}  unreachable: ${(cause as Error).message}`);
    }
  }
  return failures === 0 ? ExitCode.Ok : ExitCode.Failure;
}

export async function runCluster(argv: string[], io: Output): Promise<number> {
  const p = parse(argv, { nodes: { type: 'string' }, 'base-port': { type: 'string' }, data: { type: 'string' } }, 'cluster');
  if (p.values.help === true) {
    io.out(HELP.cluster!);
    return ExitCode.Ok;
  }
  noExtraPositionals(p, 0, 'cluster');
  const nodes = int(p, 'nodes', 'cluster', 1, 7) ?? 3;
  const basePort = int(p, 'base-port', 'cluster', 1, 65535 - 7) ?? 7101;
  const root = resolve(str(p, 'data') ?? '.neuroplex');
  return runLocalCluster({ nodes, basePort, root }, io);
}

export async function runMember(argv: string[], io: Output): Promise<number> {
  const sub = argv[0];
  if (sub === undefined || sub === '--help' || sub === '-h') {
    io.out(HELP.member!);
    return sub === undefined ? ExitCode.Usage : ExitCode.Ok;
  }
  const command = `member ${sub}`;
  const p = parse(argv.slice(1), { ...ENDPOINT_OPTIONS, learner: { type: 'boolean' } }, command);
  if (p.values.help === true) {
    io.out(HELP.member!);
    return ExitCode.Ok;
  }
  const client = new ApiClient(endpoints(p, command), int(p, 'timeout', command, 1, 120_000) ?? 5000);
  if (sub === 'add') {
    const id = positional(p, 0, 'id', command);
    const url = positional(p, 1, 'url', command);
    noExtraPositionals(p, 2, command);
    await client.request('POST', '/v1/cluster/members', { id, url, learner: p.values.learner === true });
    io.out(`member ${id} added`);
    return ExitCode.Ok;
  }
  if (sub === 'remove') {
    const id = positional(p, 0, 'id', command);
    noExtraPositionals(p, 1, command);
    await client.request('DELETE', `/v1/cluster/members/${encodeURIComponent(id)}`);
    io.out(`member ${id} removed`);
    return ExitCode.Ok;
  }
  throw new CliError(`unknown command "member ${sub}". See \`neuroplex member --help\`.`, ExitCode.Usage);
}
