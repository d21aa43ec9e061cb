/** The page shown, from `location.hash` (`#/search`, `#/vehicle/7ABC123`, `#/analytics/convoy`, …). */
import { signal } from '@preact/signals';

export const route = signal(parse(location.hash));

function parse(hash: string): string[] {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean).map((p) => decodeURIComponent(p));
  return parts.length === 0 ? [] : parts;
}

addEventListener('hashchange', () => {
  route.value = parse(location.hash);
});

export function go(...parts: string[]): void {
  location.hash = '#/' + parts.map(encodeURIComponent).join('/');
}
