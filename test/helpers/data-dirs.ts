/** Data dirs for the tests of one file, each removed with its default key store (`D.keys`) after them all. */
import { rm } from 'node:fs/promises';
import { afterAll } from 'vitest';
import { makeDataDir } from './server.js';

/** Registers the clean-up (call at the top level of a test file); returns the maker of a fresh data dir. */
export function dataDirsRemovedAfterAll(): () => Promise<string> {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) {
      await rm(d, { recursive: true, force: true });
      await rm(`${d}.keys`, { recursive: true, force: true });
    }
  });
  return async () => {
    const d = await makeDataDir();
    dirs.push(d);
    return d;
  };
}
