// The quality of each face cut from a class photo, measured on the stored crop's pixels.
import { poseFromLandmarks, UNKNOWN_QUALITY, type FaceQuality } from '../domain/face-quality.js';
import type { Box, FivePoints, Point } from '../domain/face.js';
import { alignedSharpness } from '../detect/face-sharpness.js';
import type { CutFace } from '../image/crop.js';
import { decodeImage } from '../image/decode.js';

export async function measureFaceQuality(
  crop: CutFace,
  face: { box: Box; landmarks: readonly Point[] },
): Promise<FaceQuality> {
  if (face.landmarks.length !== 5) return { ...UNKNOWN_QUALITY, widthPx: round(face.box[2]) };
  const [left, top] = crop.region;
  const local = face.landmarks.map(([x, y]) => [x - left, y - top] as Point);
  const { image } = await decodeImage(crop.data);
  const { yaw, roll } = poseFromLandmarks(local as FivePoints);
  return {
    widthPx: round(face.box[2]),
    sharpness: round(alignedSharpness(image, local)),
    yaw: round(yaw),
    roll: round(roll),
  };
}

const round = (v: number) => Math.round(v * 10) / 10;
