// One group's roster: members with a remove button, and a search over all persons to add more.
import { useState } from 'react';
import { del, get, getAll, post } from '../api/client';
import type { Group, Person } from '../api/types';
import { ErrorNotice, Link, useAction, useLoad } from '../components/common';
import { useCan } from '../access';
import { UnknownClusters } from './group/unknown-clusters';

export function GroupPage({ id }: { id: number }) {
  const can = useCan();
  const group = useLoad(() => get<Group>(`groups/${id}/`), [id]);
  const members = useLoad(() => getAll<Person>(`groups/${id}/members/`), [id]);
  const everyone = useLoad(() => getAll<Person>('persons/'), []);
  const [search, setSearch] = useState('');
  const change = useAction();

  const memberIds = new Set((members.data ?? []).map((m) => m.id));
  const needle = search.trim().toLowerCase();
  const candidates = (everyone.data ?? []).filter(
    (p) =>
      !memberIds.has(p.id) &&
      (!needle || p.name.toLowerCase().includes(needle) || (p.external_id ?? '').toLowerCase().includes(needle)),
  );

  const refresh = () => Promise.all([members.reload(), group.reload()]);
  const add = (personId: number) =>
    change.run(async () => {
      await post(`groups/${id}/members/`, { person_ids: [personId] });
      await refresh();
    });
  const remove = (personId: number) =>
    change.run(async () => {
      await del(`groups/${id}/members/${personId}/`);
      await refresh();
    });

  return (
    <section>
      <p>
        <Link to="/groups">← Groups</Link>
      </p>
      <ErrorNotice error={group.error} />
      {group.data && <h1>{group.data.name}</h1>}
      <ErrorNotice error={change.error ?? members.error ?? everyone.error} onDismiss={change.clear} />
      <div className="columns">
        <div>
          <h2>Roster ({members.data?.length ?? 0})</h2>
          <ul className="roster" aria-label="Roster">
            {(members.data ?? []).map((m) => (
              <li key={m.id}>
                <Link to={`/persons/${m.id}`}>{m.name}</Link>
                {can.write && (
                  <button
                    type="button"
                    className="small"
                    disabled={change.busy}
                    onClick={() => void remove(m.id)}
                    aria-label={`Remove ${m.name} from the roster`}
                  >
                    Remove
                  </button>
                )}
              </li>
            ))}
            {members.data?.length === 0 && <li className="hint">Nobody on the roster yet.</li>}
          </ul>
        </div>
        {can.write && (
          <div>
            <h2>Add persons</h2>
            <label>
              Search persons
              <input
                type="search"
                value={search}
                onChange={(e) => setSearch(e.target.value)}
                placeholder="name or id"
              />
            </label>
            <ul className="roster" aria-label="Persons not on the roster">
              {candidates.slice(0, 50).map((p) => (
                <li key={p.id}>
                  <span>
                    {p.name} {p.external_id && <span className="hint">({p.external_id})</span>}
                  </span>
                  <button
                    type="button"
                    className="small"
                    disabled={change.busy}
                    onClick={() => void add(p.id)}
                    aria-label={`Add ${p.name} to the roster`}
                  >
                    Add
                  </button>
                </li>
              ))}
              {everyone.data && candidates.length === 0 && <li className="hint">No one else matches.</li>}
            </ul>
            <p className="hint">
              New people are created on the <Link to="/persons">persons page</Link>.
            </p>
          </div>
        )}
      </div>
      <UnknownClusters groupId={id} members={members.data ?? []} onChanged={refresh} />
    </section>
  );
}
