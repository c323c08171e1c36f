// IEEE 754 half precision for the gallery's rescoring store: half the bytes of float32. Stored as
// raw bits in a Uint16Array (Float16Array and Math.f16round are missing from Node 20), read back
// through a 65,536-entry table, which is faster in V8 than decoding each value.

/**
 * Round to nearest keeps a half's relative error under 2^-11, so a unit vector v stored as h has
 * |v - h| <= 2^-11 and, for a unit query q, |q.v - q.h| <= 2^-11 (Cauchy-Schwarz). Components
 * below half's normal range (|x| < 2^-14) err by at most 2^-25 each instead: at 128-1024 dimensions
 * that adds under 1e-6, hence the margin. Float32 arithmetic adds ~1e-6 more.
 */
export const FLOAT16_SIMILARITY_BOUND = 2 ** -11 + 2e-6;

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The half-precision bits nearest to x (ties to even), x taken as float32. */
export function toFloat16Bits(x: number): number {
  f32[0] = x;
  const bits = u32[0]!;
  const sign = (bits >>> 16) & 0x8000;
  const exponent = ((bits >>> 23) & 0xff) - 127 + 15;
  const mantissa = bits & 0x7fffff;
  if (exponent === 0xff - 127 + 15) return sign | 0x7c00 | (mantissa ? 0x200 : 0); // Inf, NaN
  if (exponent >= 0x1f) return sign | 0x7c00; // too large: Inf
  if (exponent <= 0) {
    // Subnormal half: the implicit 1 joins the mantissa, shifted by how far below 2^-14 x lies.
    if (exponent < -10) return sign;
    return sign | roundShift(mantissa | 0x800000, 14 - exponent);
  }
  // A carry out of the mantissa rightly bumps the exponent (up to Inf).
  return sign | ((exponent << 10) + roundShift(mantissa, 13));
}

/** m >> shift, rounded to nearest, ties to even. */
function roundShift(m: number, shift: number): number {
  const kept = m >>> shift;
  const rest = m & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  return rest > half || (rest === half && kept & 1) ? kept + 1 : kept;
}

function fromBits(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >>> 10) & 0x1f;
  const mantissa = h & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa ? NaN : sign * Infinity;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

/** Every half's value, indexed by its bits. */
export const FLOAT16_VALUES = Float32Array.from({ length: 0x10000 }, (_, h) => fromBits(h));
