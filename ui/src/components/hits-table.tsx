/**
 * The results grid: a real <table> (column headers Plate, Time, Camera, Tenant, …), sortable by clicking a
 * header (a button, so the keyboard sorts too; `aria-sort` tells screen readers). Sorting reorders the page
 * shown; paging follows the server's order (distance, time descending, id).
 */
import { useSignal } from '@preact/signals';
import type { Hit } from '../hit';
import { formatTime } from '../time';

type Column = { key: keyof Hit; label: string; render?: (h: Hit) => string | number };

const kColumns: Column[] = [
  { key: 'plate', label: 'Plate' },
  { key: 'ts', label: 'Time', render: (h) => formatTime(h.ts) },
  { key: 'camera', label: 'Camera' },
  { key: 'tenant', label: 'Tenant' },
  { key: 'region', label: 'Region' },
  { key: 'make', label: 'Make' },
  { key: 'color', label: 'Color' },
  { key: 'distance', label: 'Distance' },
];

// rows put in the DOM at once: a 10,000-hit page as 80,000 cells would make every style recalculation (and so
// every map pan beside it) slow; "Show more rows" adds the next slice
const kRowSlice = 200;

export function HitsTable(p: { hits: Hit[]; caption: string; onOpen?: (h: Hit) => void }) {
  const sortKey = useSignal<keyof Hit | null>(null);
  const desc = useSignal(false);
  const shown = useSignal(kRowSlice);
  let rows = p.hits;
  if (sortKey.value) {
    const k = sortKey.value;
    const dir = desc.value ? -1 : 1;
    rows = [...rows].sort((a, b) => {
      const x = a[k] ?? '';
      const y = b[k] ?? '';
      return (x < y ? -1 : x > y ? 1 : 0) * dir;
    });
  }
  const sortBy = (k: keyof Hit) => {
    if (sortKey.value === k) desc.value = !desc.value;
    else {
      sortKey.value = k;
      desc.value = k === 'ts';
    }
  };
  return (
    <div class="table-wrap">
      <table class="hits">
        <caption>{p.caption}</caption>
        <thead>
          <tr>
            {kColumns.map((c) => (
              <th scope="col" aria-sort={sortKey.value === c.key ? (desc.value ? 'descending' : 'ascending') : 'none'}>
                <button type="button" class="sort" onClick={() => sortBy(c.key)} title={`Sort by ${c.label}`}>
                  {c.label}
                  <span aria-hidden="true">{sortKey.value === c.key ? (desc.value ? ' ▼' : ' ▲') : ''}</span>
                </button>
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.slice(0, shown.value).map((h) => (
            <tr key={h.id}>
              {kColumns.map((c, i) => (
                <td>
                  {i === 0 && p.onOpen
                    ? <button type="button" class="link" onClick={() => p.onOpen!(h)} aria-label={`Open vehicle ${h.plate}`}>{h.plate}</button>
                    : String(c.render ? c.render(h) : h[c.key] ?? '')}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      {rows.length > shown.value && (
        <p class="buttons">
          <span>{shown.value.toLocaleString('en-US')} of {rows.length.toLocaleString('en-US')} rows of this page shown</span>
          <button type="button" onClick={() => (shown.value += kRowSlice * 5)}>Show more rows</button>
        </p>
      )}
    </div>
  );
}
