// The contract every client StorageAdapter meets: run it against each implementation with
// `storageAdapterContract(name, make)`. `make` returns a fresh adapter; `reopen` (when the
// adapter persists) returns a new adapter over the same data.
import { describe, expect, it } from 'vitest';
import type { StorageAdapter } from '../../browser/src/storage/storage-adapter.ts';

export function storageAdapterContract(name: string, make: () => Promise<{ adapter: StorageAdapter; reopen?: () => Promise<StorageAdapter> }>): void {
  describe(`StorageAdapter contract: ${name}`, () => {
    it('starts empty for an unknown keyspace', async () => {
      const { adapter } = await make();
      const s = await adapter.load('ks');
      expect(s).toEqual({ replicaId: undefined, replica: undefined, cursor: { logId: '', position: 0 }, pending: [] });
      await adapter.close();
    });

    it('keeps the replica id, replica with its cursor, and pending changes per keyspace', async () => {
      const { adapter, reopen } = await make();
      await adapter.saveReplicaId('a', 42);
      await adapter.saveReplica('a', new Uint8Array([1, 2, 3]), { logId: 'log', position: 7 });
      await adapter.appendPending('a', { lsn: 1, bytes: new Uint8Array([9]) });
      await adapter.appendPending('a', { lsn: 2, bytes: new Uint8Array([8]) });
      await adapter.appendPending('a', { lsn: 3, bytes: new Uint8Array([7]) });
      await adapter.dropPendingThrough('a', 2);
      const expected = { replicaId: 42, replica: new Uint8Array([1, 2, 3]), cursor: { logId: 'log', position: 7 }, pending: [{ lsn: 3, bytes: new Uint8Array([7]) }] };
      expect(await adapter.load('a')).toEqual(expected);
      expect((await adapter.load('b')).pending).toEqual([]);
      if (reopen !== undefined) {
        await adapter.close();
        const again = await reopen();
        expect(await again.load('a')).toEqual(expected);
        await again.close();
      } else await adapter.close();
    });

    it('copies buffers in and out', async () => {
      const { adapter } = await make();
      const bytes = new Uint8Array([5, 5]);
      await adapter.saveReplica('a', bytes, { logId: 'x', position: 1 });
      await adapter.appendPending('a', { lsn: 1, bytes });
      bytes[0] = 0;
      const s = await adapter.load('a');
      expect(s.replica).toEqual(new Uint8Array([5, 5]));
      s.pending[0]!.bytes[1] = 0;
      expect((await adapter.load('a')).pending[0]!.bytes).toEqual(new Uint8Array([5, 5]));
      await adapter.close();
    });

    it('refuses a pending change that does not follow the last one, and use after close', async () => {
      const { adapter } = await make();
      await adapter.appendPending('a', { lsn: 4, bytes: new Uint8Array([1]) });
      await expect(adapter.appendPending('a', { lsn: 4, bytes: new Uint8Array([1]) })).rejects.toThrow();
      await adapter.close();
      await expect(adapter.load('a')).rejects.toThrow();
    });
  });
}
