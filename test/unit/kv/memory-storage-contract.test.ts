import { describe, it } from 'vitest';
import { MemoryKvStorage } from '../../../core/src/testing/memory-kv-storage.ts';
import { runKvStorageContract } from '../../../core/src/testing/kv-storage-contract.ts';

runKvStorageContract({ describe, it }, 'memory', { open: () => new MemoryKvStorage() });
