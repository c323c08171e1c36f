// Matches to confirm, listed before everything else: each flagged face beside the person's
// enrolment face, with one click to confirm (the match becomes a manual decision) or reject
// (the person is marked absent by hand and the face goes back to the unknown ones).
import { get, post, put } from '../../api/client';
import type { FaceCrop, Page, PhotoFace, Session } from '../../api/types';
import { AuthImage, cropImagePath } from '../../components/auth-image';
import { ErrorNotice, useAction, useLoad } from '../../components/common';

function ReviewCard({
  session,
  face,
  onChanged,
}: {
  session: Session;
  face: PhotoFace;
  onChanged: () => Promise<void>;
}) {
  const personId = face.person_id!;
  const name = session.attendance.find((r) => r.person_id === personId)?.name ?? `Person ${personId}`;
  const enrolled = useLoad(() => get<Page<FaceCrop>>(`persons/${personId}/faces/?page_size=1`), [personId]);
  const action = useAction();
  const closed = session.status === 'closed';
  const confirm = () =>
    action.run(async () => {
      await post(`sessions/${session.id}/faces/${face.face_crop_id}/assign/`, { person_id: personId });
      await onChanged();
    });
  const reject = () =>
    action.run(async () => {
      await put(`sessions/${session.id}/attendance/${personId}/`, { status: 'absent', note: 'rejected in review' });
      await onChanged();
    });
  const enrolFace = enrolled.data?.results[0];
  // Rejecting is a status by hand for the whole session: say so when other photos show them.
  const elsewhere = session.photos
    .flatMap((p) => p.faces)
    .filter((f) => f.person_id === personId && f.face_crop_id !== face.face_crop_id).length;
  return (
    <li className="review-card" data-face-crop-id={face.face_crop_id}>
      <div className="side-by-side">
        <figure>
          <AuthImage
            path={cropImagePath(face.face_crop_id)}
            alt={`Face ${face.face_crop_id} in the photo`}
            className="thumb"
          />
          <figcaption>In the photo{face.width_px !== null && ` · ${Math.round(face.width_px)} px`}</figcaption>
        </figure>
        <figure>
          {enrolFace ? (
            <AuthImage path={cropImagePath(enrolFace.id)} alt={`${name}'s enrolment face`} className="thumb" />
          ) : (
            <span className="thumb-missing thumb">no enrolment face</span>
          )}
          <figcaption>{name}</figcaption>
        </figure>
      </div>
      <p className="hint">
        similarity {face.similarity?.toFixed(3)}
        {elsewhere > 0 && ` · "Not ${name}" marks ${name} absent, though seen in ${elsewhere} other face(s)`}
      </p>
      <div className="actions">
        <button type="button" disabled={action.busy || closed} onClick={() => void confirm()}>
          Confirm {name}
        </button>
        <button type="button" className="danger" disabled={action.busy || closed} onClick={() => void reject()}>
          Not {name}
        </button>
      </div>
      <ErrorNotice error={action.error} onDismiss={action.clear} />
    </li>
  );
}

export function ReviewFaces({ session, onChanged }: { session: Session; onChanged: () => Promise<void> }) {
  const faces = session.photos.flatMap((p) => p.faces).filter((f) => f.status === 'review' && f.person_id !== null);
  if (faces.length === 0) return null;
  return (
    <div className="review">
      <h2>To confirm ({faces.length})</h2>
      <ul className="review-grid" aria-label="Matches to confirm">
        {faces.map((f) => (
          <ReviewCard key={f.face_crop_id} session={session} face={f} onChanged={onChanged} />
        ))}
      </ul>
    </div>
  );
}
