export { Inflights } from './inflights.ts';
export { Progress, ProgressState } from './progress.ts';
export { ProgressTracker, type TrackerConfig } from './tracker.ts';
