// The `neuroplex` command: dispatches to a command and turns every failure into a one-line
// message on stderr and an exit code (2 usage, 1 failure), never a stack trace. Commands
// are imported lazily: `kv get` should not pay for loading LMDB and the HTTP server.
import { CliError, ExitCode } from './args.ts';
import { HELP } from './help.ts';
import type { Output } from './kv.ts';

// A reader that goes away (`neuroplex status | head -1`) ends the output, not the process
// with a stack trace.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});
const stdout: Output = { out: (line) => process.stdout.write(`${line}\n`) };

export async function main(argv: string[], io: Output = stdout): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case undefined:
        process.stderr.write(`${HELP.main}\n`);
        return ExitCode.Usage;
      case '--help':
      case '-h':
      case 'help':
        io.out(HELP.main!);
        return ExitCode.Ok;
      case 'start':
        return await (await import('./start.ts')).runStart(rest, io);
      case 'cluster':
        return await (await import('./admin.ts')).runCluster(rest, io);
      case 'status':
        return await (await import('./admin.ts')).runStatus(rest, io);
      case 'kv':
        return await (await import('./kv.ts')).runKv(rest, io);
      case 'member':
        return await (await import('./admin.ts')).runMember(rest, io);
      default:
        throw new CliError(`unknown command ${JSON.stringify(command)}. See \`neuroplex --help\`.`, ExitCode.Usage);
    }
  } catch (e) {
    if (e instanceof CliError) {
      process.stderr.write(`neuroplex: ${e.message}\n`);
      return e.exitCode;
    }
    // Unexpected: still one line, with the error's name and message.
    const err = e as Error;
    process.stderr.write(`neuroplex: ${err?.name ?? 'Error'}: ${err?.message ?? String(e)}\n`);
    return ExitCode.Failure;
  }
}
