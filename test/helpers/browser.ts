/**
 * A real browser for the console's tests: Debian's chromium (`apt-get install chromium`; .ci/run installs it)
 * driven by playwright-core, headless, with a fresh profile directory per launch, no network beyond what the
 * page asks for, and no background services. No WebGL is needed (the map is SVG, canvas and DOM).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

export const kChromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Why the browser tests cannot run here, or undefined when they can. */
export function chromiumMissing(): string | undefined {
  if (existsSync(kChromiumPath)) return undefined;
  return `chromium not found at ${kChromiumPath}: the console's browser tests are skipped (apt-get install -y chromium)`;
}

// --disable-quic and the background switches: the browser talks to the test server and nothing else
const kFlags = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

export interface TestBrowser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** Launches chromium on a fresh user-data-dir (passed as Playwright's persistent-context directory). */
export async function launchBrowser(): Promise<TestBrowser> {
  const profile = await mkdtemp(join(tmpdir(), 'platesearch-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: kChromiumPath,
    headless: true,
    args: kFlags,
    viewport: { width: 1400, height: 900 },
    timeout: 60_000,
  });
  return {
    context,
    async close() {
      await context.close().catch(() => {});
      await rm(profile, { recursive: true, force: true });
    },
  };
}
