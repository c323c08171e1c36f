// The embedding models the service knows: the two built-ins (served under the old service's
// names 'facenet' and 'arcface', each with its own true name too) and any user-supplied ONNX
// model registered through the JSON file named by FACEEMBED_MODELS_CONFIG.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ValueError, ValidationError } from '../errors.js';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { SizeBand } from '../domain/face-threshold.js';
import { FACEAPI_RECOGNITION_INPUT } from './faceapi-input.js';
import { SOURCES } from './sources.js';

/** dlib's padding for its face recognition chips (dnn_face_recognition_ex.cpp: get_face_chip_details(shape, 150, 0.25)). */
export const DLIB_CHIP_PADDING = 0.25;

/** The model used when a request, a command or a library call names none (the old service's default). */
export const DEFAULT_MODEL_NAME = 'facenet';

/**
 * The model attendance sessions and identification use when a request names none: the one that
 * measured best on the 30-50 px class-photo faces of bench:attendance with no wrong face and no
 * member falsely present (docs/attendance.md; docs/models.md "Attendance default model").
 */
export const ATTENDANCE_MODEL_NAME = 'arcface';

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
  | { kind: 'landmark-box' }
  /**
   * dlib's face chip (get_face_chip_details + extract_image_chip, detect/dlib-chip.ts): the five
   * points fitted onto dlib's mean face in a square of the input's size, `padding` (dlib's
   * argument) of the face's width around it.
   */
  | { kind: 'dlib-chip'; padding: number };

export interface ModelSpec {
  name: string;
  aliases: string[];
  dimensions: number;
  input: InputSpec;
  /** ONNX output holding the embedding (first output when unset). */
  output?: string;
  alignment: Alignment;
  /**
   * Bumped when how faces are cut or fed to this network changes (alignment, normalisation):
   * the model version then ends in `-p<revision>`, so vectors of old and new chips are never
   * compared (services/model-version.ts). Unset: 1, no suffix.
   */
  pipelineRevision?: number;
  /** Default cosine threshold: similarity >= threshold means "same person". */
  threshold: number;
  /** The false-accept rate, over LFW dev pairs of different people, at which `threshold` was chosen (built-ins). */
  thresholdFar?: number;
  /** Thresholds for small faces, narrowest band first (domain/face-threshold.ts). */
  sizeBands?: SizeBand[];
  /** Built-in: key of models/sources.ts. User model: absolute path of the ONNX file. */
  origin: { kind: 'builtin'; sourceId: string } | { kind: 'file'; path: string };
  description: string;
  /** Under what terms the weights are used, and where they come from (`faceembed models`). */
  licence: string;
}

/**
 * Thresholds for faces under 42/56/80/112 px, chosen by bench/accuracy.ts at false-accept rate
 * `far` on LFW dev: probe photos shrunk to 36/48/64/96 px faces (JPEG q70) against every
 * full-size photo of other people (docs/accuracy.md "LFW", "Size bands").
 */
const smallFaceBands = (thresholds: [number, number, number, number], far: number): SizeBand[] =>
  [42, 56, 80, 112].map((belowWidth, i) => ({ belowWidth, threshold: thresholds[i]!, far }));

