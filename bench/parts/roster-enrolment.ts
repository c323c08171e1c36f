// A class roster enrolled as a user would: a person per member over HTTP, one photo each sent
// whole to persons/{id}/faces/. A photo with two plausible faces is refused (422, the boxes in
// details.faces) until the request names the face: the benchmark names the labelled one and
// counts it. Any other refusal (no face, the quality gate) moves on to the member's next photo.
// The face the service enrolled is checked against the labelled face.
import { readFile } from 'node:fs/promises';
import { iou, type Box } from './class-scene.js';
import { call, json, postImage, type App } from './in-process-app.js';
import type { RoomSource } from './room-scene.js';

export interface EnrolStats {
  /** Members enrolled, and photos sent. */
  enrolled: number;
  photosSent: number;
  /** Photos refused as ambiguous (the refusal lists the faces), and those then enrolled by naming the labelled face. */
  ambiguous: number;
  named: number;
  /** Refusals by error type (and reason, when the answer gives one). */
  refused: Record<string, number>;
  /** Enrolments whose stored face is not the labelled one (IoU < 0.5 with it). */
  otherFace: number;
  /** People dropped: no photo enrolled, or too few photos with their labelled face found. */
  dropped: number;
}

export const emptyEnrolStats = (): EnrolStats => ({
  enrolled: 0,
  photosSent: 0,
  ambiguous: 0,
  named: 0,
  refused: {},
  otherFace: 0,
  dropped: 0,
});

export interface EnrolledMember {
  identity: string;
  personId: number;
  /** Photos left for class (never the enrolled one). */
  classPhotos: RoomSource[];
}

interface ErrorBody {
  error?: { type?: string; details?: { faces?: unknown; reason?: unknown } };
}

/** The index in the refusal's list of the box that is the labelled face (best overlap). */
export function namedFaceIndex(boxes: readonly (readonly number[])[], labelled: Box): number {
  let best = -1;
  let bestO = 0;
  boxes.forEach((b, i) => {
    const o = iou(labelled, b);
    if (o > bestO) [best, bestO] = [i, o];
  });
  return best;
}

const faceBoxes = (body: ErrorBody): number[][] | undefined => {
  const faces = body.error?.details?.faces;
  if (!Array.isArray(faces)) return undefined;
  return faces.map((f) => (Array.isArray(f) ? f : ((f as { box?: number[] }).box ?? [])) as number[]);
};

/**
 * Enrols one member from `sources` (their photos with the labelled face found, in trying order),
 * keeping at least `keep` photos for class. Undefined (person deleted) when none enrols.
 */
export async function enrolMember(
  app: App,
  identity: string,
  externalId: string,
  sources: readonly RoomSource[],
  keep: number,
  stats: EnrolStats,
): Promise<EnrolledMember | undefined> {
  if (sources.length < keep + 1) {
    stats.dropped++;
    return undefined;
  }
  const person = await json<{ id: number }>(app, 'POST', '/api/attendance/persons/', {
    name: identity,
    external_id: externalId,
  });
  const url = `/api/attendance/persons/${person.id}/faces/`;
  for (let i = 0; sources.length - i - 1 >= keep; i++) {
    const source = sources[i]!;
    const bytes = await readFile(source.file);
    stats.photosSent++;
    let res = await postImage(app, url, bytes);
    // The refusal's status is the service's to choose (422 by the contract); its list of faces decides.
    const boxes = res.status >= 400 && res.status < 500 ? faceBoxes(res.body as ErrorBody) : undefined;
    if (boxes) {
      stats.ambiguous++;
      const index = namedFaceIndex(boxes, source.face);
      if (index >= 0) {
        res = await postImage(app, url, bytes, { face_index: String(index) });
        if (res.status === 201) stats.named++;
      }
    }
    if (res.status === 201) {
      stats.enrolled++;
      const box = (res.body as { box?: number[] | null }).box;
      if (!box || iou(box, source.face) < 0.5) {
        stats.otherFace++;
        process.stderr.write(`enrolled another face: ${identity} from ${source.file}: ${JSON.stringify(box)}\n`);
      }
      return { identity, personId: person.id, classPhotos: sources.filter((_, j) => j !== i) };
    }
    const err = (res.body as ErrorBody).error;
    const reason = typeof err?.details?.reason === 'string' ? `: ${err.details.reason}` : '';
    const key = `${err?.type ?? res.status}${reason}`;
    stats.refused[key] = (stats.refused[key] ?? 0) + 1;
  }
  const gone = await call(app, 'DELETE', `/api/attendance/persons/${person.id}/`);
  if (gone.status !== 204) throw new Error(`DELETE person ${person.id}: ${gone.status}`);
  stats.dropped++;
  return undefined;
}
