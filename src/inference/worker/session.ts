// The only module that imports onnxruntime-node. Sessions live in worker processes, never in the
// server: a native crash or leak (onnxruntime#25325) takes one recyclable worker down, not the API.
import * as ort from 'onnxruntime-node';

export interface SessionOptions {
  threads: number;
  /**
   * How long (microseconds) an idle intra-op thread spins for work before it sleeps; 0 never
   * spins; unset keeps onnxruntime's default. The default spins long enough that two sessions
   * run back to back (detector, then landmarks) slow each other about 2x on 2 cores.
   */
  spinMicros?: number;
}

export class OnnxSession {
  /** Milliseconds spent inside onnxruntime's run since load: a task's share is the difference across it. */
  runMs = 0;

  private constructor(
    private readonly session: ort.InferenceSession,
    readonly inputName: string,
    readonly outputName: string,
  ) {}

  /** Loads the file and checks, at load time rather than on the first request, that the input and output exist. */
  static async load(file: string, opts: SessionOptions, expect: { output?: string }): Promise<OnnxSession> {
    const session = await ort.InferenceSession.create(file, {
      intraOpNumThreads: opts.threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      // Warnings about unused initialisers etc. are noise in worker logs.
      logSeverityLevel: 3,
      ...(opts.spinMicros === undefined
        ? {}
        : {
            extra: {
              session: {
                intra_op:
                  opts.spinMicros > 0
                    ? { allow_spinning: '1', spin_duration_us: String(Math.round(opts.spinMicros)) }
                    : { allow_spinning: '0' },
              },
            },
          }),
    });
    const inputName = session.inputNames[0];
    const outputName = expect.output ?? session.outputNames[0];
    if (session.inputNames.length !== 1 || !inputName) {
      throw new Error(`${file}: expected one input, found [${session.inputNames.join(', ')}]`);
    }
    if (!outputName || !session.outputNames.includes(outputName)) {
      throw new Error(`${file}: no output "${String(outputName)}" (outputs: ${session.outputNames.join(', ')})`);
    }
    return new OnnxSession(session, inputName, outputName);
  }

  /** Runs one input tensor; returns the chosen output's data and dims. */
  async run(data: Float32Array, dims: readonly number[]): Promise<{ data: Float32Array; dims: readonly number[] }> {
    const feeds = { [this.inputName]: new ort.Tensor('float32', data, dims) };
    const started = performance.now();
    const result = await this.session.run(feeds, [this.outputName]);
    this.runMs += performance.now() - started;
    const out = result[this.outputName];
    if (!out || out.type !== 'float32') throw new Error(`Output ${this.outputName} is not float32`);
    return { data: out.data as Float32Array, dims: out.dims };
  }

  /** Every output, for models (detectors) whose outputs are all used. */
  async runAll(
    data: Float32Array,
    dims: readonly number[],
  ): Promise<Record<string, { data: Float32Array; dims: readonly number[] }>> {
    const feeds = { [this.inputName]: new ort.Tensor('float32', data, dims) };
    const started = performance.now();
    const result = await this.session.run(feeds);
    this.runMs += performance.now() - started;
    return Object.fromEntries(
      Object.entries(result).map(([k, t]) => [k, { data: t.data as Float32Array, dims: t.dims }]),
    );
  }

  /** The input's declared dims (symbolic dims as strings), or undefined when the file declares none. */
  inputShape(): readonly (number | string)[] | undefined {
    const meta = this.session.inputMetadata.find((m) => m.name === this.inputName);
    return meta?.isTensor && meta.shape.length ? meta.shape : undefined;
  }

  /** How many images one run takes: the input's declared batch when it is a number (e.g. a fixed 1), else any. */
  batchLimit(): number {
    const batch = this.inputShape()?.[0];
    return typeof batch === 'number' && batch > 0 ? batch : Infinity;
  }

  release(): Promise<void> {
    return this.session.release();
  }
}
