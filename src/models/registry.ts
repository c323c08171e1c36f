// The embedding models the service knows: the two built-ins (served under the old service's
// names 'facenet' and 'arcface', each with its own true name too) and any user-supplied ONNX
// model registered through the JSON file named by FACEEMBED_MODELS_CONFIG.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ValueError, ValidationError } from '../errors.js';
import { FACEAPI_RECOGNITION_INPUT } from './convert/faceapi-recognition.js';

/** The model used when a request, a command or a library call names none (the old service's default). */
export const DEFAULT_MODEL_NAME = 'facenet';

export type Layout = 'nhwc' | 'nchw';

/** How pixels (RGB 0..255) become the model's input: (pixel - mean[c]) / std[c], channels in `channelOrder`. */
export interface InputSpec {
  size: number;
  layout: Layout;
  channelOrder: 'rgb' | 'bgr';
  mean: [number, number, number];
  std: [number, number, number];
}

/** How a detected face is cut out for this model. */
export type Alignment =
  /** 5-point similarity transform to the ArcFace 112 template, scaled by `templateScale` to the input. */
  | { kind: 'template'; templateScale: number }
  /** face-api's chip: a square box around the landmarks. */
  | { kind: 'landmark-box' };

export interface ModelSpec {
  name: string;
  aliases: string[];
  dimensions: number;
  input: InputSpec;
  /** ONNX output holding the embedding (first output when unset). */
  output?: string;
  alignment: Alignment;
  /** Default cosine threshold: similarity >= threshold means "same person". */
  threshold: number;
  /** Built-in: key of models/sources.ts. User model: absolute path of the ONNX file. */
  origin: { kind: 'builtin'; sourceId: string } | { kind: 'file'; path: string };
  description: string;
}

const BUILTINS: readonly ModelSpec[] = Object.freeze([
  {
    name: 'faceapi-resnet128',
    aliases: ['facenet'],
    dimensions: 128,
    // face-api's own preprocessing (FaceRecognitionNet.forwardInput), owned by its converter.
    input: {
      size: FACEAPI_RECOGNITION_INPUT.size,
      layout: FACEAPI_RECOGNITION_INPUT.layout,
      channelOrder: 'rgb',
      mean: [...FACEAPI_RECOGNITION_INPUT.mean],
      std: [...FACEAPI_RECOGNITION_INPUT.std],
    },
    alignment: { kind: 'landmark-box' },
    // Calibrated by bench/accuracy.ts on the deepface-unit pivot pairs (docs/accuracy.md): midpoint
    // of the best-accuracy interval (0.928, 0.935]. The margin is thin: keep the pivot check.
    threshold: 0.932,
    origin: { kind: 'builtin', sourceId: 'faceapi-resnet128' },
    description:
      "face-api's ResNet-34-like face recognition network (dlib recipe), 128-D; not FaceNet: no FaceNet weights ship in npm",
  },
  {
    name: 'hse-faceres',
    aliases: ['arcface'],
    dimensions: 1024,
    // Human feeds faceres RGB in 0..255 (src/face/faceres.ts: crop * 255 after 0..1 input).
    input: { size: 224, layout: 'nhwc', channelOrder: 'rgb', mean: [0, 0, 0], std: [1, 1, 1] },
    output: 'global_pooling/Mean',
    alignment: { kind: 'template', templateScale: 2 },
    // Calibrated by bench/accuracy.ts on the deepface-unit pivot pairs (docs/accuracy.md): midpoint
    // of the best-accuracy interval (0.597, 0.616].
    threshold: 0.606,
    origin: { kind: 'builtin', sourceId: 'hse-faceres' },
    description: 'HSE FaceRes descriptor from @vladmandic/human, 1024-D; not ArcFace: no ArcFace weights ship in npm',
  },
] satisfies ModelSpec[]);

interface UserModelEntry {
  name?: unknown;
  aliases?: unknown;
  path?: unknown;
  dimensions?: unknown;
  input_size?: unknown;
  layout?: unknown;
  channel_order?: unknown;
  mean?: unknown;
  std?: unknown;
  threshold?: unknown;
  output?: unknown;
  alignment?: unknown;
}