/** The false-accept rate the built-ins' thresholds are chosen at, over LFW dev pairs of different people. */
export const CALIBRATION_FAR = 1e-4;

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
    // dlib's own chip, the one these weights were trained on (dlib's dnn_face_recognition_ex:
    // get_face_chip_details(shape, 150, 0.25)), from our five points; it replaced face-api's
    // landmark box: LFW dev 5-fold 97.80% -> 98.27%, AUC 0.99624 -> 0.99665 (npm run bench:alignment).
    alignment: { kind: 'dlib-chip', padding: DLIB_CHIP_PADDING },
    // 2: the dlib chip (1 was the landmark box); vectors of the two chips are never compared.
    pipelineRevision: 2,
    // Chosen by bench/accuracy.ts at FAR <= 1e-4 over every pair of different people among the
    // LFW dev photos (1385 of 14372620 pass: 9.6e-05); docs/accuracy.md "LFW".
    threshold: 0.94,
    thresholdFar: CALIBRATION_FAR,
    sizeBands: smallFaceBands([0.942, 0.942, 0.941, 0.939], CALIBRATION_FAR),
    origin: { kind: 'builtin', sourceId: 'faceapi-resnet128' },
    licence:
      "MIT (the npm package @vladmandic/face-api, which ships the weights); the weights are face-api.js's port of dlib's " +
      'dlib_face_recognition_resnet_model_v1 (github.com/davisking/dlib-models), trained on the VGG-Face and FaceScrub ' +
      "datasets: check dlib-models' own terms and those datasets' before commercial use",
    description:
      "face-api's ResNet-34-like face recognition network (dlib recipe), 128-D; not FaceNet: no FaceNet weights ship in npm",
  },
  {
    // Named for what the graph is (a MobileFaceNet with a 512-D head, sources.ts) and who ships
    // it: the package calls it only "fr_feature", and says nothing of its training loss or data.
    name: 'faceplugin-mobilefacenet512',
    // The old service's 'arcface': this network measured better than hse-faceres on every row of
    // bench:accuracy (docs/accuracy.md), and it is aligned and fed as ArcFace models are.
    aliases: ['arcface'],
    dimensions: 512,
    // The package's own preprocessing (lib/fr_feature.js) is (x - 127) / 128, NCHW, in RGB; the
    // weights measured better fed BGR (LFW dev 10-fold 99.00% -> 99.33%, TAR at FAR 1e-4 96.61% ->
    // 98.28%: docs/accuracy.md "Levers"), so they are fed BGR.
    input: { size: 112, layout: 'nchw', channelOrder: 'bgr', mean: [127, 127, 127], std: [128, 128, 128] },
    output: 'output',
    // The ArcFace 112 template its code aligns to, with our five points and a full similarity
    // transform (its demo fits a three-point affine, which shears the face).
    alignment: { kind: 'template', templateScale: 1 },
    // 2: BGR (1 was RGB); vectors of the two orders are never compared.
    pipelineRevision: 2,
    // Chosen by bench/accuracy.ts at FAR <= 1e-4 over every pair of different people among the
    // LFW dev photos; docs/accuracy.md "LFW".
    threshold: 0.414,
    thresholdFar: CALIBRATION_FAR,
    sizeBands: smallFaceBands([0.404, 0.407, 0.408, 0.408], CALIBRATION_FAR),
    origin: { kind: 'builtin', sourceId: 'faceplugin-mobilefacenet512' },
    licence:
      'MIT (the npm package faceplugin-face-recognition-js, which ships the weights, as its package.json states; its LICENSE ' +
      'names "gitguanqi", its README a vendor\'s commercial SDK, Faceplugin); the package states neither the training data nor ' +
      'any upstream terms on the weights: check with the vendor before commercial use',
    description: "Faceplugin's fr_feature network (a MobileFaceNet, 512-D), ArcFace 112 template alignment",
  },
  {
    name: 'hse-faceres',
    // Was 'arcface' until faceplugin-mobilefacenet512 measured better; still served by its true name.
    aliases: [],
    dimensions: 1024,
    // Human feeds faceres RGB in 0..255 (src/face/faceres.ts: crop * 255 after 0..1 input).
    input: { size: 224, layout: 'nhwc', channelOrder: 'rgb', mean: [0, 0, 0], std: [1, 1, 1] },
    output: 'global_pooling/Mean',
    alignment: { kind: 'template', templateScale: 2 },
    // Chosen by bench/accuracy.ts at FAR <= 1e-4 over every pair of different people among the
    // LFW dev photos (1418 of 14372620 pass: 9.9e-05); docs/accuracy.md "LFW". The old 0.606 (a
    // deepface-unit pivot midpoint) let 4.2e-3 of them pass.
    threshold: 0.688,
    thresholdFar: CALIBRATION_FAR,
    sizeBands: smallFaceBands([0.679, 0.687, 0.687, 0.682], CALIBRATION_FAR),
    origin: { kind: 'builtin', sourceId: 'hse-faceres' },
    licence:
      'MIT (the npm package @vladmandic/human, which ships the weights); the network is HSE FaceRes ' +
      '(github.com/HSE-asavchenko/HSE_FaceRec_tf, per human src/face/faceres.ts), whose own terms the package does ' +
      'not restate: check them before commercial use',
    description: 'HSE FaceRes descriptor from @vladmandic/human, 1024-D; not ArcFace: no ArcFace weights ship in npm',
  },
] satisfies ModelSpec[]);

