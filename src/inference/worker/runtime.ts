// What a worker process does for one task: decode the image, find and align the face, run the
// model, normalise. Sessions are loaded once per process and kept (the pool recycles the process).
import type { DetectedFace, DetectMode, FaceInfo } from '../../domain/face.js';
import { rankFaces } from '../../domain/principal-face.js';
import { msSince, roundMs } from '../../domain/time.js';
import type { Affine } from '../../detect/alignment.js';
import { rescaleFaces } from '../../detect/rescale.js';
import { NoFaceDetectedError, serializeError, type SerializedError } from '../../errors.js';
import { decodeImage, decodeSquare, type ImageInfo, type RgbImage } from '../../image/decode.js';
import { modelFile } from '../../models/prepare.js';
import { ModelRegistry, type ModelSpec } from '../../models/registry.js';
import type {
  AnyTaskOutput,
  DetectOutput,
  EmbedBatchOutput,
  EmbedBatchTask,
  EmbedOutput,
  FacesOutput,
  FlipMode,
  ScanPartOutput,
  ScanPartTask,
  TaskRequest,
  WorkerSettings,
} from '../protocol.js';
import { FaceDetector, cutChip } from './face-detector.js';
import { embedChips, wantsFlip, type Chip } from './embed-chip.js';
import { PhotoDetector } from './photo-detector.js';
import { photoFaces, refitFaces, scanPart } from './photo-faces.js';
import { OnnxSession, networkMs } from './session.js';

export type Log = (message: string, fields?: Record<string, unknown>) => void;

interface LoadedModel {
  spec: ModelSpec;
  version: string;
  session: OnnxSession;
}

/**
 * Photos are decoded with JPEG shrink-on-load to at most this side: BlazeFace sees 256 px and the
 * chips are 224 px at most, so more pixels only cost decode time (a 1382x1868 JPEG: ~60 ms full).
 */
const WORKING_MAX_SIDE = 1024;

/** An image's chip, ready for the network, with its stage timings and the ms spent on it so far. */
interface Prepared {
  kind: 'chip';
  imagePath: string;
  chip: Chip;
  face: FaceInfo;
  timings: Record<string, number>;
  ms: number;
}

export class WorkerRuntime {
  readonly registry: ModelRegistry;
  private readonly models = new Map<string, Promise<LoadedModel>>();
  private detector: Promise<FaceDetector> | undefined;
  /** By intra-op threads: a whole photo in one task uses photoThreads, a share of a split photo `threads`. */
  private readonly photoDetectors = new Map<number, Promise<PhotoDetector>>();

  constructor(private readonly settings: WorkerSettings) {
    this.registry = ModelRegistry.load(settings.modelsConfig);
  }

  /** Loads (once) the session of a model name or alias; ValueError for unknown names. */
  load(name: string, log: Log): Promise<LoadedModel> {
    const spec = this.registry.get(name);
    let loaded = this.models.get(spec.name);
    if (!loaded) {
      log(`Loading model ${spec.name}...`);
      const started = performance.now();
      loaded = (async () => {
        const file = await modelFile(spec, this.settings.modelsDir);
        // The same short spin as the detector's sessions (face-detector.ts): each session has its
        // own intra-op threads, and with onnxruntime's default spin this session's idle threads
        // starved the detector's on the next image. With 2 threads per worker (benchmark, crops,
        // 'facenet'): 1x2 28 -> 43 faces/s and p50 36 -> 22 ms; 2x2 32 -> 53 faces/s, p50 ~30 -> 18 ms.
        // No effect with 1 thread (no thread pool).
        const session = await OnnxSession.load(
          file.path,
          { threads: this.settings.threads, spinMicros: 300 },
          spec.output ? { output: spec.output } : {},
        );
        log(`Model ${spec.name} loaded in ${msSince(started)} ms`, { version: file.version });
        return { spec, version: file.version, session };
      })();
      // A failed load is not cached: the next task retries it.
      loaded.catch(() => this.models.delete(spec.name));
      this.models.set(spec.name, loaded);
    }
    return loaded;
  }

  loadDetector(log: Log): Promise<FaceDetector> {
    if (!this.detector) {
      log('Loading face detector...');
      this.detector = FaceDetector.load(this.settings.modelsDir, this.settings.threads);
      this.detector.catch(() => {
        this.detector = undefined;
      });
    }
    return this.detector;
  }

  loadPhotoDetector(log: Log, threads = this.settings.photoThreads ?? this.settings.threads): Promise<PhotoDetector> {
    let detector = this.photoDetectors.get(threads);
    if (!detector) {
      log(`Loading whole-photo face detector (${threads} thread(s))...`);
      detector = PhotoDetector.load(this.settings.modelsDir, threads);
      detector.catch(() => this.photoDetectors.delete(threads));
      this.photoDetectors.set(threads, detector);
    }
    return detector;
  }

  run(task: TaskRequest, log: Log): Promise<AnyTaskOutput> {
    if (task.kind === 'faces') return this.faces(task, log);
    if (task.kind === 'embedBatch') return this.embedBatch(task, log);
    if (task.kind === 'scanPart') return this.scanPart(task, log);
    if (task.kind === 'refit')
      return this.loadDetector(log).then((refiner) => refitFaces(task, { refiner, limits: this.settings.limits }));
    return task.kind === 'embed' ? this.embed(task, log) : this.detect(task, log);
  }

