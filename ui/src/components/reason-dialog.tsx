/**
 * The reason prompt: purpose and case, asked once per session before the first search, editable at any time
 * ("Edit reason" in the header), sent with every search and analytics request (API.md: both required).
 */
import { useSignal } from '@preact/signals';
import { useEffect, useRef } from 'preact/hooks';
import { reason, reasonOpen, setReason } from '../session-state';
import { TextField } from './field';

export function ReasonDialog() {
  const purpose = useSignal(reason.value?.purpose ?? '');
  const caseNo = useSignal(reason.value?.case ?? '');
  const error = useSignal('');
  const first = useRef<HTMLFormElement>(null);
  useEffect(() => {
    first.current?.querySelector('input')?.focus();
  }, []);
  const submit = (e: Event) => {
    e.preventDefault();
    if (!purpose.value.trim() || !caseNo.value.trim()) {
      error.value = 'Both a purpose and a case number are required: they are recorded with every search.';
      return;
    }
    setReason({ purpose: purpose.value.trim(), case: caseNo.value.trim() });
    reasonOpen.value = false;
  };
  return (
    <div class="dialog-backdrop">
      <div class="dialog" role="dialog" aria-modal="true" aria-labelledby="reason-title">
      <form ref={first} onSubmit={submit}
        onKeyDown={(e) => {
          if (e.key === 'Escape' && reason.value) reasonOpen.value = false;
        }}>
        <h2 id="reason-title">Reason for searching</h2>
        <p>Every search records why it was made. This reason is sent with each search until you change it.</p>
        <TextField label="Purpose" value={purpose} placeholder="e.g. stolen vehicle investigation" required />
        <TextField label="Case" value={caseNo} placeholder="e.g. 2026-001234" required />
        {error.value && <p class="status error" role="alert">{error.value}</p>}
        <div class="buttons">
          <button type="submit" class="primary">Save reason</button>
          {reason.value && <button type="button" onClick={() => (reasonOpen.value = false)}>Cancel</button>}
        </div>
      </form>
      </div>
    </div>
  );
}
