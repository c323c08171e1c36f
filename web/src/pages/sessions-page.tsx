// Attendance sessions: start one for a group, or open an earlier one.
import { useState, type FormEvent } from 'react';
import { getAll, post } from '../api/client';
import type { Group, SessionSummary } from '../api/types';
import { ErrorNotice, Link, useAction, useLoad } from '../components/common';
import { useCan } from '../access';
import { navigate } from '../router';

export function SessionsPage() {
  const can = useCan();
  const groups = useLoad(() => getAll<Group>('groups/'), []);
  const sessions = useLoad(() => getAll<SessionSummary>('sessions/'), []);
  const [groupId, setGroupId] = useState('');
  const [name, setName] = useState('');
  const create = useAction();
  const groupName = new Map((groups.data ?? []).map((g) => [g.id, g.name]));

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    let created: SessionSummary | undefined;
    const ok = await create.run(async () => {
      created = await post<SessionSummary>('sessions/', {
        group_id: Number(groupId),
        ...(name.trim() && { name: name.trim() }),
      });
    });
    if (ok && created) navigate(`/sessions/${created.id}`);
  };

  return (
    <section>
      <h1>Attendance sessions</h1>
      {can.write && (
        <form className="card inline-form" onSubmit={submit} aria-label="New session">
          <h2>Take attendance</h2>
          <label>
            Group
            <select required value={groupId} onChange={(e) => setGroupId(e.target.value)}>
              <option value="">Choose a group…</option>
              {(groups.data ?? []).map((g) => (
                <option key={g.id} value={g.id}>
                  {g.name} ({g.member_count})
                </option>
              ))}
            </select>
          </label>
          <label>
            Session name <span className="hint">(optional)</span>
            <input value={name} onChange={(e) => setName(e.target.value)} placeholder="e.g. Monday 1st period" />
          </label>
          <button type="submit" disabled={create.busy || !groupId}>
            Start session
          </button>
          <ErrorNotice error={create.error ?? groups.error} onDismiss={create.clear} />
          {groups.data?.length === 0 && (
            <p className="hint">
              No groups yet: <Link to="/groups">create a group</Link> and add persons to it first.
            </p>
          )}
        </form>
      )}
      <ErrorNotice error={sessions.error} />
      <table className="list">
        <thead>
          <tr>
            <th scope="col">Session</th>
            <th scope="col">Group</th>
            <th scope="col">Status</th>
          </tr>
        </thead>
        <tbody>
          {(sessions.data ?? [])
            .slice()
            .reverse()
            .map((s) => (
              <tr key={s.id}>
                <td>
                  <Link to={`/sessions/${s.id}`}>{s.name || `Session ${s.id}`}</Link>
                </td>
                <td>{groupName.get(s.group_id) ?? `#${s.group_id}`}</td>
                <td>
                  <span className={`badge ${s.status}`}>{s.status}</span>
                </td>
              </tr>
            ))}
          {sessions.data?.length === 0 && (
            <tr>
              <td colSpan={3} className="hint">
                No sessions yet.
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </section>
  );
}
