/**
 * Hits over time: an SVG bar chart of the page's hits in up to 48 equal buckets between the first and the
 * last hit, with a text summary for screen readers. (No inline style: colours come from the stylesheet.)
 */
import { formatTime } from '../time';

const kBuckets = 48;

export function Histogram(p: { times: string[]; label: string }) {
  if (p.times.length === 0) return null;
  const ms = p.times.map((t) => Date.parse(t));
  const min = Math.min(...ms);
  const max = Math.max(...ms);
  const span = Math.max(max - min, 1);
  const counts = new Array<number>(kBuckets).fill(0);
  for (const t of ms) counts[Math.min(kBuckets - 1, Math.floor(((t - min) / span) * kBuckets))]!++;
  const top = Math.max(...counts);
  const w = 480;
  const h = 80;
  const bw = w / kBuckets;
  return (
    <figure class="histogram">
      <svg viewBox={`0 0 ${w} ${h + 2}`} role="img" aria-label={`${p.label}: ${p.times.length} hits from ${formatTime(new Date(min).toISOString())} to ${formatTime(new Date(max).toISOString())}`}>
        {counts.map((c, i) => c > 0 && (
          <rect class="bar" x={i * bw + 0.5} width={bw - 1} y={h - (c / top) * h} height={(c / top) * h}>
            <title>{`${c} hits from ${formatTime(new Date(min + (i * span) / kBuckets).toISOString())}`}</title>
          </rect>
        ))}
        <line class="axis" x1="0" x2={w} y1={h + 1} y2={h + 1} />
      </svg>
      <figcaption>{p.label}: {formatTime(new Date(min).toISOString())} – {formatTime(new Date(max).toISOString())}</figcaption>
    </figure>
  );
}
