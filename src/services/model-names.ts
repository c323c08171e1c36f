// The naming rule of every answer and listing (docs/api.md "Models"): `model_name` is the name
// the client used (an alias such as 'arcface' is echoed as sent); where the client named none, as
// in a crop's list of embeddings, it is the model's public name, its first alias (the old
// service's name). `model_true_name` is always the registry's own name, under which embeddings
// are stored. A client that asked for 'arcface' finds its embedding under 'arcface'.
import type { EmbeddingPort, ModelInfo } from './embedding.types.js';

export interface ModelNames {
  /** As the client sent it, or the model's public name. */
  modelName: string;
  /** The registry's own name (e.g. 'hse-faceres'). */
  modelTrueName: string;
}

export const publicName = (model: Pick<ModelInfo, 'name' | 'aliases'>): string => model.aliases[0] ?? model.name;

export function modelNames(model: Pick<ModelInfo, 'name' | 'aliases'>, asked?: string): ModelNames {
  return { modelName: asked ?? publicName(model), modelTrueName: model.name };
}

/** The names of a model stored by name (a job, a session, an embedding row); one no longer registered keeps that name. */
export function storedModelNames(
  embedder: Pick<EmbeddingPort, 'resolveModel'>,
  stored: string,
  asked?: string,
): ModelNames {
  try {
    return modelNames(embedder.resolveModel(stored), asked);
  } catch {
    return { modelName: asked ?? stored, modelTrueName: stored };
  }
}
