import { describe, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runKvStorageContract } from '../../../core/src/testing/kv-storage-contract.ts';
import type { KvStorage } from '../../../core/src/kv/storage.ts';
import { LmdbKvStorage } from '../../../server/src/storage/lmdb-storage.ts';

const paths = new Map<KvStorage, string>();

runKvStorageContract({ describe, it }, 'lmdb', {
  open() {
    const path = mkdtempSync(join(tmpdir(), 'npx-lmdb-'));
    const s = new LmdbKvStorage({ path });
    paths.set(s, path);
    return s;
  },
  async reopen(s) {
    const path = paths.get(s)!;
    await (s as LmdbKvStorage).close();
    paths.delete(s);
    const t = new LmdbKvStorage({ path });
    paths.set(t, path);
    return t;
  },
  async close(s) {
    await (s as LmdbKvStorage).close();
    rmSync(paths.get(s)!, { recursive: true, force: true });
    paths.delete(s);
  },
});
