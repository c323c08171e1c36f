// Faces no roster member matched: each can be assigned to a member (marking them present),
// optionally adding the face to their enrolment gallery.
import { useState } from 'react';
import { post } from '../../api/client';
import type { Session, UnknownFace } from '../../api/types';
import { AuthImage, cropImagePath } from '../../components/auth-image';
import { ErrorNotice, useAction } from '../../components/common';
import { useCan } from '../../access';

function UnknownCard({
  session,
  face,
  onChanged,
}: {
  session: Session;
  face: UnknownFace;
  onChanged: () => Promise<void>;
}) {
  const [personId, setPersonId] = useState('');
  const [enrol, setEnrol] = useState(false);
  const assign = useAction();
  // A read-only key sees the session as it would a closed one: nothing to change.
  const closed = session.status === 'closed' || !useCan().write;
  const idBase = `unknown-${face.face_crop_id}`;
  const submit = () =>
    assign.run(async () => {
      await post(`sessions/${session.id}/faces/${face.face_crop_id}/assign/`, { person_id: Number(personId), enrol });
      await onChanged();
    });
  const members = session.attendance.filter((m) => m.person_id !== null).sort((a, b) => a.name.localeCompare(b.name));
  return (
    <li className="face-card" data-face-crop-id={face.face_crop_id}>
      <AuthImage path={cropImagePath(face.face_crop_id)} alt={`Unknown face ${face.face_crop_id}`} className="thumb" />
      <label htmlFor={`${idBase}-person`}>Who is this?</label>
      <select id={`${idBase}-person`} value={personId} onChange={(e) => setPersonId(e.target.value)} disabled={closed}>
        <option value="">Choose…</option>
        {members.map((m) => (
          <option key={m.person_id} value={m.person_id ?? ''}>
            {m.name}
            {m.status === 'present' ? ' (present)' : ''}
          </option>
        ))}
      </select>
      <label className="check">
        <input type="checkbox" checked={enrol} onChange={(e) => setEnrol(e.target.checked)} disabled={closed} /> also
        enrol this face
      </label>
      <button type="button" disabled={!personId || assign.busy || closed} onClick={() => void submit()}>
        Assign
      </button>
      <ErrorNotice error={assign.error} onDismiss={assign.clear} />
    </li>
  );
}

export function UnknownFaces({ session, onChanged }: { session: Session; onChanged: () => Promise<void> }) {
  return (
    <div>
      <h2>Unknown faces ({session.unknown_faces.length})</h2>
      <ul className="face-grid" aria-label="Unknown faces">
        {session.unknown_faces.map((f) => (
          <UnknownCard key={f.face_crop_id} session={session} face={f} onChanged={onChanged} />
        ))}
        {session.unknown_faces.length === 0 && <li className="hint">No unknown faces.</li>}
      </ul>
    </div>
  );
}
