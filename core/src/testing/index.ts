// Test support shared by core and the shells: in-memory adapters, contract suites, state describers.
export { MemoryKvStorage } from './memory-kv-storage.ts';
export {
  type StorageHarness,
  type ContractTestApi,
  type StorageContractCase,
  kvStorageContractCases,
  runKvStorageContract,
} from './kv-storage-contract.ts';
export { describeCrdt, describeContext, describeStore } from './describe-crdt.ts';
