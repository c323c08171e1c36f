// Face geometry shared by detection, alignment, the worker and the API. Pixel coordinates are
// in the original image after EXIF orientation.

/** [x, y, width, height] */
export type Box = [number, number, number, number];
export type Point = [number, number];

/** Five points in this order: right eye, left eye (image left to right), nose, mouth left, mouth right. */
export type FivePoints = [Point, Point, Point, Point, Point];

export interface DetectedFace {
  box: Box;
  score: number;
  landmarks: Point[];
}

export type DetectMode = 'auto' | 'enforce' | 'skip';

/** What an embedding records about the face it came from. */
export interface FaceInfo {
  detected: boolean;
  score?: number;
  box?: Box;
  landmarks?: Point[];
  /** Faces the detector saw in the image (domain/principal-face.ts chose among them). */
  facesSeen?: number;
  /** The used face's place among them, ranked principal first (0: the principal face). */
  faceIndex?: number;
}
