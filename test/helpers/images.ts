// Small images made by the tests themselves.
import sharp from 'sharp';

/** A width x height PNG of one RGB colour. */
export function encodePng(width: number, height: number, rgb: number[]): Promise<Buffer> {
  const [r = 0, g = 0, b = 0] = rgb;
  return sharp({ create: { width, height, channels: 3, background: { r, g, b } } })
    .png()
    .toBuffer();
}
