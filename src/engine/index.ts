/**
 * The engine library: what the server and the CLI open. HTTP stays out of it.
 */
import type { Engine, EngineOptions } from './engine.js';
import { StoreEngine } from './store-engine.js';

export type { AppendResult, DropResult, Engine, EngineOptions, EngineStats } from './engine.js';

/** Opens (creating if needed) the engine over `options.dataDir`, recovering every tenant's log. */
export async function openEngine(options: EngineOptions): Promise<Engine> {
  return StoreEngine.open(options);
}