  /** Every face of a photo (and, with a model, every face's embedding) from one decode. */
  async faces(task: Extract<TaskRequest, { kind: 'faces' }>, log: Log): Promise<FacesOutput> {
    const detector = await this.loadPhotoDetector(log);
    const refiner = await this.loadDetector(log);
    const model = task.model ? { ...(await this.load(task.model, log)), name: task.model } : undefined;
    const out = await photoFaces(task, {
      detector,
      refiner,
      limits: this.settings.limits,
      ...(model ? { model } : {}),
    });
    log(`Found ${out.faces.length} face(s)`, { timings: out.timings });
    return out;
  }

  /** One share of a photo split over the idle workers: this process's threads only. */
  async scanPart(task: ScanPartTask, log: Log): Promise<ScanPartOutput> {
    const detector = await this.loadPhotoDetector(log, this.settings.threads);
    const refiner = await this.loadDetector(log);
    const out = await scanPart(task, { detector, refiner, limits: this.settings.limits });
    log(`Windows ${task.part + 1} of every ${task.parts}: ${out.candidates.length} candidate(s)`, {
      timings: out.timings,
    });
    return out;
  }

  /** Every face, in the original image's pixels (EXIF orientation applied). */
  async detect(task: Extract<TaskRequest, { kind: 'detect' }>, log: Log): Promise<DetectOutput> {
    const started = performance.now();
    const detector = await this.loadDetector(log);
    const { image, info } = await decodeImage(task.imagePath, this.settings.limits, WORKING_MAX_SIDE);
    const faces = rescaleFaces(await detector.detect(image), image, info);
    log(`Found ${faces.length} face(s)`);
    return {
      kind: 'detect',
      faces,
      width: info.width,
      height: info.height,
      durationMs: msSince(started),
    };
  }

  async embed(task: Extract<TaskRequest, { kind: 'embed' }>, log: Log): Promise<EmbedOutput> {
    log(`Image: ${task.imagePath}`);
    log(`Model: ${task.model}`);
    const model = await this.load(task.model, log);
    const prepared = await this.prepare(task.imagePath, model.spec, task, log);
    log('Generating embedding...');
    const run = await this.embedPrepared(model, [prepared]);
    const [embedding] = run.embeddings;
    log(`Embedding generated successfully: ${embedding!.length} dimensions`);
    return this.output(task.model, model.version, prepared, embedding!, run);
  }

  /**
   * Each image's chip as `embed` cuts it, then the chips through the network. An image
   * that fails (unreadable, too large, no face with 'enforce') is its own typed error item, never
   * the task's failure; each image logs the same step lines as an `embed` task ('Image: …' as its
   * work starts, 'Embedding generated successfully' once it has its vector).
   */
  async embedBatch(task: EmbedBatchTask, log: Log): Promise<EmbedBatchOutput> {
    log(`Images: ${task.imagePaths.length}, model: ${task.model}`);
    const model = await this.load(task.model, log);
    const prepared: (Prepared | { kind: 'error'; error: SerializedError })[] = [];
    for (const imagePath of task.imagePaths) {
      log(`Image: ${imagePath}`);
      try {
        prepared.push(await this.prepare(imagePath, model.spec, task, log));
      } catch (err) {
        const error = serializeError(err);
        log(`Image failed: ${error.type}: ${error.message}`, { imagePath });
        prepared.push({ kind: 'error', error });
      }
    }
    const ready = prepared.filter((p): p is Prepared => p.kind === 'chip');
    const run = await this.embedPrepared(model, ready);
    let k = 0;
    return {
      kind: 'embedBatch',
      items: prepared.map((p) => {
        if (p.kind === 'error') return p;
        const embedding = run.embeddings[k++]!;
        log(`Embedding generated successfully: ${embedding.length} dimensions`, { imagePath: p.imagePath });
        return this.output(task.model, model.version, p, embedding, run);
      }),
    };
  }

  /** The chips through the network; each chip's share of the run's wall and network milliseconds. */
  private async embedPrepared(
    model: LoadedModel,
    prepared: readonly Prepared[],
  ): Promise<{ embeddings: Float32Array[]; ms: number; networkMs: number }> {
    const t0 = performance.now();
    const n0 = networkMs();
    const embeddings = await embedChips(
      model,
      prepared.map((p) => p.chip),
      this.settings.chipsPerRun ?? 1,
    );
    const n = Math.max(1, prepared.length);
    return { embeddings, ms: msSince(t0) / n, networkMs: (networkMs() - n0) / n };
  }

  /** One image's aligned chip, timed from the start of its work. */
  private async prepare(
    imagePath: string,
    spec: ModelSpec,
    task: { detect: DetectMode; flip?: FlipMode; face?: DetectedFace },
    log: Log,
  ): Promise<Prepared> {
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

  private output(
    modelName: string,
    version: string,
    p: Prepared,
    embedding: Float32Array,
    run: { ms: number; networkMs: number },
  ): EmbedOutput {
    return {
      kind: 'embed',
      embedding,
      model: modelName,
      modelVersion: version,
      dimensions: embedding.length,
      face: p.face,
      durationMs: roundMs(p.ms + run.ms),
      // network: every network's own run time for this image (detectors, and its share of the embedding run).
      timings: { ...p.timings, infer: roundMs(run.ms), network: roundMs((p.timings.network ?? 0) + run.networkMs) },
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
