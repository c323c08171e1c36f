// What a worker process does for one task: decode the image, cut the face, run the model,
// normalise. Sessions are loaded once per process and kept (the pool recycles the process).
import { decodeSquare } from '../../image/decode.js';
import { toInputTensor } from '../../models/input-tensor.js';
import { modelFile } from '../../models/prepare.js';
import { ModelRegistry, type ModelSpec } from '../../models/registry.js';
import { l2Normalize } from '../../domain/vector.js';
import { ValueError } from '../../errors.js';
import type { EmbedOutput, TaskRequest, WorkerSettings, DetectOutput } from '../protocol.js';
import { OnnxSession } from './session.js';

export type Log = (message: string, fields?: Record<string, unknown>) => void;

interface LoadedModel {
  spec: ModelSpec;
  version: string;
  session: OnnxSession;
}

const round = (ms: number) => Math.round(ms * 100) / 100;

export class WorkerRuntime {
  readonly registry: ModelRegistry;
  private readonly models = new Map<string, Promise<LoadedModel>>();

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
        const session = await OnnxSession.load(file.path, { threads: this.settings.threads }, spec.output ? { output: spec.output } : {});
        log(`Model ${spec.name} loaded in ${round(performance.now() - started)} ms`, { version: file.version });
        return { spec, version: file.version, session };
      })();
      // A failed load is not cached: the next task retries it.
      loaded.catch(() => this.models.delete(spec.name));
      this.models.set(spec.name, loaded);
    }
    return loaded;
  }

  async run(task: TaskRequest, log: Log): Promise<EmbedOutput | DetectOutput> {
    if (task.kind === 'embed') return this.embed(task, log);
    throw new ValueError('Face detection is not available in this build');
  }

  async embed(task: Extract<TaskRequest, { kind: 'embed' }>, log: Log): Promise<EmbedOutput> {
    const started = performance.now();
    log(`Image: ${task.imagePath}`);
    log(`Model: ${task.model}`);
    const model = await this.load(task.model, log);
    const { spec } = model;
    const t0 = performance.now();
    // Detection and alignment slot in here; until then the whole image is treated as a tight crop.
    const { image } = await decodeSquare(task.imagePath, spec.input.size, this.settings.limits);
    const t1 = performance.now();
    log('Generating embedding...');
    const input = toInputTensor(image.data, spec.input);
    const out = await model.session.run(input.data, input.dims);
    const t2 = performance.now();
    if (out.data.length !== spec.dimensions) {
      throw new ValueError(`Model ${spec.name} returned ${out.data.length} values; the registry says ${spec.dimensions}`);
    }
    const embedding = l2Normalize(out.data);
    log(`Embedding generated successfully: ${embedding.length} dimensions`);
    return {
      kind: 'embed',
      embedding,
      model: task.model,
      modelVersion: model.version,
      dimensions: embedding.length,
      face: { detected: false },
      durationMs: round(performance.now() - started),
      timings: { decode: round(t1 - t0), infer: round(t2 - t1) },
    };
  }
}
