// One person: rename, enrol photos (drag and drop, several at once), their enrolled faces
// with a remove button each, their consent and the erasure of their biometric data. A photo
// refused for holding several people offers each of their faces to choose from; a weak enrolment
// says what would make it better.
import { useState } from 'react';
import { ApiError, del, get, getAll, upload } from '../api/client';
import type { FaceCrop, Person } from '../api/types';
import { AuthImage, cropImagePath } from '../components/auth-image';
import { ErrorNotice, Link, useAction, useLoad } from '../components/common';
import { useCan } from '../access';
import { DropZone } from '../components/drop-zone';
import { EnrolmentBadge } from '../components/enrolment-strength';
import { PrivacyPanel } from './person/privacy-panel';

interface Enrolment {
  name: string;
  progress: number;
  error?: unknown;
  /** The photo, kept while the server asks which of its faces is this person's. */
  file?: File;
  /** The boxes of its plausible faces (details.faces of the refusal), left to right as listed. */
  faces?: [number, number, number, number][];
}

/** The faces of a photo refused for holding several plausible ones. */
const ambiguousFaces = (error: unknown) =>
  error instanceof ApiError && error.details?.['reason'] === 'several_faces'
    ? (error.details['faces'] as [number, number, number, number][])
    : undefined;

export function PersonPage({ id }: { id: number }) {
  const person = useLoad(() => get<Person>(`persons/${id}/`), [id]);
  const faces = useLoad(() => getAll<FaceCrop>(`persons/${id}/faces/`), [id]);
  const [enrolments, setEnrolments] = useState<Enrolment[]>([]);
  const remove = useAction();
  const can = useCan();

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
        const choices = ambiguousFaces(error);
        patchAt(i, { error, ...(choices && { file, faces: choices }) });
      }
    }
    await Promise.all([faces.reload(), person.reload()]);
  };

  /** Enrols face `faceIndex` of a photo that was refused as ambiguous. */
  const choose = async (at: number, faceIndex: number) => {
    const e = enrolments[at];
    if (!e?.file) return;
    const patch = (change: Partial<Enrolment>) =>
      setEnrolments((list) => list.map((x, j) => (j === at ? { ...x, ...change } : x)));
    patch({ error: undefined, faces: undefined, progress: 0 });
    try {
      await upload(`persons/${id}/faces/`, { image: e.file, face_index: String(faceIndex) }, (progress) =>
        patch({ progress }),
      );
      patch({ file: undefined });
    } catch (error) {
      patch({ error });
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
            {person.data.face_count} enrolled {person.data.face_count === 1 ? 'face' : 'faces'}{' '}
            <EnrolmentBadge person={person.data} />
          </p>
          {person.data.enrolment?.strength === 'weak' && (
            <p className="hint" role="note">
              This person's enrolment is weak. Add two or more clear, frontal photos (face at least as wide as a
              passport photo's) so they are recognised reliably.
            </p>
          )}
        </>
      )}
      <h2>Enrol photos</h2>
      <p className="hint">
        Each photo's principal face is enrolled (a photo of several people asks which one). Several photos of one person
        improve recognition; small, blurred or turned faces are refused with the reason.
      </p>
      {can.write ? (
        <DropZone label="Choose photos" onFiles={(files) => void enrol(files)} />
      ) : (
        <p className="hint">This key may only read.</p>
      )}
      {enrolments.length > 0 && (
        <ul className="uploads" aria-label="Enrolment uploads">
          {enrolments.map((e, i) => (
            <li key={i}>
              <span>{e.name}</span>
              {e.faces ? (
                <span role="group" aria-label={`Faces in ${e.name}`}>
                  {e.faces.length} people in this photo: which one is {person.data?.name ?? 'this person'}?{' '}
                  {e.faces.map((box, k) => (
                    <button
                      key={k}
                      type="button"
                      className="small"
                      onClick={() => void choose(i, k)}
                      title={`Face at x ${Math.round(box[0])}, y ${Math.round(box[1])}, ${Math.round(box[2])} px wide`}
                    >
                      Face {k + 1} (x {Math.round(box[0])})
                    </button>
                  ))}
                </span>
              ) : e.error ? (
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
            {can.write && (
              <button
                type="button"
                className="danger small"
                disabled={remove.busy}
                onClick={() => void unenrol(f.id)}
                aria-label={`Remove enrolled face ${f.id}`}
              >
                Remove
              </button>
            )}
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
