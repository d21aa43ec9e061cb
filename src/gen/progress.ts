/**
 * A progress bar on stderr, drawn only when stderr is a terminal (never into a pipe or a log file).
 * Redrawn at most every kRedrawMs so that drawing costs nothing next to generating.
 */
const kRedrawMs = 200;
const kBarWidth = 30;

/** Digits grouped by thin commas without Intl, so the output is the same under every locale. */
export function groupDigits(n: number): string {
  const s = String(Math.trunc(n));
  return s.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

export class ProgressBar {
  private readonly enabled: boolean;
  private readonly startedAt = performance.now();
  private lastDraw = 0;

  constructor(
    private readonly total: number,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {
    this.enabled = stream.isTTY === true;
  }

  update(done: number): void {
    if (!this.enabled) return;
    const now = performance.now();
    if (now - this.lastDraw < kRedrawMs && done < this.total) return;
    this.lastDraw = now;
    const f = this.total === 0 ? 1 : done / this.total;
    const filled = Math.round(f * kBarWidth);
    const rate = done / Math.max(1e-3, (now - this.startedAt) / 1000);
    const line = `[${'#'.repeat(filled)}${'-'.repeat(kBarWidth - filled)}] ${(f * 100).toFixed(1).padStart(5)}% ` +
      `${groupDigits(done)}/${groupDigits(this.total)} reads, ${groupDigits(rate)} reads/s`;
    this.stream.write(`\r${line}\x1b[K`);
  }

  finish(): void {
    if (this.enabled) this.stream.write('\n');
  }
}
