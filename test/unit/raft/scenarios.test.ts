// Runs the data-driven scenarios in test/scenarios/raft/*.txt. A stanza is a command line
// (`name arg key=value`), a `----` line, and the expected output up to a blank line. With
// REWRITE=1 the expected output is regenerated from what the handlers print.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Command, ScenarioContext, handlers } from './scenario-handlers.ts';

const DIR = join(import.meta.dirname, '../../scenarios/raft');
const REWRITE = process.env['REWRITE'] === '1';

interface Stanza {
  comments: string[];
  command: string;
  expected: string;
}

function parse(text: string): Stanza[] {
  const lines = text.split('\n');
  const out: Stanza[] = [];
  let i = 0;
  while (i < lines.length) {
    const comments: string[] = [];
    while (i < lines.length && (lines[i]!.trim() === '' || lines[i]!.startsWith('#'))) {
      if (lines[i]!.startsWith('#')) comments.push(lines[i]!);
      i++;
    }
    if (i >= lines.length) break;
    const command = lines[i++]!;
    if (lines[i] !== '----') throw new Error(`expected ---- after "${command}" (line ${i + 1})`);
    i++;
    const body: string[] = [];
    while (i < lines.length && lines[i] !== '') body.push(lines[i++]!);
    out.push({ comments, command, expected: body.join('\n') });
  }
  return out;
}

function parseCommand(line: string): Command {
  const parts = line.trim().split(/\s+/);
  const cmd: Command = { name: parts[0]!, args: [], kv: new Map() };
  for (const p of parts.slice(1)) {
    const eq = p.indexOf('=');
    if (eq > 0) cmd.kv.set(p.slice(0, eq), p.slice(eq + 1));
    else cmd.args.push(p);
  }
  return cmd;
}

function render(stanzas: Stanza[]): string {
  return stanzas.map((s) => [...s.comments, s.command, '----', s.expected].join('\n')).join('\n\n') + '\n';
}

describe('raft scenarios', () => {
  const files = readdirSync(DIR).filter((f) => f.endsWith('.txt')).sort();
  it('has scenario files', () => expect(files.length).toBeGreaterThan(0));
  for (const file of files) {
    it(file, () => {
      const path = join(DIR, file);
      const stanzas = parse(readFileSync(path, 'utf8'));
      const ctx = new ScenarioContext();
      for (const s of stanzas) {
        const cmd = parseCommand(s.command);
        const handler = handlers[cmd.name];
        if (handler === undefined) throw new Error(`${file}: unknown command ${cmd.name}`);
        const actual = handler(ctx, cmd) || 'ok';
        if (REWRITE) s.expected = actual;
        else expect(actual, `${file}: ${s.command}`).toBe(s.expected);
      }
      if (REWRITE) writeFileSync(path, render(stanzas));
    });
  }
});
