// Every automatic decision and manual change of the session, newest first.
import { getAll } from '../../api/client';
import type { AuditEvent } from '../../api/types';
import { ErrorNotice, useLoad } from '../../components/common';

const brief = (value: unknown): string => {
  if (value === null || value === undefined) return '';
  if (typeof value !== 'object') return String(value);
  return Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== null && v !== undefined)
    .map(([k, v]) => `${k}: ${typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(3) : String(v)}`)
    .join(', ');
};

export function AuditTrail({ sessionId, epoch }: { sessionId: number; epoch: number }) {
  const events = useLoad(() => getAll<AuditEvent>(`audit/?session_id=${sessionId}`), [sessionId, epoch]);
  const rows = [...(events.data ?? [])].reverse();
  return (
    <details className="audit" open>
      <summary>
        <h2>Audit trail ({rows.length})</h2>
      </summary>
      <ErrorNotice error={events.error} />
      <div className="table-scroll">
        <table className="list">
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Who</th>
              <th scope="col">Action</th>
              <th scope="col">Person</th>
              <th scope="col">Face</th>
              <th scope="col">Before</th>
              <th scope="col">After</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((e, i) => (
              <tr key={i}>
                <td>{new Date(e.at).toLocaleString()}</td>
                <td>{e.actor}</td>
                <td>{e.action}</td>
                <td>{e.person_id ?? ''}</td>
                <td>{e.face_crop_id ?? ''}</td>
                <td>{brief(e.before)}</td>
                <td>{brief(e.after)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </details>
  );
}
