// One person: rename, enrol photos (drag and drop, several at once), their enrolled faces
// with a remove button each, their consent and the erasure of their biometric data.
import { useState } from 'react';
import { del, get, getAll, upload } from '../api/client';
import type { FaceCrop, Person } from '../api/types';
import { AuthImage, cropImagePath } from '../components/auth-image';
import { ErrorNotice, Link, useAction, useLoad } from '../components/common';
import { DropZone } from '../components/drop-zone';
import { PrivacyPanel } from './person/privacy-panel';

interface Enrolment {
  name: string;
  progress: number;
  error?: unknown;
}

export function PersonPage({ id }: { id: number }) {
  const person = useLoad(() => get<Person>(`persons/${id}/`), [id]);
  const faces = useLoad(() => getAll<FaceCrop>(`persons/${id}/faces/`), [id]);
  const [enrolments, setEnrolments] = useState<Enrolment[]>([]);
  const remove = useAction();

  const enrol = async (files: File[]) => {
    const start = enrolments.length;
    setEnrolments((list) => [...list, ...files.map((f) => ({ name: f.name, progress: 0 }))]);
    const patchAt = (i: number, change: Partial<Enrolment>) =>
      setEnrolments((list) => list.map((e, j) => (j === start + i ? { ...e, ...change } : e)));
    // One at a time: each photo is a detection on the server's worker pool.
    for (const [i, file] of files.entries()) {
      try {
        await upload(`persons/${id}/faces/`, { image: file }, (progress) => patchAt(i, { progress }));
      } catch (error) {
        patchAt(i, { error });
      }
    }
    await Promise.all([faces.reload(), person.reload()]);
  };

  const unenrol = (faceCropId: number) =>
    remove.run(async () => {
      await del(`persons/${id}/faces/${faceCropId}/`);
      await Promise.all([faces.reload(), person.reload()]);
    });

  return (
    <section>
      <p>
        <Link to="/persons">← Persons</Link>
      </p>
      <ErrorNotice error={person.error} />
      {person.data && (
        <>
          <h1>{person.data.name}</h1>
          <p className="hint">
            {person.data.external_id ? `External id ${person.data.external_id} · ` : ''}
            {person.data.face_count} enrolled {person.data.face_count === 1 ? 'face' : 'faces'}
          </p>
        </>
      )}
      <h2>Enrol photos</h2>
      <p className="hint">Each photo's largest face is enrolled. Several photos of one person improve recognition.</p>
      <DropZone label="Choose photos" onFiles={(files) => void enrol(files)} />
      {enrolments.length > 0 && (
        <ul className="uploads" aria-label="Enrolment uploads">
          {enrolments.map((e, i) => (
            <li key={i}>
              <span>{e.name}</span>
              {e.error ? (
                <ErrorNotice error={e.error} />
              ) : (
                <progress max={1} value={e.progress} aria-label={`Upload of ${e.name}`} />
              )}
            </li>
          ))}
        </ul>
      )}
      <h2>Enrolled faces</h2>
      <ErrorNotice error={faces.error ?? remove.error} />
      <ul className="face-grid" aria-label="Enrolled faces">
        {(faces.data ?? []).map((f) => (
          <li key={f.id} className="face-card">
            <AuthImage path={cropImagePath(f.id)} alt={`Enrolled face ${f.id}`} className="thumb" />
            <button
              type="button"
              className="danger small"
              disabled={remove.busy}
              onClick={() => void unenrol(f.id)}
              aria-label={`Remove enrolled face ${f.id}`}
            >
              Remove
            </button>
          </li>
        ))}
        {faces.data?.length === 0 && <li className="hint">No faces enrolled yet.</li>}
      </ul>
      {person.data && (
        <PrivacyPanel
          person={person.data}
          onChanged={() => Promise.all([faces.reload(), person.reload()]).then(() => undefined)}
        />
      )}
    </section>
  );
}
