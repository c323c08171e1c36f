// One image -> the embedding model's input chip, timed stage by stage: the principal face found
// and aligned (a tight crop from FaceMesh alone), a face the caller chose, or the whole image
// fitted into the model's square. The 'embed' and 'embedBatch' tasks cut every chip here.
import type { DetectedFace, DetectMode, FaceInfo } from '../../domain/face.js';
import { rankFaces } from '../../domain/principal-face.js';
import { msSince, roundMs } from '../../domain/time.js';
import type { Affine } from '../../detect/alignment.js';
import { rescaleFaces } from '../../detect/rescale.js';
import { NoFaceDetectedError } from '../../errors.js';
import { decodeImage, decodeSquare, type ImageInfo, type RgbImage } from '../../image/decode.js';
import type { ModelSpec } from '../../models/registry.js';
import type { FlipMode, WorkerSettings } from '../protocol.js';
import { wantsFlip, type Chip } from './embed-chip.js';
import { cutChip, type FaceDetector } from './face-detector.js';
import type { Log } from './model-sessions.js';
import { networkMs } from './session.js';

/**
 * Photos are decoded with JPEG shrink-on-load to at most this side: BlazeFace sees 256 px and the
 * chips are 224 px at most, so more pixels only cost decode time (a 1382x1868 JPEG: ~60 ms full).
 */
export const WORKING_MAX_SIDE = 1024;

/** An image's chip, ready for the network, with its stage timings and the ms spent on it so far. */
export interface PreparedChip {
  kind: 'chip';
  imagePath: string;
  chip: Chip;
  face: FaceInfo;
  timings: Record<string, number>;
  ms: number;
}

/** How a chip is asked for: the detect mode, flip-averaging, and the face the caller chose, if any. */
export interface ChipRequest {
  detect: DetectMode;
  flip?: FlipMode;
  face?: DetectedFace;
}

export class ChipPreparer {
  constructor(
    private readonly settings: Pick<WorkerSettings, 'limits' | 'tightCrops'>,
    /** The face detector, loaded on first use ('skip' never loads it). */
    private readonly loadDetector: (log: Log) => Promise<FaceDetector>,
  ) {}

  /** One image's aligned chip, timed from the start of its work. */
  async prepare(imagePath: string, spec: ModelSpec, task: ChipRequest, log: Log): Promise<PreparedChip> {
    const started = performance.now();
    const network0 = networkMs();
    const timings: Record<string, number> = {};
    const chip = task.face
      ? await this.givenFaceChip(imagePath, spec, task.face, timings)
      : await this.faceChip(imagePath, spec, task.detect, timings, log);
    const flip = chip.toSource ? wantsFlip(task.flip ?? 'never', chip.toSource) : false;
    timings.network = networkMs() - network0;
    return {
      kind: 'chip',
      imagePath,
      chip: { pixels: chip.pixels, flip },
      face: chip.face,
      timings,
      ms: msSince(started),
    };
  }

  /**
   * The model's input chip. 'auto': the principal face (domain/principal-face.ts: confidence, size
   * and position together), aligned; with no face the image is
   * taken as an already tight crop. 'enforce': no face is NoFaceDetectedError. 'skip': no detection.
   * A tight crop (one face filling the image) is aligned from FaceMesh alone, BlazeFace skipped
   * (FaceDetector.tightCrop); timings then hold `tightCrop` and no `detect`.
   */
  private async faceChip(
    imagePath: string,
    spec: ModelSpec,
    mode: DetectMode,
    timings: Record<string, number>,
    log: Log,
  ): Promise<{ pixels: Uint8Array; face: FaceInfo; toSource?: Affine }> {
    let t = performance.now();
    const lap = (stage: string) => {
      const now = performance.now();
      timings[stage] = roundMs(now - t);
      t = now;
    };
    if (mode === 'skip') return this.wholeImage(imagePath, spec, timings);
    const detector = await this.loadDetector(log);
    t = performance.now();
    const { image, info } = await decodeImage(imagePath, this.settings.limits, WORKING_MAX_SIDE);
    lap('decode');
    if (this.settings.tightCrops !== false) {
      const crop = await detector.tightCrop(image);
      lap('tightCrop');
      if (crop.face) {
        log(`Tight crop (${crop.reason}): FaceMesh on the whole image, BlazeFace skipped`, {
          tightCrop: true,
          meshPasses: crop.passes,
          imagePath,
        });
        return this.alignChip(image, info, crop.face, spec, lap, { facesSeen: 1, faceIndex: 0 });
      }
      log(`Not a tight crop (${crop.reason}): BlazeFace + FaceMesh`, {
        tightCrop: false,
        meshPasses: crop.passes,
        imagePath,
      });
    }
    const faces = await detector.detect(image);
    lap('detect');
    const face = faces[rankFaces(faces, image)[0] ?? -1];
    if (!face) {
      if (mode === 'enforce') throw new NoFaceDetectedError(`No face detected in ${imagePath}`);
      log('No face detected: using the whole image as a tight crop');
      const whole = await this.wholeImage(imagePath, spec, timings);
      return { ...whole, face: { ...whole.face, facesSeen: 0 } };
    }
    log(`Principal face (score ${face.score.toFixed(3)}, ${faces.length} in image)`);
    return this.alignChip(image, info, face, spec, lap, { facesSeen: faces.length, faceIndex: 0 });
  }

  /** The chip of a face the caller chose (enrolment names one of the photo's faces): no detection. */
  private async givenFaceChip(
    imagePath: string,
    spec: ModelSpec,
    given: DetectedFace,
    timings: Record<string, number>,
  ): Promise<{ pixels: Uint8Array; face: FaceInfo; toSource: Affine }> {
    let t = performance.now();
    const lap = (stage: string) => {
      const now = performance.now();
      timings[stage] = roundMs(now - t);
      t = now;
    };
    const { image, info } = await decodeImage(imagePath, this.settings.limits, WORKING_MAX_SIDE);
    lap('decode');
    const [face] = rescaleFaces([given], info, image);
    return this.alignChip(image, info, face!, spec, lap, {});
  }

  /** The chip aligned on `face` (found in the decoded `image`); the face reported in the original's pixels. */
  private alignChip(
    image: RgbImage,
    info: ImageInfo,
    face: DetectedFace,
    spec: ModelSpec,
    lap: (stage: string) => void,
    seen: Pick<FaceInfo, 'facesSeen' | 'faceIndex'>,
  ): { pixels: Uint8Array; face: FaceInfo; toSource: Affine } {
    const { pixels, toSource } = cutChip(image, face, spec.alignment, spec.input.size);
    lap('align');
    const [original] = rescaleFaces([face], image, info);
    return {
      pixels,
      toSource,
      face: { detected: true, score: face.score, box: original!.box, landmarks: original!.landmarks, ...seen },
    };
  }

  /**
   * The whole image as an already tight crop: libvips fits it (aspect kept, black bars) into the
   * model's square with an anti-aliased resize. The one path for 'skip' and for 'auto' without a face.
   */
  private async wholeImage(
    imagePath: string,
    spec: ModelSpec,
    timings: Record<string, number>,
  ): Promise<{ pixels: Uint8Array; face: FaceInfo }> {
    const started = performance.now();
    const { image } = await decodeSquare(imagePath, spec.input.size, this.settings.limits);
    timings['decode' in timings ? 'square' : 'decode'] = msSince(started);
    return { pixels: image.data, face: { detected: false } };
  }
}
