// Persons: the list (filterable) and a form to create one.
import { useState, type FormEvent } from 'react';
import { getAll, post } from '../api/client';
import type { Person } from '../api/types';
import { ErrorNotice, Link, useAction, useLoad } from '../components/common';
import { EnrolmentBadge } from '../components/enrolment-strength';
import { navigate } from '../router';

export function PersonsPage() {
  const persons = useLoad(() => getAll<Person>('persons/'), []);
  const [filter, setFilter] = useState('');
  const [name, setName] = useState('');
  const [externalId, setExternalId] = useState('');
  const create = useAction();

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    let created: Person | undefined;
    const ok = await create.run(async () => {
      created = await post<Person>('persons/', {
        name: name.trim(),
        ...(externalId.trim() && { external_id: externalId.trim() }),
      });
    });
    if (ok && created) navigate(`/persons/${created.id}`);
  };

  const needle = filter.trim().toLowerCase();
  const shown = (persons.data ?? []).filter(
    (p) => !needle || p.name.toLowerCase().includes(needle) || (p.external_id ?? '').toLowerCase().includes(needle),
  );

  return (
    <section>
      <h1>Persons</h1>
      <form className="card inline-form" onSubmit={submit} aria-label="New person">
        <h2>New person</h2>
        <label>
          Name
          <input required value={name} onChange={(e) => setName(e.target.value)} />
        </label>
        <label>
          External id <span className="hint">(optional, unique)</span>
          <input value={externalId} onChange={(e) => setExternalId(e.target.value)} />
        </label>
        <button type="submit" disabled={create.busy || !name.trim()}>
          Create person
        </button>
        <ErrorNotice error={create.error} onDismiss={create.clear} />
      </form>

      <div className="toolbar">
        <label>
          Search persons
          <input type="search" value={filter} onChange={(e) => setFilter(e.target.value)} placeholder="name or id" />
        </label>
        <span className="hint" aria-live="polite">
          {persons.data ? `${shown.length} of ${persons.data.length}` : ''}
        </span>
      </div>
      <ErrorNotice error={persons.error} />
      <table className="list">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">External id</th>
            <th scope="col">Enrolled faces</th>
            <th scope="col">Enrolment</th>
          </tr>
        </thead>
        <tbody>
          {shown.map((p) => (
            <tr key={p.id}>
              <td>
                <Link to={`/persons/${p.id}`}>{p.name}</Link>
              </td>
              <td>{p.external_id ?? ''}</td>
              <td>{p.face_count}</td>
              <td>
                <EnrolmentBadge person={p} />
              </td>
            </tr>
          ))}
          {persons.data && shown.length === 0 && (
            <tr>
              <td colSpan={4} className="hint">
                No persons yet.
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </section>
  );
}
