// Filled by later work; see README.md.
export const packageName = '@neuroplex/server';
