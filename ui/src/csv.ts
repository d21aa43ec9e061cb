/** CSV (RFC 4180) for exports of a results page, and a small reader for hot-list uploads. */

function cell(v: unknown): string {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv(columns: readonly string[], rows: ReadonlyArray<Record<string, unknown>>): string {
  const lines = [columns.map(cell).join(',')];
  for (const r of rows) lines.push(columns.map((c) => cell(r[c])).join(','));
  return lines.join('\r\n') + '\r\n';
}

/** Offers text as a download (a blob: URL, no server round trip). */
export function download(name: string, text: string, type = 'text/csv'): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Parses CSV with quotes; returns rows of cells. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(cur);
      cur = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(cur);
      if (row.some((c) => c.trim() !== '')) rows.push(row);
      row = [];
      cur = '';
    } else cur += ch;
  }
  row.push(cur);
  if (row.some((c) => c.trim() !== '')) rows.push(row);
  return rows;
}

/**
 * Hot-list entries from a CSV: columns `plate` and optional `note` (header row optional: a first row whose
 * first cell is "plate" is a header).
 */
export function hotlistEntries(text: string): Array<{ plate: string; note: string }> {
  const rows = parseCsv(text);
  if (rows.length === 0) return [];
  let plateCol = 0;
  let noteCol = 1;
  const head = rows[0]!.map((c) => c.trim().toLowerCase());
  if (head.includes('plate')) {
    plateCol = head.indexOf('plate');
    noteCol = head.indexOf('note');
    rows.shift();
  }
  return rows
    .map((r) => ({ plate: (r[plateCol] ?? '').trim(), note: noteCol >= 0 ? (r[noteCol] ?? '').trim() : '' }))
    .filter((e) => e.plate !== '');
}
