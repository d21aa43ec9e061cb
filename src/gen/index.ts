/** `platesearch gen` as a library: re-exports only. */
export { generateReads, type GeneratedRead, type MisreadTruth } from './reads.js';
export { ReadGenerator, type ReadChunk } from './generator.js';
export { type PlantKind, type PlantRef, type PlantedTruth } from './plants.js';
export { resolveOptions, parseStart, defaultVehicles, defaultPlants, kDefaultStart, kDefaultTenants, type GenOptions } from './options.js';
export { writeDataset, kTruthVersion, type WriteOptions, type WriteSummary } from './ndjson-writer.js';
export { kMisreadKinds, kOtherConfusions, type MisreadKind } from './ocr-errors.js';
