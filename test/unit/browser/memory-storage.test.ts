// The memory StorageAdapter against the adapter contract.
import { MemoryStorage } from '../../../browser/src/storage/memory-storage.ts';
import { storageAdapterContract } from '../../support/storage-adapter-contract.ts';

storageAdapterContract('memory', async () => ({ adapter: new MemoryStorage() }));
