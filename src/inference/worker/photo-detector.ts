// Whole-photo face detection in the worker: RetinaFace MobileNet-0.25 over overlapping 640x640
// windows of a small pyramid of the photo (detect/photo-scan.ts plans it and merges the result).
// Each face comes with the network's own five landmarks, in the photo's pixels.
import type { DetectedFace } from '../../domain/face.js';
import { InternalError } from '../../errors.js';
import { nonMaxSuppression } from '../../detect/blazeface-decode.js';
import {
  DEFAULT_MERGE,
  DEFAULT_SCAN,
  mergeCandidates,
  planScan,
  toPhoto,
  type ScanCandidate,
  type ScanOptions,
  type ScanWindow,
} from '../../detect/photo-scan.js';
import { RETINAFACE_SIZE, decodeRetinaface } from '../../detect/retinaface-decode.js';
import { resizeRgb, type RgbImage } from '../../image/decode.js';
import { prepareSource } from '../../models/prepare.js';
import { OnnxSession } from './session.js';

/** Probed on large photos (NOTES): 0.5 let a wall clock and other clutter through. */
export const PHOTO_MIN_SCORE = 0.7;

export interface PhotoScanTimings {
  /** Building the pyramid levels (libvips resizes). */
  pyramid: number;
  /** Windows: input tensors, network, decoding. */
  windows: number;
  merge: number;
  windowCount: number;
}

export class PhotoDetector {
  private readonly input = new Float32Array(3 * RETINAFACE_SIZE * RETINAFACE_SIZE);

  private constructor(
    private readonly session: OnnxSession,
    readonly version: string,
  ) {}

  static async load(modelsDir: string, threads: number): Promise<PhotoDetector> {
    const file = await prepareSource('retinaface-mnet025', modelsDir);
    const session = await OnnxSession.load(file.path, { threads, spinMicros: 300 }, {});
    const dims = session.inputShape();
    if (dims && (dims[1] !== 3 || dims[2] !== RETINAFACE_SIZE || dims[3] !== RETINAFACE_SIZE)) {
      throw new InternalError(
        `RetinaFace takes [${dims.join(',')}], expected NCHW 3x${RETINAFACE_SIZE}x${RETINAFACE_SIZE}`,
      );
    }
    return new PhotoDetector(session, file.version);
  }

  /** Every face in `photo` (most confident first), in its pixels. */
  async detect(
    photo: RgbImage,
    opts: Partial<ScanOptions> = {},
  ): Promise<{ faces: DetectedFace[]; timings: PhotoScanTimings }> {
    const { candidates, timings } = await this.scan(photo, opts);
    const t = performance.now();
    const faces = mergeCandidates(candidates, photo);
    timings.merge = performance.now() - t;
    return { faces, timings };
  }

  /**
   * The faces of every window, unmerged, in the photo's pixels. With `share`, only the
   * share.index-th of share.of runs of consecutive windows in the plan (all levels, in order): the
   * photo's windows split evenly between processes, neighbours mostly together so that few faces
   * are found by two. `windowOf` holds each candidate's window index.
   */
  async scan(
    photo: RgbImage,
    opts: Partial<ScanOptions> = {},
    share: { index: number; of: number } = { index: 0, of: 1 },
  ): Promise<{ candidates: ScanCandidate[]; windowOf: number[]; timings: PhotoScanTimings }> {
    const scan = { ...DEFAULT_SCAN, ...opts };
    const timings: PhotoScanTimings = { pyramid: 0, windows: 0, merge: 0, windowCount: 0 };
    const candidates: ScanCandidate[] = [];
    const windowOf: number[] = [];
    const plan = planScan(photo.width, photo.height, scan);
    const total = plan.reduce((n, level) => n + level.windows.length, 0);
    const from = Math.floor((total * share.index) / share.of),
      to = Math.floor((total * (share.index + 1)) / share.of);
    let next = 0;
    for (const level of plan) {
      const windows = level.windows
        .map((win) => ({ ...win, index: next++ }))
        .filter((win) => win.index >= from && win.index < to);
      if (windows.length === 0) continue;
      let t = performance.now();
      const image = await resizeRgb(photo, level.width, level.height);
      timings.pyramid += performance.now() - t;
      t = performance.now();
      for (const win of windows) {
        const found = nonMaxSuppression(await this.runWindow(image, win), DEFAULT_MERGE.iouThreshold, Infinity);
        candidates.push(...toPhoto(found, win, level, photo, scan.window));
        windowOf.push(...found.map(() => win.index));
      }
      timings.windows += performance.now() - t;
      timings.windowCount += windows.length;
    }
    return { candidates, windowOf, timings };
  }

  /** Raw RGB 0..255 as NCHW floats (no mean, no std: BGR or normalised input lost faces); black outside the level. */
  private async runWindow(image: RgbImage, win: ScanWindow) {
    const size = RETINAFACE_SIZE,
      plane = size * size;
    const input = this.input;
    input.fill(0);
    const { data, width } = image;
    const rows = Math.min(size, image.height - win.y),
      cols = Math.min(size, width - win.x);
    for (let v = 0; v < rows; v++) {
      let s = ((win.y + v) * width + win.x) * 3;
      let o = v * size;
      for (let u = 0; u < cols; u++, s += 3, o++) {
        input[o] = data[s]!;
        input[o + plane] = data[s + 1]!;
        input[o + 2 * plane] = data[s + 2]!;
      }
    }
    const outputs = await this.session.runAll(input, [1, 3, size, size]);
    return decodeRetinaface(outputs, PHOTO_MIN_SCORE);
  }

  release(): Promise<void> {
    return this.session.release();
  }
}
