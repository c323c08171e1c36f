// The reference: face-api (@vladmandic/face-api on tfjs-wasm, its Node build) doing its whole
// pipeline per photo: detector (Tiny YOLO or SSD MobileNet), 68 landmarks, 128-D descriptor,
// on the same photos, decoded the way our worker decodes them (sharp, at most 1024 px side).
// tfjs-wasm in Node is single-threaded and blocks this process while it runs.
import { createRequire } from 'node:module';
import path from 'node:path';
import sharp from 'sharp';
import { load1, quantile, round } from './common.js';

const require = createRequire(import.meta.url);

export interface FaceapiRow {
  detector: 'tiny' | 'ssd';
  photos: number;
  /** Photos where face-api found a face (and so computed a descriptor). */
  found: number;
  seconds: number;
  facesPerSecond: number;
  msPerPhoto: { p50: number; p95: number };
  load: number;
}

export interface FaceapiResult {
  backend: string;
  rows: FaceapiRow[];
}

export async function faceapiPipelines(
  photos: readonly string[],
  detectors: readonly ('tiny' | 'ssd')[],
): Promise<FaceapiResult> {
  // Dev dependencies: imported only when this part runs.
  const tf = await import('@tensorflow/tfjs');
  const { setWasmPaths } = await import('@tensorflow/tfjs-backend-wasm');
  const faceapi = await import('@vladmandic/face-api/dist/face-api.node-wasm.js');
  const modelDir = path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'model');
  // The trailing slash matters: the wasm file names are appended to this prefix.
  setWasmPaths(`${path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'))}/dist/`);
  await tf.setBackend('wasm');
  await tf.ready();
  await faceapi.nets.faceLandmark68Net.loadFromDisk(modelDir);
  await faceapi.nets.faceRecognitionNet.loadFromDisk(modelDir);
  if (detectors.includes('tiny')) await faceapi.nets.tinyFaceDetector.loadFromDisk(modelDir);
  if (detectors.includes('ssd')) await faceapi.nets.ssdMobilenetv1.loadFromDisk(modelDir);

  const one = async (file: string, detector: 'tiny' | 'ssd'): Promise<boolean> => {
    const { data, info } = await sharp(file)
      .rotate()
      .resize(1024, 1024, { fit: 'inside', withoutEnlargement: true, kernel: 'linear', fastShrinkOnLoad: true })
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    const input = tf.tensor3d(data, [info.height, info.width, 3], 'int32');
    try {
      const options = detector === 'tiny' ? new faceapi.TinyFaceDetectorOptions() : new faceapi.SsdMobilenetv1Options();
      const result = await faceapi
        .detectSingleFace(input as unknown as Parameters<typeof faceapi.detectSingleFace>[0], options)
        .withFaceLandmarks()
        .withFaceDescriptor();
      return result !== undefined;
    } finally {
      input.dispose();
    }
  };

  const rows: FaceapiRow[] = [];
  for (const detector of detectors) {
    for (const file of photos.slice(0, 3)) await one(file, detector);
    const ms: number[] = [];
    let found = 0;
    const t0 = performance.now();
    for (const file of photos) {
      const t = performance.now();
      if (await one(file, detector)) found++;
      ms.push(performance.now() - t);
    }
    const seconds = (performance.now() - t0) / 1000;
    rows.push({
      detector,
      photos: photos.length,
      found,
      seconds: round(seconds, 3),
      facesPerSecond: round(photos.length / seconds, 2),
      msPerPhoto: {
        p50: round(quantile(ms, 0.5)),
        p95: round(quantile(ms, 0.95)),
      },
      load: load1(),
    });
  }
  const backend = `tfjs-${tf.getBackend()} ${tf.version.tfjs}`;
  for (const net of [
    faceapi.nets.tinyFaceDetector,
    faceapi.nets.ssdMobilenetv1,
    faceapi.nets.faceLandmark68Net,
    faceapi.nets.faceRecognitionNet,
  ]) {
    if (net.isLoaded) net.dispose();
  }
  return { backend, rows };
}
