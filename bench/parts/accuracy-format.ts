// How the deepface-unit part of docs/accuracy.md prints its figures: accuracy as a percentage
// with one decimal, errors as "false accepts / false rejects", thresholds to 3 decimals and
// similarities and AUCs to 4; and the labels of the low-res rows, which the lever tables look up.
import type { Confusion } from '../accuracy-metrics.js';

export const LOW_RES_MODE = 'low-res (160 px wide, JPEG q70)';
export const LOW_RES_FLIP_MODE = 'low-res, flip-averaged when upsampled';

export const pct = (c: Confusion | { accuracy: number }) => `${(c.accuracy * 100).toFixed(1)}%`;
export const errs = (c: Confusion) => `${c.falseAccepts} / ${c.falseRejects}`;
export const f3 = (v: number) => v.toFixed(3);
export const f4 = (v: number) => v.toFixed(4);
