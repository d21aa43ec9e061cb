/**
 * Labelled controls. Every control has a visible <label for=…> (its accessible name is exactly the label:
 * tests and screen readers rely on the names "Plate", "From", "To", …).
 */
import type { ComponentChildren } from 'preact';
import type { Signal } from '@preact/signals';

let nextId = 0;
function uid(label: string): string {
  return `f-${label.toLowerCase().replace(/[^a-z0-9]+/g, '-')}-${++nextId}`;
}

interface TextProps {
  label: string;
  value: Signal<string>;
  type?: 'text' | 'password' | 'datetime-local' | 'number';
  placeholder?: string;
  hint?: string;
  required?: boolean;
  disabled?: boolean;
  inputMode?: 'numeric' | 'text';
  autoComplete?: string;
}

export function TextField(p: TextProps) {
  const id = uid(p.label);
  return (
    <div class="field">
      <label for={id}>{p.label}</label>
      <input
        id={id} type={(p.type ?? 'text') as 'text'} value={p.value.value} placeholder={p.placeholder} required={p.required}
        disabled={p.disabled} inputMode={p.inputMode} autoComplete={p.autoComplete ?? 'off'}
        aria-describedby={p.hint ? `${id}-hint` : undefined}
        onInput={(e) => (p.value.value = (e.target as HTMLInputElement).value)}
      />
      {p.hint && <small id={`${id}-hint`}>{p.hint}</small>}
    </div>
  );
}

export function CheckField(p: { label: string; value: Signal<boolean>; disabled?: boolean }) {
  const id = uid(p.label);
  return (
    <div class="field check">
      <input id={id} type="checkbox" checked={p.value.value} disabled={p.disabled}
        onChange={(e) => (p.value.value = (e.target as HTMLInputElement).checked)} />
      <label for={id}>{p.label}</label>
    </div>
  );
}

export function SelectField(p: { label: string; value: Signal<string>; options: Array<[string, string]>; disabled?: boolean }) {
  const id = uid(p.label);
  return (
    <div class="field">
      <label for={id}>{p.label}</label>
      <select id={id} value={p.value.value} disabled={p.disabled} onChange={(e) => (p.value.value = (e.target as HTMLSelectElement).value)}>
        {p.options.map(([v, text]) => <option value={v}>{text}</option>)}
      </select>
    </div>
  );
}

export function Fieldset(p: { legend: string; children: ComponentChildren }) {
  return (
    <fieldset>
      <legend>{p.legend}</legend>
      {p.children}
    </fieldset>
  );
}

/** A status line: errors in role=alert (announced), other news in role=status. */
export function Status(p: { error?: string | null; info?: string | null }) {
  if (p.error) return <p class="status error" role="alert">{p.error}</p>;
  if (p.info) return <p class="status" role="status">{p.info}</p>;
  return null;
}
