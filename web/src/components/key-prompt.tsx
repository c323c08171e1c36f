// Shown when the API answers 401: the key is kept in sessionStorage, for this tab only.
import { useState, type FormEvent } from 'react';
import { apiKey } from '../api/client';

export function KeyPrompt({ onDone }: { onDone: () => void }) {
  const [value, setValue] = useState('');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!value.trim()) return;
    apiKey.set(value.trim());
    onDone();
  };
  return (
    <div className="overlay" role="dialog" aria-modal="true" aria-labelledby="key-title">
      <form className="card key-prompt" onSubmit={submit}>
        <h2 id="key-title">API key required</h2>
        <p>This server needs an API key. It is kept for this browser tab only.</p>
        <label htmlFor="api-key">API key</label>
        <input
          id="api-key"
          type="password"
          autoComplete="off"
          autoFocus
          value={value}
          onChange={(e) => setValue(e.target.value)}
        />
        <button type="submit">Use key</button>
      </form>
    </div>
  );
}
