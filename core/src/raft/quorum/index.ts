export { type AckedIndexer, VoteResult, majorityCommittedIndex, majorityVoteResult, majoritySize } from './majority.ts';
