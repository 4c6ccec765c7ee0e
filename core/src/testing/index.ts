// Test helpers exported for the shells' and simulators' tests.
export { Prng } from './prng.ts';
