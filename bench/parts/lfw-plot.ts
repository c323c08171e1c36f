// The ROC image of docs/accuracy.md: true-accept rate against false-accept rate (log scale) over
// every pair of LFW dev photos, one curve per model, a dot at each shipped threshold, and the
// 10-fold accuracies beside the published figures of the same networks. SVG drawn here, made a
// PNG by sharp (librsvg).
import sharp from 'sharp';

export interface PlotCurve {
  label: string;
  colour: string;
  /** (FAR, TAR) from strict to lax. */
  points: [number, number][];
  shipped: { far: number; tar: number; threshold: number };
}

export interface PlotNote {
  label: string;
  ours: string;
  published: string;
}

const W = 1120;
const H = 620;
const PLOT = { left: 80, top: 50, width: 620, height: 480 };
const FAR_DECADES = [-6, 0] as const;
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function rocSvg(
  curves: readonly PlotCurve[],
  notes: readonly PlotNote[],
  title: string,
  tarFloor = 0.7,
): string {
  const x = (far: number) =>
    PLOT.left +
    ((Math.log10(Math.max(far, 10 ** FAR_DECADES[0])) - FAR_DECADES[0]) / (FAR_DECADES[1] - FAR_DECADES[0])) *
      PLOT.width;
  // Below the floor a curve leaves the plot (clipped) rather than run along its edge.
  const y = (tar: number) =>
    PLOT.top + (1 - (Math.max(tar, tarFloor - 0.05) - tarFloor) / (1 - tarFloor)) * PLOT.height;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="DejaVu Sans, sans-serif" font-size="13">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${PLOT.left}" y="30" font-size="16" font-weight="bold">${esc(title)}</text>`,
    `<clipPath id="plot"><rect x="${PLOT.left}" y="${PLOT.top}" width="${PLOT.width}" height="${PLOT.height}"/></clipPath>`,
  ];
  for (let d = FAR_DECADES[0]; d <= FAR_DECADES[1]; d++) {
    const gx = x(10 ** d);
    out.push(
      `<line x1="${gx}" y1="${PLOT.top}" x2="${gx}" y2="${PLOT.top + PLOT.height}" stroke="#ddd"/>`,
      `<text x="${gx}" y="${PLOT.top + PLOT.height + 18}" text-anchor="middle">1e${d}</text>`,
    );
  }
  const step = (1 - tarFloor) / 6;
  for (let k = 0; k <= 6; k++) {
    const t = tarFloor + k * step;
    out.push(
      `<line x1="${PLOT.left}" y1="${y(t)}" x2="${PLOT.left + PLOT.width}" y2="${y(t)}" stroke="#ddd"/>`,
      `<text x="${PLOT.left - 8}" y="${y(t) + 4}" text-anchor="end">${(t * 100).toFixed(1)}%</text>`,
    );
  }
  out.push(
    `<rect x="${PLOT.left}" y="${PLOT.top}" width="${PLOT.width}" height="${PLOT.height}" fill="none" stroke="#333"/>`,
    `<text x="${PLOT.left + PLOT.width / 2}" y="${H - 35}" text-anchor="middle">false-accept rate (pairs of different people, log scale)</text>`,
    `<text transform="translate(22 ${PLOT.top + PLOT.height / 2}) rotate(-90)" text-anchor="middle">true-accept rate (same-person pairs)</text>`,
  );
  for (const c of curves) {
    const pts = c.points.filter(([f]) => f > 0).map(([f, t]) => `${x(f).toFixed(1)},${y(t).toFixed(1)}`);
    out.push(
      `<polyline points="${pts.join(' ')}" fill="none" stroke="${c.colour}" stroke-width="2.2" clip-path="url(#plot)"/>`,
    );
    out.push(`<circle cx="${x(c.shipped.far)}" cy="${y(c.shipped.tar)}" r="5" fill="${c.colour}" stroke="black"/>`);
  }
  const lx = PLOT.left + PLOT.width + 30;
  let ly = PLOT.top + 10;
  out.push(`<text x="${lx}" y="${ly}" font-weight="bold">curves (dot: shipped threshold)</text>`);
  for (const c of curves) {
    ly += 24;
    out.push(
      `<line x1="${lx}" y1="${ly - 4}" x2="${lx + 28}" y2="${ly - 4}" stroke="${c.colour}" stroke-width="3"/>`,
      `<text x="${lx + 36}" y="${ly}">${esc(c.label)} @${c.shipped.threshold.toFixed(3)}</text>`,
    );
  }
  ly += 44;
  out.push(`<text x="${lx}" y="${ly}" font-weight="bold">LFW 10-fold accuracy</text>`);
  ly += 20;
  out.push(`<text x="${lx}" y="${ly}" fill="#555">ours: 5 dev folds; published: all 10 folds</text>`);
  for (const n of notes) {
    ly += 26;
    out.push(`<text x="${lx}" y="${ly}">${esc(n.label)}</text>`);
    ly += 18;
    out.push(`<text x="${lx + 12}" y="${ly}">ours: ${esc(n.ours)}</text>`);
    ly += 18;
    out.push(`<text x="${lx + 12}" y="${ly}">published: ${esc(n.published)}</text>`);
  }
  out.push('</svg>');
  return out.join('\n');
}

export async function writeRocPng(file: string, svg: string): Promise<void> {
  await sharp(Buffer.from(svg)).png({ compressionLevel: 9, palette: true }).toFile(file);
}
