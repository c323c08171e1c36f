// Which face of an enrolment photo is enrolled. The photo's principal face (domain/principal-face.ts)
// when it is the only plausible one; with two or more plausible faces the photo is refused unless
// the request names one, by its index into the refusal's list or by a box. Nothing here stores.
import type { Box, DetectedFace } from '../domain/face.js';
import { faceAtBox, plausibleFaces, type ImageSize } from '../domain/principal-face.js';
import { UnprocessableError, ValidationError } from '../errors.js';

/** How a request names a face of its photo; neither: the principal face. */
export interface FaceChoice {
  /** Index into the plausible faces, principal first (the list a refusal answers in details.faces). */
  faceIndex?: number;
  /** The face best overlapping this box (IoU >= NAMED_BOX_MIN_IOU). */
  box?: Box;
}

export interface ChosenFace {
  face: DetectedFace;
  /** Faces the detector saw in the photo. */
  facesSeen: number;
  /** The face's index among the plausible faces; null for a face named by box that is not one of them. */
  faceIndex: number | null;
}

const boxes = (faces: readonly DetectedFace[]) => faces.map((f) => f.box.map((v) => Math.round(v * 10) / 10) as Box);

/**
 * The face to enrol among `faces` (at least one): UnprocessableError (422) for an ambiguous photo,
 * ValidationError for a named face that is not there.
 */
export function chooseEnrolmentFace(faces: readonly DetectedFace[], image: ImageSize, choice: FaceChoice): ChosenFace {
  if (choice.faceIndex !== undefined && choice.box !== undefined)
    throw new ValidationError('Name the face by face_index or by box, not both');
  const plausible = plausibleFaces(faces, image);
  const facesSeen = faces.length;
  if (choice.box !== undefined) {
    const at = faceAtBox(faces, choice.box);
    if (at < 0)
      throw new ValidationError(`No face of the photo overlaps box ${choice.box.join(',')} (IoU >= 0.5)`, {
        box: choice.box,
        faces: boxes(plausible),
      });
    const face = faces[at]!;
    const index = plausible.indexOf(face);
    return { face, facesSeen, faceIndex: index < 0 ? null : index };
  }
  if (choice.faceIndex !== undefined) {
    const face = plausible[choice.faceIndex];
    if (!face)
      throw new ValidationError(
        `face_index ${choice.faceIndex} is not one of the photo's ${plausible.length} plausible face(s)`,
        { face_index: choice.faceIndex, faces: boxes(plausible) },
      );
    return { face, facesSeen, faceIndex: choice.faceIndex };
  }
  if (plausible.length > 1)
    throw new UnprocessableError(
      `The photo holds ${plausible.length} plausible faces: name the one to enrol with face_index or box`,
      { reason: 'several_faces', count: plausible.length, faces: boxes(plausible) },
    );
  return { face: plausible[0]!, facesSeen, faceIndex: 0 };
}

/** A `box` form field: "x,y,w,h" in pixels of the oriented photo, width and height positive. */
export function parseBox(text: string): Box {
  const parts = text.split(',').map((p) => p.trim());
  const values = parts.map(Number);
  if (
    parts.length !== 4 ||
    parts.some((p) => p === '') ||
    values.some((v) => !Number.isFinite(v)) ||
    values[2]! <= 0 ||
    values[3]! <= 0
  )
    throw new ValidationError('Field "box" must be x,y,w,h (numbers, width and height > 0)', { field: 'box' });
  return values as Box;
}
