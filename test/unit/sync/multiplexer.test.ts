// The Multiplexer routes by a header its transport already peeked when one is passed in
// (the shared browser socket reads each frame's prefix once), else peeks the frame itself.
import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage, peekFrameHeader } from '../../../core/src/sync/codec.ts';
import { Multiplexer } from '../../../core/src/sync/multiplexer.ts';

const ackFrame = (channel: number): Uint8Array => encodeMessage({ type: 'ack', channel, level: 'stored', seq: 1, position: 0 });

describe('Multiplexer.receive', () => {
  it('peeks the frame itself without a header', () => {
    const mux = new Multiplexer();
    mux.receive(ackFrame(3));
    const answers = mux.takeFrames().map((f) => decodeMessage(f));
    expect(answers).toMatchObject([{ type: 'error', channel: 3 }]);
  });

  it('routes by the header passed in, without reading the frame prefix again', () => {
    const mux = new Multiplexer();
    const frame = ackFrame(3);
    const header = peekFrameHeader(frame)!;
    // A header that disagrees with the bytes shows which one was used.
    mux.receive(frame, { ...header, channel: 9 });
    const answers = mux.takeFrames().map((f) => decodeMessage(f));
    expect(answers).toMatchObject([{ type: 'error', channel: 9 }]);
  });
});
