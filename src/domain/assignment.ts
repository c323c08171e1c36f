// One-to-one assignment of rows (faces) to columns (roster members) maximising the total
// weight (similarity). Pairs of weight <= 0 are never assigned: the caller puts 0 where a pair
// is not allowed (below the threshold). Hungarian method (Kuhn-Munkres with potentials), O(n^3)
// on the padded square matrix; a class is at most a few hundred faces.

/** For each row, the column it is assigned to, or -1. `weights[r][c]`. */
export function maxWeightAssignment(weights: readonly (readonly number[])[]): number[] {
  const rows = weights.length;
  const cols = rows === 0 ? 0 : weights[0]!.length;
  if (rows === 0 || cols === 0) return new Array<number>(rows).fill(-1);
  const n = Math.max(rows, cols);
  // Minimise cost = -weight; padding and forbidden pairs cost 0 (same as "left unassigned").
  const cost = (r: number, c: number): number => (r < rows && c < cols ? -Math.max(0, weights[r]![c]!) : 0);
  // 1-based arrays as in the classical formulation; p[c] = row matched to column c.
  const u = new Float64Array(n + 1);
  const v = new Float64Array(n + 1);
  const p = new Int32Array(n + 1);
  const way = new Int32Array(n + 1);
  for (let i = 1; i <= n; i++) {
    p[0] = i;
    let j0 = 0;
    const minv = new Float64Array(n + 1).fill(Infinity);
    const used = new Uint8Array(n + 1);
    do {
      used[j0] = 1;
      const i0 = p[j0]!;
      let delta = Infinity;
      let j1 = 0;
      for (let j = 1; j <= n; j++) {
        if (used[j]) continue;
        const cur = cost(i0 - 1, j - 1) - u[i0]! - v[j]!;
        if (cur < minv[j]!) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j]! < delta) {
          delta = minv[j]!;
          j1 = j;
        }
      }
      for (let j = 0; j <= n; j++) {
        if (used[j]) {
          u[p[j]!] = u[p[j]!]! + delta;
          v[j] = v[j]! - delta;
        } else minv[j] = minv[j]! - delta;
      }
      j0 = j1;
    } while (p[j0] !== 0);
    do {
      const j1 = way[j0]!;
      p[j0] = p[j1]!;
      j0 = j1;
    } while (j0 !== 0);
  }
  const out = new Array<number>(rows).fill(-1);
  for (let j = 1; j <= n; j++) {
    const r = p[j]! - 1;
    const c = j - 1;
    if (r < rows && c < cols && weights[r]![c]! > 0) out[r] = c;
  }
  return out;
}

/** The greedy alternative (best pair first): kept to compare against the optimum. */
export function greedyAssignment(weights: readonly (readonly number[])[]): number[] {
  const pairs: [number, number, number][] = [];
  weights.forEach((row, r) => row.forEach((w, c) => w > 0 && pairs.push([w, r, c])));
  pairs.sort((a, b) => b[0] - a[0]);
  const out = new Array<number>(weights.length).fill(-1);
  const taken = new Set<number>();
  for (const [, r, c] of pairs) {
    if (out[r] !== -1 || taken.has(c)) continue;
    out[r] = c;
    taken.add(c);
  }
  return out;
}

/** Total weight of an assignment. */
export const assignmentWeight = (weights: readonly (readonly number[])[], assigned: readonly number[]): number =>
  assigned.reduce((sum, c, r) => (c < 0 ? sum : sum + weights[r]![c]!), 0);