/** Parses the user's models file; every problem is reported at once. Relative paths are relative to the file. */
export function parseUserModels(file: string, text: string): ModelSpec[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new ValidationError(`Models config ${file} is not valid JSON: ${(err as Error).message}`);
  }
  const entries = (doc as { models?: unknown })?.models;
  if (!Array.isArray(entries)) throw new ValidationError(`Models config ${file} must be {"models": [...]}`);
  const problems: string[] = [];
  const specs = entries.map((raw: UserModelEntry, i): ModelSpec => {
    const where = `models[${i}]`;
    const need = <T>(ok: boolean, value: unknown, what: string): T => {
      if (!ok) problems.push(`${where}.${what}`);
      return value as T;
    };
    const isTriple = (v: unknown) =>
      Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === 'number' && Number.isFinite(x));
    const name = need<string>(
      typeof raw.name === 'string' && /^[A-Za-z0-9._-]+$/.test(raw.name),
      raw.name,
      'name: letters, digits, . _ -',
    );
    const modelPath = need<string>(
      typeof raw.path === 'string' && raw.path.length > 0,
      raw.path,
      'path: the ONNX file',
    );
    const size = need<number>(
      Number.isInteger(raw.input_size) && (raw.input_size as number) > 0,
      raw.input_size,
      'input_size: positive integer',
    );
    const std = raw.std ?? [1, 1, 1];
    return {
      name,
      aliases: need<string[]>(
        raw.aliases === undefined || (Array.isArray(raw.aliases) && raw.aliases.every((a) => typeof a === 'string')),
        raw.aliases ?? [],
        'aliases: array of names',
      ),
      dimensions: need<number>(
        Number.isInteger(raw.dimensions) && (raw.dimensions as number) > 0,
        raw.dimensions,
        'dimensions: positive integer',
      ),
      input: {
        size,
        layout: need<Layout>(
          raw.layout === undefined || raw.layout === 'nchw' || raw.layout === 'nhwc',
          raw.layout ?? 'nchw',
          'layout: "nchw" or "nhwc"',
        ),
        channelOrder: need<'rgb' | 'bgr'>(
          raw.channel_order === undefined || raw.channel_order === 'rgb' || raw.channel_order === 'bgr',
          raw.channel_order ?? 'rgb',
          'channel_order: "rgb" or "bgr"',
        ),
        mean: need<[number, number, number]>(
          raw.mean === undefined || isTriple(raw.mean),
          raw.mean ?? [0, 0, 0],
          'mean: three numbers',
        ),
        std: need<[number, number, number]>(
          isTriple(std) && (std as number[]).every((s) => s !== 0),
          std,
          'std: three non-zero numbers',
        ),
      },
      ...(raw.output === undefined
        ? {}
        : { output: need<string>(typeof raw.output === 'string', raw.output, 'output: output name') }),
      alignment:
        raw.alignment === 'landmark-box'
          ? { kind: 'landmark-box' }
          : { kind: 'template', templateScale: (size || 112) / 112 },
      threshold: need<number>(
        typeof raw.threshold === 'number' && raw.threshold > -1 && raw.threshold < 1,
        raw.threshold,
        'threshold: cosine in (-1, 1)',
      ),
      origin: { kind: 'file', path: path.resolve(path.dirname(file), String(modelPath)) },
      description: `user-supplied ONNX model ${String(modelPath)}`,
    };
  });
  if (problems.length)
    throw new ValidationError(`Models config ${file} has invalid entries: ${problems.join(', ')}`, { problems });
  return specs;
}

export class ModelRegistry {
  private readonly byName = new Map<string, ModelSpec>();
  readonly specs: readonly ModelSpec[];

  /** User models come after the built-ins: a user model named or aliased like a built-in's alias takes that alias over. */
  constructor(userSpecs: readonly ModelSpec[] = []) {
    const taken = new Set(userSpecs.flatMap((s) => [s.name, ...s.aliases]));
    const builtins = BUILTINS.map((b) => ({ ...b, aliases: b.aliases.filter((a) => !taken.has(a)) }));
    this.specs = Object.freeze([...builtins, ...userSpecs]);
    for (const spec of this.specs) {
      for (const key of [spec.name, ...spec.aliases]) {
        if (this.byName.has(key)) throw new ValidationError(`Model name "${key}" is registered twice`);
        this.byName.set(key, spec);
      }
    }
  }

  static load(modelsConfig: string | undefined): ModelRegistry {
    if (!modelsConfig) return new ModelRegistry();
    let text: string;
    try {
      text = readFileSync(modelsConfig, 'utf8');
    } catch (err) {
      throw new ValidationError(`Cannot read models config ${modelsConfig}: ${(err as Error).message}`);
    }
    return new ModelRegistry(parseUserModels(modelsConfig, text));
  }

  /** Throws ValueError naming the known models. */
  get(name: string): ModelSpec {
    const spec = this.byName.get(name);
    if (!spec) throw new ValueError(`Unsupported model: ${name}. Known models: ${[...this.byName.keys()].join(', ')}`);
    return spec;
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }
}
