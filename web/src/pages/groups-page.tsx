// Groups (class rosters): the list and a form to create one.
import { useState, type FormEvent } from 'react';
import { getAll, post } from '../api/client';
import type { Group } from '../api/types';
import { ErrorNotice, Link, useAction, useLoad } from '../components/common';
import { navigate } from '../router';
import { useCan } from '../access';

export function GroupsPage() {
  const can = useCan();
  const groups = useLoad(() => getAll<Group>('groups/'), []);
  const [name, setName] = useState('');
  const create = useAction();

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    let created: Group | undefined;
    const ok = await create.run(async () => {
      created = await post<Group>('groups/', { name: name.trim() });
    });
    if (ok && created) navigate(`/groups/${created.id}`);
  };

  return (
    <section>
      <h1>Groups</h1>
      {can.admin && (
        <form className="card inline-form" onSubmit={submit} aria-label="New group">
          <h2>New group</h2>
          <label>
            Name
            <input required value={name} onChange={(e) => setName(e.target.value)} placeholder="e.g. Class 4B" />
          </label>
          <button type="submit" disabled={create.busy || !name.trim()}>
            Create group
          </button>
          <ErrorNotice error={create.error} onDismiss={create.clear} />
        </form>
      )}
      <ErrorNotice error={groups.error} />
      <table className="list">
        <thead>
          <tr>
            <th scope="col">Group</th>
            <th scope="col">Members</th>
          </tr>
        </thead>
        <tbody>
          {(groups.data ?? []).map((g) => (
            <tr key={g.id}>
              <td>
                <Link to={`/groups/${g.id}`}>{g.name}</Link>
              </td>
              <td>{g.member_count}</td>
            </tr>
          ))}
          {groups.data?.length === 0 && (
            <tr>
              <td colSpan={2} className="hint">
                No groups yet.
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </section>
  );
}
