/** A vehicle's reads on a time line: one tick per read, the cameras named on hover, a text summary. */
import type { Hit } from '../hit';
import { formatTime } from '../time';

export function Timeline(p: { hits: Hit[] }) {
  if (p.hits.length === 0) return null;
  const ms = p.hits.map((h) => Date.parse(h.ts));
  const min = Math.min(...ms);
  const max = Math.max(...ms);
  const span = Math.max(max - min, 1);
  const w = 480;
  return (
    <figure class="timeline">
      <svg viewBox={`0 0 ${w} 40`} role="img" aria-label={`Timeline of ${p.hits.length} reads`}>
        <line class="axis" x1="0" x2={w} y1="20" y2="20" />
        {p.hits.map((h, i) => (
          <circle class="tick" cx={4 + ((ms[i]! - min) / span) * (w - 8)} cy="20" r="4">
            <title>{`${formatTime(h.ts)} at ${h.camera}`}</title>
          </circle>
        ))}
      </svg>
      <figcaption>{formatTime(new Date(min).toISOString())} – {formatTime(new Date(max).toISOString())}</figcaption>
    </figure>
  );
}
