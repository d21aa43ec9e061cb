export * from './distance.js';
export * from './geo.js';
export * from './search.js';
export * from './wildcard.js';
export * from './convoy.js';
export * from './multisite.js';
export * from './frequent.js';
export * from './cloned.js';
