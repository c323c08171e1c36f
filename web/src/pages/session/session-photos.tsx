// Class photos of a session: upload (several at once, each with its progress bar and then its
// job's state: queued, running, done) and every photo with its faces boxed and named.
import { useEffect, useRef, useState } from 'react';
import { getBlob } from '../../api/client';
import type { PhotoFace, PhotoResult, Session, UploadedPhoto } from '../../api/types';
import { ErrorNotice } from '../../components/common';
import { DropZone } from '../../components/drop-zone';
import { PhotoFaces, type ShownFace } from '../../components/photo-faces';
import { photoDone, queuePhoto, type PhotoState } from './photo-job';

interface PhotoUpload {
  name: string;
  progress: number;
  state: PhotoState;
  error?: unknown;
}

const STATE_TEXT: Record<Exclude<PhotoState, 'uploading'>, string> = {
  queued: 'queued',
  running: 'finding faces…',
  done: 'done',
};

/** A photo to draw: as the session lists it, or as an upload in this tab answered. */
type ShownPhoto = Pick<PhotoResult, 'photo_id' | 'width' | 'height' | 'faces'>;

/** What a face is now: the attendance rows and unknown list are the truth after manual fixes. */
function shown(session: Session, faces: PhotoFace[]): ShownFace[] {
  const byCrop = new Map(session.attendance.filter((r) => r.face_crop_id !== null).map((r) => [r.face_crop_id!, r]));
  const unknown = new Set(session.unknown_faces.map((u) => u.face_crop_id));
  const names = new Map(session.attendance.map((r) => [r.person_id, r.name]));
  return faces.map((f) => {
    const row = byCrop.get(f.face_crop_id);
    if (row)
      return {
        faceCropId: f.face_crop_id,
        box: f.box,
        status: 'matched',
        name: row.name,
        similarity: row.similarity ?? f.similarity,
      };
    if (unknown.has(f.face_crop_id) || f.person_id === null)
      return { faceCropId: f.face_crop_id, box: f.box, status: 'unknown', name: null, similarity: f.similarity };
    return {
      faceCropId: f.face_crop_id,
      box: f.box,
      status: f.status,
      name: names.get(f.person_id) ?? null,
      similarity: f.similarity,
    };
  });
}

/** A stored photo's image, fetched with the API key. */
function useStoredPhoto(sessionId: number, photoId: number, skip: boolean): string | undefined {
  const [url, setUrl] = useState<string>();
  useEffect(() => {
    if (skip) return;
    let objectUrl: string | undefined;
    let live = true;
    getBlob(`sessions/${sessionId}/photos/${photoId}/image`)
      .then((blob) => {
        if (live) setUrl((objectUrl = URL.createObjectURL(blob)));
      })
      .catch(() => undefined);
    return () => {
      live = false;
      if (objectUrl) URL.revokeObjectURL(objectUrl);
    };
  }, [sessionId, photoId, skip]);
  return url;
}

function StoredPhoto({ session, photo, local }: { session: Session; photo: ShownPhoto; local?: UploadedPhoto }) {
  const stored = useStoredPhoto(session.id, photo.photo_id, Boolean(local));
  // The session's listing is the truth (a later photo or a fix by hand may change a face's
  // answer); an upload's own answer only stands in until the listing has the photo.
  const faces = photo.faces;
  return (
    <PhotoFaces
      src={local?.previewUrl ?? stored}
      width={photo.width}
      height={photo.height}
      faces={shown(session, faces)}
      title={`Class photo ${photo.photo_id} with ${faces.length} faces`}
    />
  );
}

export function SessionPhotos({
  session,
  uploaded,
  onUploaded,
}: {
  session: Session;
  uploaded: UploadedPhoto[];
  onUploaded: (photo: UploadedPhoto) => void;
}) {
  const [uploads, setUploads] = useState<PhotoUpload[]>([]);
  const closed = session.status === 'closed';
  // Polling stops when the page goes.
  const leaving = useRef(new AbortController());
  useEffect(() => {
    const controller = new AbortController();
    leaving.current = controller;
    return () => controller.abort();
  }, []);

  /** Waits for a queued photo's faces, then shows them as any upload's. */
  const follow = async (jobId: number, file: File, patch: (change: Partial<PhotoUpload>) => void) => {
    try {
      const res = await photoDone(jobId, (state) => patch({ state }), leaving.current.signal);
      onUploaded({
        photoId: res.photo_id,
        width: res.width,
        height: res.height,
        faces: res.faces,
        previewUrl: URL.createObjectURL(file),
      });
      patch({ state: 'done' });
    } catch (error) {
      patch({ error });
    }
  };

  // Files go up one after the other (each is answered once stored); their jobs run side by side.
  const send = async (files: File[]) => {
    const start = uploads.length;
    setUploads((list) => [...list, ...files.map((f) => ({ name: f.name, progress: 0, state: 'uploading' as const }))]);
    const jobs: Promise<void>[] = [];
    for (const [i, file] of files.entries()) {
      const patch = (change: Partial<PhotoUpload>) =>
        setUploads((list) => list.map((u, j) => (j === start + i ? { ...u, ...change } : u)));
      try {
        const job = await queuePhoto(session.id, file, (progress) => patch({ progress }));
        patch({ state: 'queued' });
        jobs.push(follow(job.job_id, file, patch));
      } catch (error) {
        patch({ error });
      }
    }
    await Promise.all(jobs);
  };

  // Photos the server lists, plus any uploaded here that the listing does not have yet.
  const listed = new Set(session.photos.map((p) => p.photo_id));
  const photos: ShownPhoto[] = [
    ...session.photos,
    ...uploaded
      .filter((u) => !listed.has(u.photoId))
      .map((u) => ({ photo_id: u.photoId, width: u.width, height: u.height, faces: u.faces })),
  ];
  const local = new Map(uploaded.map((u) => [u.photoId, u]));

  return (
    <div className="photos">
      <h2>Class photos</h2>
      {!closed && <DropZone label="Upload class photos" onFiles={(files) => void send(files)} />}
      {uploads.length > 0 && (
        <ul className="uploads" aria-label="Photo uploads">
          {uploads.map((u, i) => (
            <li key={i} data-state={u.error ? 'failed' : u.state}>
              <span>{u.name}</span>
              {u.error ? (
                <ErrorNotice error={u.error} />
              ) : (
                <>
                  <progress max={1} value={u.progress} aria-label={`Upload of ${u.name}`} />
                  <span className="hint photo-state">
                    {u.state === 'uploading' ? `${Math.round(u.progress * 100)}%` : STATE_TEXT[u.state]}
                  </span>
                </>
              )}
            </li>
          ))}
        </ul>
      )}
      {photos.length === 0 && (
        <p className="hint">No photo yet: upload one and every face in it is matched to the roster.</p>
      )}
      {photos.map((p) => (
        <StoredPhoto key={p.photo_id} session={session} photo={p} local={local.get(p.photo_id)} />
      ))}
    </div>
  );
}
