// The one way the pages talk to the server: same-origin /api, the tab's API key as a bearer
// token, every failure turned into an ApiError carrying the envelope's type and message.
import type { ErrorBody } from './types';

const KEY_STORAGE = 'faceembed.apiKey';
export const API = '/api/attendance';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
    /** The error's details (e.g. an ambiguous enrolment photo's faces). */
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

type Listener = () => void;
const authListeners = new Set<Listener>();

/** Called when the server asks for a key (401): the app shows its key prompt. */
export function onAuthRequired(listener: Listener): () => void {
  authListeners.add(listener);
  return () => authListeners.delete(listener);
}

export const apiKey = {
  get: (): string | null => sessionStorage.getItem(KEY_STORAGE),
  set: (key: string) => sessionStorage.setItem(KEY_STORAGE, key),
  clear: () => sessionStorage.removeItem(KEY_STORAGE),
};

function authHeaders(): Record<string, string> {
  const key = apiKey.get();
  return key ? { Authorization: `Bearer ${key}` } : {};
}

/** The envelope's type and message, or a plain description when the body is not one. */
function toError(status: number, text: string): ApiError {
  try {
    const body = JSON.parse(text) as Partial<ErrorBody>;
    if (body.error?.type)
      return new ApiError(
        status,
        body.error.type,
        body.error.message ?? '',
        body.error.details as Record<string, unknown> | undefined,
      );
  } catch {
    // not JSON: fall through
  }
  return new ApiError(status, status === 0 ? 'NetworkError' : `HTTP ${status}`, text.slice(0, 200) || 'No response');
}

function failed(status: number, text: string): ApiError {
  const err = toError(status, text);
  if (status === 401) {
    apiKey.clear();
    for (const l of authListeners) l();
  }
  return err;
}

export async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path.startsWith('/') ? path : `${API}/${path}`, {
      method,
      headers: { ...authHeaders(), ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    throw new ApiError(0, 'NetworkError', (err as Error).message);
  }
  const text = await res.text();
  if (!res.ok) throw failed(res.status, text);
  return (text ? JSON.parse(text) : undefined) as T;
}

export const get = <T>(path: string) => request<T>('GET', path);
export const post = <T>(path: string, body?: unknown) => request<T>('POST', path, body ?? {});
export const put = <T>(path: string, body: unknown) => request<T>('PUT', path, body);
export const patch = <T>(path: string, body: unknown) => request<T>('PATCH', path, body);
export const del = (path: string) => request<void>('DELETE', path);

/** A blob (image, CSV) fetched with the key, since <img src> and <a href> cannot send it. */
export async function getBlob(path: string): Promise<Blob> {
  let res: Response;
  try {
    res = await fetch(path.startsWith('/') ? path : `${API}/${path}`, { headers: authHeaders() });
  } catch (err) {
    throw new ApiError(0, 'NetworkError', (err as Error).message);
  }
  if (!res.ok) throw failed(res.status, await res.text());
  return res.blob();
}

/**
 * A multipart upload with progress: fetch has no upload progress events, XMLHttpRequest does.
 * `onProgress` gets the fraction sent, 0..1.
 */
export function upload<T>(
  path: string,
  fields: Record<string, string | Blob>,
  onProgress?: (fraction: number) => void,
): Promise<T> {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  return new Promise<T>((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', path.startsWith('/') ? path : `${API}/${path}`);
    for (const [k, v] of Object.entries(authHeaders())) xhr.setRequestHeader(k, v);
    xhr.upload.addEventListener('progress', (e) => {
      if (e.lengthComputable) onProgress?.(e.loaded / e.total);
    });
    xhr.addEventListener('load', () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress?.(1);
        resolve((xhr.responseText ? JSON.parse(xhr.responseText) : undefined) as T);
      } else reject(failed(xhr.status, xhr.responseText));
    });
    xhr.addEventListener('error', () => reject(new ApiError(0, 'NetworkError', 'The upload did not reach the server')));
    xhr.send(form);
  });
}

/** Every page of a paginated list (the lists here are rosters: hundreds, not millions). */
export async function getAll<T>(path: string, pageSize = 500): Promise<T[]> {
  const out: T[] = [];
  for (let page = 1; ; page++) {
    const sep = path.includes('?') ? '&' : '?';
    const data = await get<{ count: number; results: T[] }>(`${path}${sep}page=${page}&page_size=${pageSize}`);
    out.push(...data.results);
    if (out.length >= data.count || data.results.length === 0) return out;
  }
}
