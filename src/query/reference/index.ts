export * from './distance.js';
export * from './geo.js';
export * from './search.js';
export * from './wildcard.js';
