// The writer that one-shot encoders (encodeCommand, encodeEntry, encodeMessage, ...) use
// when the caller passes none, so that a hot encode allocates only its result.

import { Writer } from './writer.ts';

/**
 * One scratch writer for the whole process. Safe because JavaScript runs one encode at a
 * time and every encoder that uses it keeps this contract: reset() first, return finish()
 * (a copy) last, and call no other encoder that uses it in between.
 */
export const scratchWriter = new Writer(1024);
