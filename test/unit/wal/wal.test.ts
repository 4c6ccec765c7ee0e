import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WriteAheadLog } from '../../../server/src/wal/wal.ts';
import { WalCorruptError } from '../../../server/src/wal/errors.ts';
import { scanSegment, parseSegmentName } from '../../../server/src/wal/segment.ts';
import type { WalEntry } from '../../../server/src/wal/record.ts';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'npx-wal-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const enc = new TextEncoder();
function entry(index: number, term = 1, text = `cmd-${index}`): WalEntry {
  return { index, term, type: 0, data: enc.encode(text) };
}
function range(lo: number, hi: number, term = 1): WalEntry[] {
  const out: WalEntry[] = [];
  for (let i = lo; i <= hi; i++) out.push(entry(i, term));
  return out;
}
/** Appends entries lo..hi one sync each (small segments then rotate many times). */
async function appendSyncedOneByOne(wal: WriteAheadLog, lo: number, hi: number): Promise<void> {
  for (let i = lo; i <= hi; i++) {
    wal.append([entry(i, 1, 'y'.repeat(30))]);
    await wal.sync();
  }
}

function segments(dir: string): string[] {
  return readdirSync(dir).filter((n) => parseSegmentName(n) !== undefined).sort();
}
/** Where the records of a segment file end (the zeros written ahead start there). */
function dataEnd(path: string): number {
  const name = path.slice(path.lastIndexOf('/') + 1);
  return scanSegment(readFileSync(path), name, parseSegmentName(name)!, true).validBytes;
}
/** Offsets of the records in a segment file, in order. */
function recordOffsets(dir: string, name: string): number[] {
  return scanSegment(readFileSync(join(dir, name)), name, parseSegmentName(name)!, true).records.map((r) => r.offset);
}

