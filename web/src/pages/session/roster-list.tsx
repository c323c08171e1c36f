// The roster as present/absent rows: one click (or Space/Enter) flips a member.
import { put } from '../../api/client';
import type { AttendanceRow, Session } from '../../api/types';
import { AuthImage, cropImagePath } from '../../components/auth-image';
import { ErrorNotice, percent, useAction } from '../../components/common';

export function RosterList({ session, onChanged }: { session: Session; onChanged: () => Promise<void> }) {
  const toggle = useAction();
  const closed = session.status === 'closed';
  const flip = (row: AttendanceRow) =>
    toggle.run(async () => {
      if (row.person_id === null) return;
      await put(`sessions/${session.id}/attendance/${row.person_id}/`, {
        status: row.status === 'present' ? 'absent' : 'present',
      });
      await onChanged();
    });
  const rows = [...session.attendance].sort((a, b) => a.name.localeCompare(b.name));
  // A member matched in several photos is one row; the hint says in how many photos.
  const photosOf = (personId: number | null) =>
    session.photos.filter((p) => p.faces.some((f) => f.person_id !== null && f.person_id === personId)).length;

  return (
    <div>
      <h2>Roster</h2>
      <ErrorNotice error={toggle.error} onDismiss={toggle.clear} />
      <ul className="attendance" aria-label="Attendance">
        {rows.map((r) => (
          <li key={r.person_id ?? `gone-${r.name}`} className={r.status} data-person-id={r.person_id ?? undefined}>
            {r.face_crop_id !== null ? (
              <AuthImage path={cropImagePath(r.face_crop_id)} alt={`Face of ${r.name}`} className="mini" />
            ) : (
              <span className="mini placeholder" aria-hidden="true" />
            )}
            <span className="who">
              <span className="name">{r.name}</span>
              <span className="hint">
                {r.source}
                {r.similarity !== null && ` · ${percent(r.similarity)}`}
                {photosOf(r.person_id) > 1 && ` · in ${photosOf(r.person_id)} photos`}
              </span>
            </span>
            <button
              type="button"
              className={`toggle ${r.status}`}
              aria-pressed={r.status === 'present'}
              aria-label={`${r.name}: ${r.status}. Mark ${r.status === 'present' ? 'absent' : 'present'}`}
              disabled={closed || toggle.busy || r.person_id === null}
              onClick={() => void flip(r)}
            >
              {r.status === 'present' ? 'Present' : 'Absent'}
            </button>
          </li>
        ))}
        {rows.length === 0 && <li className="hint">The group's roster is empty.</li>}
      </ul>
    </div>
  );
}