const Triple = Type.Tuple([Type.Number(), Type.Number(), Type.Number()]);

/** One entry of the FACEEMBED_MODELS_CONFIG file (docs/models.md "Your own ONNX model"); unknown keys are refused. */
export const UserModelEntry = Type.Object(
  {
    name: Type.String({ pattern: '^[A-Za-z0-9._-]+$', description: 'letters, digits, . _ -' }),
    aliases: Type.Optional(Type.Array(Type.String({ pattern: '^[A-Za-z0-9._-]+$' }))),
    path: Type.String({ minLength: 1, description: 'The ONNX file, relative to the JSON file' }),
    dimensions: Type.Integer({ minimum: 1 }),
    input_size: Type.Integer({ minimum: 1 }),
    layout: Type.Optional(Type.Union([Type.Literal('nchw'), Type.Literal('nhwc')])),
    channel_order: Type.Optional(Type.Union([Type.Literal('rgb'), Type.Literal('bgr')])),
    mean: Type.Optional(Triple),
    std: Type.Optional(Triple),
    output: Type.Optional(Type.String({ minLength: 1 })),
    alignment: Type.Optional(
      Type.Union([Type.Literal('template'), Type.Literal('landmark-box'), Type.Literal('dlib-chip')]),
    ),
    threshold: Type.Number({ exclusiveMinimum: -1, exclusiveMaximum: 1, description: 'cosine in (-1, 1)' }),
    licence: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export const UserModelsFile = Type.Object({ models: Type.Array(UserModelEntry) }, { additionalProperties: false });
type UserModel = Static<typeof UserModelEntry>;

/** Where a model's weights come from: the npm package of a built-in, the file of a user model. */
export function modelSource(spec: ModelSpec): string {
  return spec.origin.kind === 'builtin'
    ? (SOURCES[spec.origin.sourceId]?.package ?? spec.origin.sourceId)
    : spec.origin.path;
}

/** Every schema violation of `value`, as `path: message` lines (TypeBox reports them all). */
export function schemaProblems(schema: Parameters<typeof Value.Errors>[0], value: unknown): string[] {
  return [...Value.Errors(schema, value)].map((e) => `${e.path || '/'}: ${e.message}`);
}

function toSpec(file: string, m: UserModel): ModelSpec {
  return {
    name: m.name,
    aliases: m.aliases ?? [],
    dimensions: m.dimensions,
    input: {
      size: m.input_size,
      layout: m.layout ?? 'nchw',
      channelOrder: m.channel_order ?? 'rgb',
      mean: m.mean ?? [0, 0, 0],
      std: m.std ?? [1, 1, 1],
    },
    ...(m.output === undefined ? {} : { output: m.output }),
    alignment:
      m.alignment === 'landmark-box'
        ? { kind: 'landmark-box' }
        : m.alignment === 'dlib-chip'
          ? { kind: 'dlib-chip', padding: DLIB_CHIP_PADDING }
          : { kind: 'template', templateScale: m.input_size / 112 },
    threshold: m.threshold,
    origin: { kind: 'file', path: path.resolve(path.dirname(file), m.path) },
    description: `user-supplied ONNX model ${m.path}`,
    licence: m.licence ?? 'not stated (user-supplied model)',
  };
}

/** Parses the user's models file; every problem is reported at once. Relative paths are relative to the file. */
export function parseUserModels(file: string, text: string): ModelSpec[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new ValidationError(`Models config ${file} is not valid JSON: ${(err as Error).message}`);
  }
  const problems = schemaProblems(UserModelsFile, doc);
  if (problems.length === 0) {
    (doc as Static<typeof UserModelsFile>).models.forEach((m, i) => {
      if (m.std?.some((s) => s === 0)) problems.push(`/models/${i}/std: must be three non-zero numbers`);
    });
  }
  if (problems.length)
    throw new ValidationError(`Models config ${file} has invalid entries: ${problems.join('; ')}`, { problems });
  return (doc as Static<typeof UserModelsFile>).models.map((m) => toSpec(file, m));
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
