/**
 * Hot-list management (dispatcher, admin): the tenant's lists (`GET /v1/hotlists`), a new list from a CSV
 * upload (columns plate, note), editing a list's entries, and deleting a list. A list is replaced whole
 * (`PUT /v1/hotlists/{name}`), as the API defines.
 */
import { signal, useSignal } from '@preact/signals';
import { useEffect } from 'preact/hooks';
import { call, describeError } from '../api';
import { CheckField, SelectField, Status, TextField } from '../components/field';
import { hotlistEntries } from '../csv';

interface ListInfo { name: string; match: string; maxEdits?: number; ocr: boolean; count: number; updated: string }
interface Entry { plate: string; note: string }
interface ListBody { name: string; match: string; maxEdits?: number; ocr?: boolean; entries: Entry[] }

const lists = signal<ListInfo[]>([]);
const editing = signal<ListBody | null>(null);
const error = signal<string | null>(null);
const info = signal<string | null>(null);

async function refresh(): Promise<void> {
  try {
    lists.value = (await call<{ hotlists: ListInfo[] }>('GET', '/v1/hotlists')).hotlists;
  } catch (err) {
    error.value = describeError(err);
  }
}

async function save(list: ListBody): Promise<void> {
  const body: Record<string, unknown> = { entries: list.entries, match: list.match };
  if (list.match === 'fuzzy') body.maxEdits = list.maxEdits ?? 1;
  if (list.ocr) body.ocr = true;
  await call('PUT', `/v1/hotlists/${encodeURIComponent(list.name)}`, { body });
}

function CreateForm() {
  const name = useSignal('');
  const match = useSignal('exact');
  const maxEdits = useSignal('1');
  const ocr = useSignal(false);
  const entries = useSignal<Entry[]>([]);
  const fileId = 'hotlist-csv';
  return (
    <form class="card" onSubmit={async (e) => {
      e.preventDefault();
      error.value = null;
      if (entries.value.length === 0) {
        error.value = 'Choose a CSV file with at least one plate.';
        return;
      }
      try {
        await save({ name: name.value.trim(), match: match.value, maxEdits: Number(maxEdits.value), ocr: ocr.value, entries: entries.value });
        info.value = `Hot list ${name.value.trim()} saved with ${entries.value.length} entries.`;
        await refresh();
      } catch (err) {
        error.value = describeError(err);
      }
    }}>
      <h2>New hot list from CSV</h2>
      <TextField label="List name" value={name} required placeholder="stolen-vehicles" />
      <div class="field">
        <label for={fileId}>CSV file</label>
        <input id={fileId} type="file" accept=".csv,text/csv" aria-describedby={`${fileId}-hint`} onChange={async (e) => {
          const file = (e.target as HTMLInputElement).files?.[0];
          entries.value = file ? hotlistEntries(await file.text()) : [];
        }} />
        <small id={`${fileId}-hint`}>Columns: plate, note (a header row is optional). {entries.value.length > 0 && `${entries.value.length} entries read.`}</small>
      </div>
      <SelectField label="List match" value={match} options={[['exact', 'Exact'], ['fuzzy', 'Fuzzy']]} />
      <SelectField label="List max edits" value={maxEdits} disabled={match.value !== 'fuzzy'} options={[['0', '0'], ['1', '1'], ['2', '2']]} />
      <CheckField label="List OCR confusions" value={ocr} />
      <button type="submit" class="primary">Create hot list</button>
    </form>
  );
}

function Editor({ list }: { list: ListBody }) {
  const plate = useSignal('');
  const note = useSignal('');
  const update = (entries: Entry[]) => (editing.value = { ...list, entries });
  return (
    <section class="card" aria-label={`Entries of ${list.name}`}>
      <h2>Entries of {list.name}</h2>
      <table>
        <caption>{list.entries.length} entries</caption>
        <thead><tr><th scope="col">Plate</th><th scope="col">Note</th><th scope="col">Remove</th></tr></thead>
        <tbody>
          {list.entries.slice(0, 500).map((e, i) => (
            <tr key={`${e.plate}-${i}`}>
              <td>{e.plate}</td>
              <td>
                <label class="sr-only" for={`note-${i}`}>Note of {e.plate}</label>
                <input id={`note-${i}`} value={e.note} onInput={(ev) => update(list.entries.map((x, j) => (j === i ? { ...x, note: (ev.target as HTMLInputElement).value } : x)))} />
              </td>
              <td><button type="button" onClick={() => update(list.entries.filter((_, j) => j !== i))}>Remove<span class="sr-only"> {e.plate}</span></button></td>
            </tr>
          ))}
        </tbody>
      </table>
      {list.entries.length > 500 && <p>Showing the first 500 entries; upload a CSV to replace a large list.</p>}
      <form class="inline" onSubmit={(e) => {
        e.preventDefault();
        if (!plate.value.trim()) return;
        update([...list.entries, { plate: plate.value.trim(), note: note.value.trim() }]);
        plate.value = '';
        note.value = '';
      }}>
        <TextField label="New entry plate" value={plate} />
        <TextField label="New entry note" value={note} />
        <button type="submit">Add entry</button>
      </form>
      <div class="buttons">
        <button type="button" class="primary" onClick={async () => {
          try {
            await save(list);
            info.value = `Hot list ${list.name} saved (${list.entries.length} entries).`;
            editing.value = null;
            await refresh();
          } catch (err) {
            error.value = describeError(err);
          }
        }}>Save list</button>
        <button type="button" onClick={() => (editing.value = null)}>Close</button>
      </div>
    </section>
  );
}

export function HotlistsPage() {
  useEffect(() => {
    void refresh();
  }, []);
  return (
    <div class="page hotlists-page">
      <h1>Hot lists</h1>
      <Status error={error.value} info={info.value} />
      <table>
        <caption>Hot lists of your agency</caption>
        <thead><tr><th scope="col">Name</th><th scope="col">Match</th><th scope="col">Entries</th><th scope="col">Updated</th><th scope="col">Actions</th></tr></thead>
        <tbody>
          {lists.value.map((l) => (
            <tr key={l.name}>
              <td>{l.name}</td>
              <td>{l.match}{l.match === 'fuzzy' ? ` ≤ ${l.maxEdits}` : ''}{l.ocr ? ', OCR' : ''}</td>
              <td>{l.count}</td>
              <td>{l.updated}</td>
              <td class="buttons">
                <button type="button" onClick={async () => {
                  try {
                    const got = await call<ListBody>('GET', `/v1/hotlists/${encodeURIComponent(l.name)}`);
                    editing.value = { ...got, name: l.name, entries: got.entries.map((x) => ({ plate: x.plate, note: x.note ?? '' })) };
                  } catch (err) {
                    error.value = describeError(err);
                  }
                }}>Edit<span class="sr-only"> {l.name}</span></button>
                <button type="button" class="danger" onClick={async () => {
                  if (!confirm(`Delete hot list ${l.name}?`)) return;
                  try {
                    await call('DELETE', `/v1/hotlists/${encodeURIComponent(l.name)}`);
                    info.value = `Hot list ${l.name} deleted.`;
                    await refresh();
                  } catch (err) {
                    error.value = describeError(err);
                  }
                }}>Delete<span class="sr-only"> {l.name}</span></button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {editing.value && <Editor list={editing.value} />}
      <CreateForm />
    </div>
  );
}