describe('WriteAheadLog', () => {
  it('persists entries, hard state and snapshot metadata across a reopen', async () => {
    const dir = tempDir();
    const wal = await WriteAheadLog.open(dir);
    expect(wal.lastIndex).toBe(0);
    wal.append(range(1, 10));
    wal.setHardState({ term: 3, vote: 'n2', commit: 7 });
    await wal.sync();
    await wal.close();
    const again = await WriteAheadLog.open(dir);
    expect(again.report.truncatedTail).toBeUndefined();
    expect(again.hardState).toEqual({ term: 3, vote: 'n2', commit: 7 });
    expect(again.firstIndex).toBe(1);
    expect(again.lastIndex).toBe(10);
    expect(again.entries(3, 6)).toEqual(range(3, 5));
    expect(again.term(10)).toBe(1);
    await again.close();
  });

  it('group commit: many concurrent appends share a few fdatasyncs', async () => {
    const dir = tempDir();
    let syncs = 0;
    const wal = await WriteAheadLog.open(dir, { onSync: () => syncs++ });
    const waits: Promise<void>[] = [];
    for (let i = 1; i <= 200; i++) {
      wal.append([entry(i)]);
      waits.push(wal.sync());
    }
    await Promise.all(waits);
    expect(wal.stats.records).toBe(200);
    expect(syncs).toBe(wal.stats.syncs);
    expect(syncs).toBeLessThanOrEqual(3);
    await wal.close();
    expect((await WriteAheadLog.open(dir)).lastIndex).toBe(200);
  });


  it('appends and hard states made while a flush is in flight go in the next one, in order, byte for byte', async () => {
    const dir = tempDir();
    const wal = await WriteAheadLog.open(dir);
    // Bounded: 6 rounds, each appending while the previous flush is still writing.
    let inFlight: Promise<void> = Promise.resolve();
    for (let round = 0; round < 6; round++) {
      const lo = round * 50 + 1;
      wal.append(range(lo, lo + 49, round + 1).map((e) => ({ ...e, data: enc.encode(`r${round}-${e.index}-`.repeat(1 + (e.index % 40))) })));
      wal.setHardState({ term: round + 1, vote: 'n1', commit: lo + 49 });
      const previous = inFlight;
      inFlight = wal.sync();
      await previous;
    }
    await inFlight;
    await wal.close();
    const back = await WriteAheadLog.open(dir);
    expect(back.lastIndex).toBe(300);
    expect(back.hardState).toEqual({ term: 6, vote: 'n1', commit: 300 });
    const got = back.entries(1, 301);
    for (const e of got) {
      const round = Math.floor((e.index - 1) / 50);
      expect(e.term).toBe(round + 1);
      expect(new TextDecoder().decode(e.data)).toBe(`r${round}-${e.index}-`.repeat(1 + (e.index % 40)));
    }
    await back.close();
  });
  it('a conflicting suffix is replaced, explicitly or by appending at a lower index', async () => {
    const dir = tempDir();
    const wal = await WriteAheadLog.open(dir);
    wal.append(range(1, 10, 1));
    await wal.sync();
    wal.append([entry(6, 2, 'new-6'), entry(7, 2, 'new-7')]);
    wal.append([entry(8, 2, 'new-8')]);
    wal.truncateSuffix(9); // nothing at 9: no-op
    await wal.sync();
    expect(wal.lastIndex).toBe(8);
    await wal.close();
    const again = await WriteAheadLog.open(dir);
    expect(again.lastIndex).toBe(8);
    expect(again.entries(5, 9).map((e) => e.term)).toEqual([1, 2, 2, 2]);
    again.truncateSuffix(7);
    await again.sync();
    await again.close();
    const third = await WriteAheadLog.open(dir);
    expect(third.lastIndex).toBe(6);
    expect(new TextDecoder().decode(third.entries(6, 7)[0]!.data)).toBe('new-6');
    expect(() => third.append([entry(9)])).toThrow(/outside/);
    await third.close();
  });

  it('rotates segments and deletes those below a snapshot', async () => {
    const dir = tempDir();
    const wal = await WriteAheadLog.open(dir, { segmentBytes: 1024 });
    for (let i = 1; i <= 200; i++) {
      wal.append([entry(i, 1, `payload-${i}-${'x'.repeat(20)}`)]);
      if (i % 10 === 0) await wal.sync();
    }
    await wal.sync();
    const before = segments(dir).length;
    expect(before).toBeGreaterThan(5);
    wal.setSnapshot({ index: 150, term: 1, data: enc.encode('members') });
    const deleted = await wal.compact(151);
    expect(deleted).toBeGreaterThan(0);
    expect(segments(dir).length).toBe(before - deleted);
    expect(wal.firstIndex).toBe(151);
    expect(wal.entries(1, 1000).length).toBe(50);
    wal.setHardState({ term: 1, vote: '', commit: 200 });
    wal.append([entry(201)]);
    await wal.close();
    const again = await WriteAheadLog.open(dir, { segmentBytes: 1024 });
    expect(again.snapshot.index).toBe(150);
    expect(new TextDecoder().decode(again.snapshot.data)).toBe('members');
    expect(again.firstIndex).toBe(151);
    expect(again.lastIndex).toBe(201);
    expect(again.hardState.commit).toBe(200);
    expect(again.term(150)).toBe(1);
    await again.close();
  });

  it('a snapshot past the last entry (installed from a leader) empties the log', async () => {
    const dir = tempDir();
    const wal = await WriteAheadLog.open(dir);
    wal.append(range(1, 5));
    wal.setSnapshot({ index: 50, term: 4, data: new Uint8Array(0) });
    expect(wal.lastIndex).toBe(50);
    wal.append([entry(51, 4)]);
    await wal.close();
    const again = await WriteAheadLog.open(dir);
    expect([again.firstIndex, again.lastIndex, again.term(50), again.term(51)]).toEqual([51, 51, 4, 4]);
    await again.close();
  });

  it('a torn tail (file cut mid-record) is truncated to the last valid record', async () => {
    const dir = tempDir();
    const wal = await WriteAheadLog.open(dir);
    wal.append(range(1, 20));
    await wal.close();
    const [name] = segments(dir);
    const path = join(dir, name!);
    truncateSync(path, dataEnd(path) - 3);
    const again = await WriteAheadLog.open(dir);
    expect(again.lastIndex).toBe(19);
    expect(again.report.truncatedTail?.file).toBe(name);
    expect(again.report.truncatedTail?.droppedBytes).toBeGreaterThan(0);
    again.append([entry(20, 2)]);
    await again.close();
    const third = await WriteAheadLog.open(dir);
    expect(third.lastIndex).toBe(20);
    expect(third.term(20)).toBe(2);
    expect(third.report.truncatedTail).toBeUndefined();
    await third.close();
  });

  it('a corrupt last record counts as a torn tail, also when zeros follow it', async () => {
    const dir = tempDir();
    const wal = await WriteAheadLog.open(dir);
    wal.append(range(1, 5));
    await wal.close();
    const [name] = segments(dir);
    const path = join(dir, name!);
    const bytes = readFileSync(path);
    expect(bytes.length).toBeGreaterThan(dataEnd(path)); // preallocated zeros follow
    bytes[dataEnd(path) - 2] ^= 0x40;
    writeFileSync(path, bytes);
    const a = await WriteAheadLog.open(dir);
    expect(a.lastIndex).toBe(4);
    expect(a.report.truncatedTail?.reason).toMatch(/checksum/);
    await a.close();
    // Garbage after zeros: not preallocated space, a torn write.
    appendFileSync(path, new Uint8Array(4096));
    appendFileSync(path, new Uint8Array([1, 2, 3]));
    const b = await WriteAheadLog.open(dir);
    expect(b.lastIndex).toBe(4);
    expect(b.report.truncatedTail?.reason).toMatch(/length 0/);
    await b.close();
  });

  it('writes zeros ahead of the records in chunks and reads them as free space, not a tail', async () => {
    const dir = tempDir();
    const wal = await WriteAheadLog.open(dir, { preallocateBytes: 4096 });
    wal.append(range(1, 5));
    await wal.sync();
    const [name] = segments(dir);
    const path = join(dir, name!);
    expect(statSync(path).size).toBe(4096);
    const end = dataEnd(path);
    expect(end).toBeLessThan(4096);
    expect(readFileSync(path).subarray(end).every((b) => b === 0)).toBe(true);
    // Enough records to pass the first chunk: the file grows by whole chunks.
    for (let i = 6; i <= 100; i++) wal.append([entry(i, 1, 'z'.repeat(40))]);
    await wal.close();
    expect(statSync(path).size % 4096).toBe(0);
    expect(statSync(path).size).toBeGreaterThan(dataEnd(path));
    const again = await WriteAheadLog.open(dir, { preallocateBytes: 4096 });
    expect(again.report.truncatedTail).toBeUndefined();
    expect([again.lastIndex, again.term(100)]).toEqual([100, 1]);
    // New records go where the old ones ended, over the zeros.
    again.append([entry(101, 2)]);
    await again.close();
    const third = await WriteAheadLog.open(dir);
    expect([third.lastIndex, third.term(101), third.entries(100, 102).length]).toEqual([101, 2, 2]);
    await third.close();
  });

  it('never preallocates past segmentBytes, and a segment it leaves has no zeros', async () => {
    const dir = tempDir();
    // An earlier run with large chunks left zeros; this run rotates at 1 KiB.
    const first = await WriteAheadLog.open(dir, { preallocateBytes: 64 * 1024 });
    first.append(range(1, 3));
    await first.close();
    const wal = await WriteAheadLog.open(dir, { segmentBytes: 1024, preallocateBytes: 4096 });
    await appendSyncedOneByOne(wal, 4, 80);
    await wal.close();
    const names = segments(dir);
    expect(names.length).toBeGreaterThan(2);
    for (const n of names.slice(0, -1)) {
      const path = join(dir, n);
      expect(statSync(path).size).toBe(dataEnd(path));
    }
    const again = await WriteAheadLog.open(dir, { segmentBytes: 1024 });
    expect([again.firstIndex, again.lastIndex]).toEqual([1, 80]);
    await again.close();
  });

  it('a corrupt record in the middle refuses to open, naming the file and byte offset', async () => {
    const dir = tempDir();
    const wal = await WriteAheadLog.open(dir);
    wal.append(range(1, 10));
    await wal.close();
    const [name] = segments(dir);
    const path = join(dir, name!);
    const offsets = recordOffsets(dir, name!);
    const victim = offsets[5]!; // an entry record with valid records after it
    const bytes = readFileSync(path);
    bytes[victim + 10] ^= 0xff;
    writeFileSync(path, bytes);
    const err = await WriteAheadLog.open(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WalCorruptError);
    expect((err as WalCorruptError).file).toBe(name);
    expect((err as WalCorruptError).offset).toBe(victim);
    expect((err as WalCorruptError).message).toContain(`${name} at byte ${victim}`);
    // The file was not modified by the failed open.
    expect(readFileSync(path).equals(bytes)).toBe(true);
  });

  it('a corrupt record in an earlier segment refuses to open', async () => {
    const dir = tempDir();
    const wal = await WriteAheadLog.open(dir, { segmentBytes: 512 });
    await appendSyncedOneByOne(wal, 1, 60);
    await wal.close();
    const names = segments(dir);
    expect(names.length).toBeGreaterThan(2);
    const first = join(dir, names[0]!);
    const bytes = readFileSync(first);
    bytes[bytes.length - 1] ^= 0x01; // the last record of a non-last segment
    writeFileSync(first, bytes);
    const err = await WriteAheadLog.open(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WalCorruptError);
    expect((err as WalCorruptError).file).toBe(names[0]);
  });

  it('a bad segment header is corruption', async () => {
    const dir = tempDir();
    const wal = await WriteAheadLog.open(dir);
    wal.append(range(1, 3));
    await wal.close();
    const [name] = segments(dir);
    const path = join(dir, name!);
    const bytes = readFileSync(path);
    bytes[0] = 0x41;
    writeFileSync(path, bytes);
    await expect(WriteAheadLog.open(dir)).rejects.toThrow(/bad magic/);
  });

  it('a missing segment in the middle is corruption', async () => {
    const dir = tempDir();
    const wal = await WriteAheadLog.open(dir, { segmentBytes: 256 });
    for (let i = 1; i <= 30; i++) {
      wal.append([entry(i, 1, 'z'.repeat(40))]);
      await wal.sync();
    }
    await wal.close();
    const names = segments(dir);
    expect(names.length).toBeGreaterThan(3);
    rmSync(join(dir, names[1]!));
    const err = await WriteAheadLog.open(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WalCorruptError);
    expect((err as Error).message).toContain(`segment ${names[1]} is missing`);
  });
});
