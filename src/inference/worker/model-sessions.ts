// The networks of one worker process, each loaded on first use and kept (the pool recycles the
// process): the embedding models by name, the face detector, and the whole-photo detector per
// thread count. A failed load is not kept, so the next task retries it.
import { msSince } from '../../domain/time.js';
import { modelFile } from '../../models/prepare.js';
import { ModelRegistry, type ModelSpec } from '../../models/registry.js';
import type { WorkerSettings } from '../protocol.js';
import { FaceDetector } from './face-detector.js';
import { PhotoDetector } from './photo-detector.js';
import { OnnxSession } from './session.js';

export type Log = (message: string, fields?: Record<string, unknown>) => void;

export interface LoadedModel {
  spec: ModelSpec;
  version: string;
  session: OnnxSession;
}

type SessionSettings = Pick<WorkerSettings, 'modelsDir' | 'modelsConfig' | 'threads' | 'photoThreads'>;

export class ModelSessions {
  readonly registry: ModelRegistry;
  private readonly models = new Map<string, Promise<LoadedModel>>();
  private detector: Promise<FaceDetector> | undefined;
  /** By intra-op threads: a whole photo in one task uses photoThreads, a share of a split photo `threads`. */
  private readonly photoDetectors = new Map<number, Promise<PhotoDetector>>();

  constructor(private readonly settings: SessionSettings) {
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
}
