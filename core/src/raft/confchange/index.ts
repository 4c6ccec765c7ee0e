export { applyConfChange, checkInvariants, voterDistance } from './confchange.ts';
export { ConfHistory } from './history.ts';
