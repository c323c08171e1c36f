// The "Pairs that fail at the shipped thresholds" section of docs/accuracy.md: every failing
// deepface-unit pair of the aligned rows, with what its photos show and a judgement per model.
// The notes were written by looking at the photos; they are printed beside whichever pairs fail,
// so they follow the results rather than fix them.
import { f3, f4 } from './accuracy-format.js';
import { MASTER, PIVOT, type FaceNote } from './deepface-unit-pairs.js';
import type { Evaluation } from './deepface-unit-run.js';

/** What the photos behind failing pairs show, looked at by eye. */
const PHOTO_NOTES: Record<string, string> = {
  'img46.jpg':
    'Katy Perry years younger (2011 Grammys), black hair, heavy coloured eye make-up; a 400x500 photo, so the face chip is upscaled and soft',
  'img28.jpg': 'Katy Perry recent, platinum bob, frontal, sharp',
  'img43.jpg': 'Katy Perry recent, black waved hair, red lips, frontal, sharp',
  'img20.jpg': 'Jeff Bezos, frontal, slight head tilt, sharp',
  'img13.jpg': 'Mark Zuckerberg, frontal studio portrait on white',
  'img14.jpg': 'Mark Zuckerberg, frontal studio portrait on white',
  'img22.jpg': 'Marissa Mayer, frontal, smiling, sharp',
  'img7.jpg': 'Angelina Jolie, frontal, sharp, light studio background',
  'img12.jpg': 'Jennifer Aniston, frontal, blue studio background',
  'img33.jpg': 'Matt Damon, frontal studio portrait, sharp',
  'img35.jpg': 'Leonardo DiCaprio, frontal studio portrait, beard, sharp',
};

/** Judgement on a model's failures, shown only when it has failing pairs. */
const MODEL_NOTES: Record<string, string> = {
  'hse-faceres':
    'Every failing photo is frontal and sharp enough, its face found with a high detector score (table above) and aligned: ' +
    'detection, pose, blur and occlusion are not the cause. The false accepts pair different people of the same sex, age band and ' +
    'colouring (two short-haired or bald men, two blonde women); the false rejects all involve img46, a small, years-older photo with ' +
    'heavy make-up. Thresholds cannot fix it: even the best threshold on the pivot file keeps its false rejects (see "pivot best"). ' +
    "It is the descriptor's limit: HSE FaceRes is a multi-output network (identity descriptor plus age and gender heads), not an " +
    'ArcFace-trained recogniser. Fixes: use facenet (face-api) where accuracy matters, or register a stronger ArcFace-trained ONNX model ' +
    'through FACEEMBED_MODELS_CONFIG; enrolling several recent photos per person narrows img46-like gaps.',
  'faceapi-resnet128':
    'The margin is thin (best pivot interval under 0.01 wide): a pair near the threshold flips with small changes in the chip. ' +
    'Enrol more than one photo per person and keep this benchmark in the release checks.',
};

/** One table per aligned row: its failing pairs of both files, lowest similarity first, then the notes. */
export function failingSection(aligned: Evaluation[]): string[] {
  const out: string[] = [];
  for (const e of aligned) {
    const seen = new Set<string>();
    const rows = [
      ...e.master.failing.map((f) => ({ ...f, file: MASTER })),
      ...e.pivot.failing.map((f) => ({ ...f, file: PIVOT })),
    ];
    out.push(`### ${e.alias} (${e.model}), aligned, threshold ${f3(e.threshold)}`, '');
    if (!rows.length) {
      out.push('No pair fails on either file.', '');
      continue;
    }
    const faceText = (n: FaceNote) =>
      n.score === undefined ? 'none' : `${Math.round(n.width ?? 0)} px, ${f3(n.score)}`;
    out.push(
      '| file | pair | truth | similarity | error | faces (width, detector score) |',
      '|---|---|---|---|---|---|',
    );
    for (const r of rows.sort((a, b) => a.similarity - b.similarity)) {
      out.push(
        `| ${r.file} | ${r.x} – ${r.y} | ${r.same ? 'same' : 'different'} | ${f4(r.similarity)} | ${r.same ? 'false reject' : 'false accept'} | ` +
          `${faceText(r.faces[0])}; ${faceText(r.faces[1])} |`,
      );
      seen.add(r.x).add(r.y);
    }
    const notes = [...seen].filter((f) => PHOTO_NOTES[f]).map((f) => `- ${f}: ${PHOTO_NOTES[f]}`);
    out.push('', ...(notes.length ? ['What the photos show:', '', ...notes] : ['No notes on these photos yet.']), '');
    if (MODEL_NOTES[e.model]) out.push(`Why, and what would fix it: ${MODEL_NOTES[e.model]}`, '');
  }
  return out;
}
