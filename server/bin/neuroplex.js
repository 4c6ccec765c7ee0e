#!/usr/bin/env node
// Launcher of the `neuroplex` CLI: registers tsx's loader so the TypeScript sources run
// as they are, then hands the arguments to server/src/cli/main.ts.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
