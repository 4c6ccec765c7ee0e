// Test support shared by core and the shells: seeded randomness, in-memory adapters,
// contract suites every adapter must pass, and state describers.
export { Prng } from './prng.ts';
export { MemoryKvStorage } from './memory-kv-storage.ts';
export {
  type StorageHarness,
  type ContractTestApi,
  type StorageContractCase,
  kvStorageContractCases,
  runKvStorageContract,
} from './kv-storage-contract.ts';
export { describeCrdt, describeContext, describeStore } from './describe-crdt.ts';
