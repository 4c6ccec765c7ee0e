// Every real editing trace replays to its endContent (traces: editing-traces collection by
// Joseph Gentle and contributors; automerge-paper prepared by Martin Kleppmann;
// sveltecomponent and friendsforever under CC BY 4.0).
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { replicaId } from '../../../core/src/clock/replica-id.ts';
import { TextDocument } from '../../../core/src/text/standalone-text.ts';
import { isConcurrent, loadTrace, replayConcurrent, replaySequential, TRACES_DIR } from './trace-helpers.ts';

const files = readdirSync(TRACES_DIR).filter((f) => f.endsWith('.json.gz'));

describe('editing traces', () => {
  it('finds the three traces', () => {
    expect(files.length).toBeGreaterThanOrEqual(3);
  });

  for (const file of files) {
    it(`${file} replays to endContent, and its encoded state loads back`, () => {
      const trace = loadTrace(`${TRACES_DIR}/${file}`);
      if (isConcurrent(trace)) {
        const leaves = replayConcurrent(trace);
        expect(leaves.length).toBeGreaterThan(0);
        // Merge every leaf into every other: each then holds everything.
        for (const a of leaves) for (const b of leaves) if (a !== b) a.mergeFrom(b);
        for (const leaf of leaves) expect(leaf.toString()).toBe(trace.endContent);
        const loaded = new TextDocument(replicaId(999));
        loaded.loadState(leaves[0]!.encodeState());
        expect(loaded.toString()).toBe(trace.endContent);
        // A replica that starts empty and syncs everything reads the same.
        const fresh = new TextDocument(replicaId(1000));
        fresh.mergeFrom(leaves[0]!);
        expect(fresh.toString()).toBe(trace.endContent);
        return;
      }
      const doc = replaySequential(trace);
      expect(doc.toString()).toBe(trace.endContent);
      const bytes = doc.encodeState();
      const loaded = new TextDocument(replicaId(2));
      loaded.loadState(bytes);
      expect(loaded.toString()).toBe(trace.endContent);
      expect(loaded.encodeState()).toEqual(bytes);
      expect(loaded.context.equals(doc.context)).toBe(true);
    });
  }
});
