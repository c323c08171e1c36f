// A person's biometric data controls (docs/privacy.md): their consent as recorded, a form to
// record a new decision (withdrawal erases), and erasure with its receipt. Erasing asks for a
// second click: it cannot be undone.
import { useState, type FormEvent } from 'react';
import { post, put } from '../../api/client';
import type { ConsentAnswer, ErasureReceipt, Person } from '../../api/types';
import { ErrorNotice, useAction } from '../../components/common';

type Status = Person['consent']['status'];
type Scope = ErasureReceipt['scope'];

function Receipt({ receipt }: { receipt: ErasureReceipt }) {
  const r = receipt.removed;
  return (
    <div className="receipt" role="status" aria-label="Erasure receipt">
      <strong>Erased ({receipt.scope})</strong> at {new Date(receipt.at).toLocaleString()}:{' '}
      <span>
        {r.face_crops} face crops, {r.embeddings} embeddings, {r.files} files, {r.cluster_faces} cluster memberships
        removed.
      </span>
    </div>
  );
}

export function PrivacyPanel({ person, onChanged }: { person: Person; onChanged: () => Promise<void> }) {
  const [status, setStatus] = useState<Status>(person.consent.status);
  const [by, setBy] = useState('');
  const [basis, setBasis] = useState('');
  const [scope, setScope] = useState<Scope>('biometric');
  const [confirming, setConfirming] = useState(false);
  const [receipt, setReceipt] = useState<ErasureReceipt>();
  const action = useAction();
  const c = person.consent;

  const saveConsent = (e: FormEvent) => {
    e.preventDefault();
    void action.run(async () => {
      const answer = await put<ConsentAnswer>(`persons/${person.id}/consent/`, {
        status,
        ...(by && { by }),
        ...(basis && { basis }),
      });
      if (answer.erasure) setReceipt(answer.erasure);
      await onChanged();
    });
  };

  const erase = () =>
    void action.run(async () => {
      setReceipt(await post<ErasureReceipt>(`persons/${person.id}/erase/`, { scope }));
      setConfirming(false);
      await onChanged();
    });

  return (
    <>
      <h2>Consent</h2>
      <p className="hint" aria-label="Consent on record">
        <strong className={`consent consent-${c.status}`}>{c.status}</strong>
        {c.at ? ` · recorded ${new Date(c.at).toLocaleString()}` : ' · never recorded'}
        {c.by ? ` by ${c.by}` : ''}
        {c.basis ? ` · basis: ${c.basis}` : ''}
      </p>
      <form className="inline-form" onSubmit={saveConsent} aria-label="Record consent">
        <label>
          Consent
          <select aria-label="Consent status" value={status} onChange={(e) => setStatus(e.target.value as Status)}>
            <option value="granted">granted</option>
            <option value="withdrawn">withdrawn (erases their faces)</option>
            <option value="unknown">unknown</option>
          </select>
        </label>
        <label>
          Given by
          <input value={by} onChange={(e) => setBy(e.target.value)} placeholder="e.g. guardian" maxLength={256} />
        </label>
        <label>
          Basis
          <input
            value={basis}
            onChange={(e) => setBasis(e.target.value)}
            placeholder="e.g. form 2026-17"
            maxLength={1024}
          />
        </label>
        <button type="submit" disabled={action.busy}>
          Save consent
        </button>
      </form>
      <h2>Erase biometric data</h2>
      <p className="hint">
        Removes every face, embedding and file of this person; attendance records stay. “Also the name” replaces their
        name, external id and metadata by a pseudonym everywhere.
      </p>
      <div className="inline-form">
        <label>
          Scope
          <select aria-label="Erasure scope" value={scope} onChange={(e) => setScope(e.target.value as Scope)}>
            <option value="biometric">faces only</option>
            <option value="all">also the name</option>
          </select>
        </label>
        {confirming ? (
          <>
            <button type="button" className="danger" disabled={action.busy} onClick={erase}>
              Confirm erase
            </button>
            <button type="button" onClick={() => setConfirming(false)}>
              Cancel
            </button>
          </>
        ) : (
          <button type="button" className="danger" onClick={() => setConfirming(true)}>
            Erase…
          </button>
        )}
      </div>
      <ErrorNotice error={action.error} onDismiss={action.clear} />
      {receipt && <Receipt receipt={receipt} />}
    </>
  );
}
