// What a worker process does for one task: decode the image, find and align the face, run the
// model, normalise. Sessions are loaded once per process and kept (model-sessions.ts); each
// image's chip is cut in image-chip.ts.
import { msSince, roundMs } from '../../domain/time.js';
import { rescaleFaces } from '../../detect/rescale.js';
import { serializeError, type SerializedError } from '../../errors.js';
import { decodeImage } from '../../image/decode.js';
import type { ModelRegistry } from '../../models/registry.js';
import type {
  AnyTaskOutput,
  DetectOutput,
  EmbedBatchOutput,
  EmbedBatchTask,
  EmbedOutput,
  FacesOutput,
  ScanPartOutput,
  ScanPartTask,
  TaskRequest,
  WorkerSettings,
} from '../protocol.js';
import { embedChips } from './embed-chip.js';
import type { FaceDetector } from './face-detector.js';
import { ChipPreparer, WORKING_MAX_SIDE, type PreparedChip } from './image-chip.js';
import { ModelSessions, type LoadedModel, type Log } from './model-sessions.js';
import type { PhotoDetector } from './photo-detector.js';
import { photoFaces, refitFaces, scanPart } from './photo-faces.js';
import { networkMs } from './session.js';

export class WorkerRuntime {
  readonly registry: ModelRegistry;
  private readonly sessions: ModelSessions;
  private readonly chips: ChipPreparer;

  constructor(private readonly settings: WorkerSettings) {
    this.sessions = new ModelSessions(settings);
    this.registry = this.sessions.registry;
    this.chips = new ChipPreparer(settings, (log) => this.loadDetector(log));
  }

  /** Loads (once) the session of a model name or alias; ValueError for unknown names. */
  load(name: string, log: Log): Promise<LoadedModel> {
    return this.sessions.load(name, log);
  }

  loadDetector(log: Log): Promise<FaceDetector> {
    return this.sessions.loadDetector(log);
  }

  loadPhotoDetector(log: Log, threads?: number): Promise<PhotoDetector> {
    return this.sessions.loadPhotoDetector(log, threads);
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
    const prepared = await this.chips.prepare(task.imagePath, model.spec, task, log);
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
    const prepared: (PreparedChip | { kind: 'error'; error: SerializedError })[] = [];
    for (const imagePath of task.imagePaths) {
      log(`Image: ${imagePath}`);
      try {
        prepared.push(await this.chips.prepare(imagePath, model.spec, task, log));
      } catch (err) {
        const error = serializeError(err);
        log(`Image failed: ${error.type}: ${error.message}`, { imagePath });
        prepared.push({ kind: 'error', error });
      }
    }
    const ready = prepared.filter((p): p is PreparedChip => p.kind === 'chip');
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
    prepared: readonly PreparedChip[],
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

  private output(
    modelName: string,
    version: string,
    p: PreparedChip,
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
}
