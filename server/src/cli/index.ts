// The neuroplex CLI.
export { main } from './main.ts';
export { CliError, ExitCode } from './args.ts';
export { parseListen, prepareDataDir } from './start.ts';
