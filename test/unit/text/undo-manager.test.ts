// Unit tests of the undo manager's grouping and stacks (its concurrency laws are in
// test/property/text-intent.test.ts).
import { describe, expect, it } from 'vitest';
import { replicaId } from '../../../core/src/clock/replica-id.ts';
import { TextDocument } from '../../../core/src/text/standalone-text.ts';
import { UndoManager } from '../../../core/src/text/undo-manager.ts';

function setup(): { doc: TextDocument; undo: UndoManager<string> } {
  const doc = new TextDocument(replicaId(1));
  return { doc, undo: new UndoManager(doc.sequence, doc, { captureTimeoutMs: 500 }) };
}

describe('UndoManager', () => {
  it('groups a burst of typing into one step and splits on a pause', () => {
    const { doc, undo } = setup();
    for (let i = 0; i < 5; i++) undo.insert(i, 'abcde'[i]!, i * 100);
    for (let i = 0; i < 3; i++) undo.insert(5 + i, 'xyz'[i]!, 2000 + i * 100);
    expect(doc.toString()).toBe('abcdexyz');
    undo.undo();
    expect(doc.toString()).toBe('abcde');
    undo.undo();
    expect(doc.toString()).toBe('');
    expect(undo.canUndo).toBe(false);
    undo.redo();
    undo.redo();
    expect(doc.toString()).toBe('abcdexyz');
  });

  it('stopCapturing starts a new step; a new edit clears redo', () => {
    const { doc, undo } = setup();
    undo.insert(0, 'a', 0);
    undo.stopCapturing();
    undo.insert(1, 'b', 1);
    undo.undo();
    expect(doc.toString()).toBe('a');
    expect(undo.canRedo).toBe(true);
    undo.insert(1, 'c', 2);
    expect(undo.canRedo).toBe(false);
    expect(undo.redo()).toBeUndefined();
  });

  it('undoing a delete of text typed earlier, then the typing, leaves nothing', () => {
    const { doc, undo } = setup();
    undo.insert(0, 'hello', 0);
    undo.stopCapturing();
    undo.delete(3, 2, 10);
    undo.undo();
    expect(doc.toString()).toBe('hello');
    undo.undo();
    expect(doc.toString()).toBe('');
    undo.redo();
    undo.redo();
    expect(doc.toString()).toBe('hel');
  });

  it('does not touch text typed by others inside the undone range', () => {
    const { doc, undo } = setup();
    const other = new TextDocument(replicaId(2));
    other.apply(undo.insert(0, 'abcd', 0));
    doc.apply(other.insert(2, 'XY'));
    undo.undo();
    expect(doc.toString()).toBe('XY');
  });
});
