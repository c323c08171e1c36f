// A small HTTP client for fault tests: every call has a deadline (a hang is a failure, not a
// stuck suite), and every answer is checked to be either a success body or the error envelope (docs/api.md).
import assert from 'node:assert/strict';

export const CROPS = '/api/attendance/face-crops/';
export const BATCH = `${CROPS}generate-embeddings-batch/`;
export const generatePath = (id: number | string) => `${CROPS}${id}/generate-embedding/`;

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  /** Parsed JSON body, or undefined when the body is not JSON. */
  json: unknown;
  ms: number;
}

export interface CallOptions {
  json?: unknown;
  /** A raw body (with its content type in headers). */
  body?: string | Buffer;
  form?: FormData;
  headers?: Record<string, string>;
  timeoutMs?: number;
}

export interface ErrorBody {
  type: string;
  message: string;
  details?: Record<string, unknown>;
}

export class Api {
  constructor(
    readonly baseUrl: string,
    private readonly defaults: Record<string, string> = {},
  ) {}

  async call(method: string, path: string, opts: CallOptions = {}): Promise<Reply> {
    const headers: Record<string, string> = { ...this.defaults, ...opts.headers };
    let body: RequestInit['body'];
    if (opts.json !== undefined) {
      headers['content-type'] ??= 'application/json';
      body = JSON.stringify(opts.json);
    } else if (opts.body !== undefined) {
      body = typeof opts.body === 'string' ? opts.body : new Uint8Array(opts.body);
    } else if (opts.form) {
      body = opts.form;
    }
    const started = performance.now();
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers,
      body,
      signal: AbortSignal.timeout(opts.timeoutMs ?? 60_000),
    });
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, headers: res.headers, text, json, ms: performance.now() - started };
  }

  post(path: string, json?: unknown, opts: Omit<CallOptions, 'json'> = {}): Promise<Reply> {
    return this.call('POST', path, { ...opts, ...(json === undefined ? {} : { json }) });
  }

  get(path: string, opts: CallOptions = {}): Promise<Reply> {
    return this.call('GET', path, opts);
  }

  /** POST /face-crops/ with JSON {image_path}; asserts 201 and returns the id. */
  async register(imagePath: string): Promise<number> {
    const r = await this.post(CROPS, { image_path: imagePath });
    assert.equal(r.status, 201, r.text);
    return (r.json as { id: number }).id;
  }

  upload(filename: string, data: Buffer, field = 'image', type = 'application/octet-stream'): Promise<Reply> {
    const form = new FormData();
    form.append(field, new Blob([new Uint8Array(data)], { type }), filename);
    return this.call('POST', CROPS, { form });
  }
}

/** The error envelope (docs/api.md "Errors"), asserted: {"error": {"type", "message", "details"?}, "request_id"}. */
export function envelope(r: Reply): ErrorBody {
  const body = r.json as { error?: ErrorBody; request_id?: unknown } | undefined;
  assert.ok(
    body && typeof body === 'object' && body.error,
    `not an error envelope (${r.status}): ${r.text.slice(0, 300)}`,
  );
  assert.equal(typeof body.error.type, 'string', r.text);
  assert.equal(typeof body.error.message, 'string', r.text);
  assert.equal(typeof body.request_id, 'string', r.text);
  assert.equal(body.request_id, r.headers.get('x-request-id'), 'request_id is the X-Request-ID header');
  return body.error;
}

/** Asserts status and error type; returns the error. */
export function expectError(r: Reply, status: number, type: string): ErrorBody {
  assert.equal(r.status, status, `expected ${status} ${type}, got ${r.status}: ${r.text.slice(0, 300)}`);
  const e = envelope(r);
  assert.equal(e.type, type, r.text.slice(0, 300));
  return e;
}

export interface EmbeddingBody {
  face_crop_id: number;
  model_name: string;
  model_version: string;
  dimensions: number;
  embedding: number[];
  regenerated: boolean;
}

/** A 200 generate answer with a finite vector of the stated length. */
export function expectEmbedding(r: Reply, dimensions?: number): EmbeddingBody {
  assert.equal(r.status, 200, r.text.slice(0, 300));
  const body = r.json as EmbeddingBody;
  assert.equal(body.embedding.length, body.dimensions);
  if (dimensions !== undefined) assert.equal(body.dimensions, dimensions);
  assert.ok(body.embedding.every(Number.isFinite));
  return body;
}

/** "200" or "<status> <ErrorType>", after checking the body is one of the two allowed shapes. */
export function outcome(r: Reply): string {
  if (r.status >= 200 && r.status < 300) {
    assert.ok(
      r.json && typeof r.json === 'object' && !('error' in r.json),
      `success without a JSON body: ${r.text.slice(0, 200)}`,
    );
    return String(r.status);
  }
  return `${r.status} ${envelope(r).type}`;
}

export function cosine(a: readonly number[], b: readonly number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! ** 2;
    nb += b[i]! ** 2;
  }
  return dot / Math.sqrt(na * nb);
}
