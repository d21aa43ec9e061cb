/** Times as the API wants them (ISO-8601 with a zone) from `<input type="datetime-local">` (local time). */
export function localInputToIso(value: string): string | undefined {
  if (!value) return undefined;
  const ms = new Date(value).getTime();
  return Number.isFinite(ms) ? new Date(ms).toISOString() : undefined;
}

export function formatTime(iso: string): string {
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** Comma- or space-separated list input → list, or undefined when empty (the API refuses empty lists). */
export function listInput(value: string): string[] | undefined {
  const items = value.split(/[,\n]/).map((s) => s.trim()).filter(Boolean);
  return items.length === 0 ? undefined : items;
}
