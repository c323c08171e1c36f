// face-api's own preprocessing for its recognition network: owned here, read by the registry
// (how a chip becomes the input tensor) and by the converter (what the ONNX input expects).
// face-api FaceRecognitionNet.forwardInput: `normalize(toBatchTensor(150, true), [122.782, 117.001, 104.298]).div(255)`
// (src/faceRecognitionNet/FaceRecognitionNet.ts, src/ops/normalize.ts).
export const FACEAPI_RECOGNITION_INPUT = {
  size: 150,
  layout: 'nhwc',
  mean: [122.782, 117.001, 104.298],
  std: [255, 255, 255],
} as const;
