// Test support shared by core and the shells: in-memory adapters and contract suites.
export { MemoryKvStorage } from './memory-kv-storage.ts';
export {
  type StorageHarness,
  type ContractTestApi,
  type StorageContractCase,
  kvStorageContractCases,
  runKvStorageContract,
} from './kv-storage-contract.ts';
