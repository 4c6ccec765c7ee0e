// The IndexedDB StorageAdapter against the adapter contract (fake-indexeddb in Node; the
// same adapter runs in real Chromium in e2e/specs).
import 'fake-indexeddb/auto';
import { IndexedDbStorage } from '../../../browser/src/storage/indexeddb-storage.ts';
import { storageAdapterContract } from '../../support/storage-adapter-contract.ts';

let n = 0;

storageAdapterContract('indexeddb', async () => {
  const name = `contract-${++n}`;
  return { adapter: await IndexedDbStorage.open(name), reopen: () => IndexedDbStorage.open(name) };
});
