// The identify answer as JSON (docs/api.md "Identification"): one mapping for the HTTP route and
// the `faceembed identify` command, so the two can never drift apart.
import type { Box } from '../domain/face.js';
import type { Identification } from './identification.service.js';

export interface IdentificationJson {
  model_name: string;
  model_true_name: string;
  threshold: number;
  faces: {
    box: Box | null;
    threshold: number;
    score: number | null;
    person_id: number | null;
    similarity: number | null;
    matches: { person_id: number; name: string; similarity: number }[];
  }[];
}

export const identificationJson = (r: Identification): IdentificationJson => ({
  model_name: r.modelName,
  model_true_name: r.modelTrueName,
  threshold: r.threshold,
  faces: r.faces.map((f) => ({
    box: f.box,
    threshold: f.threshold,
    score: f.score,
    person_id: f.personId,
    similarity: f.similarity,
    matches: f.matches.map((m) => ({ person_id: m.personId, name: m.name, similarity: m.similarity })),
  })),
});
