// Security headers on every answer (docs/api.md "Security headers"). The web app is a Vite
// build: its scripts and styles are files of its own origin, images of faces come as blob:
// URLs (fetched with the key) and the favicon is a data: URL, so its policy allows exactly
// those. API answers (JSON, CSV, images) run nothing: `default-src 'none'`. /docs (the OpenAPI
// UI) keeps to its own origin but needs inline styles and its initialiser script.
import type { FastifyInstance } from 'fastify';

const WEB_APP_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const DOCS_CSP = [
  "default-src 'self'",
  "script-src 'self' 'unsafe-inline'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "object-src 'none'",
  "base-uri 'self'",
  "frame-ancestors 'none'",
].join('; ');

const API_CSP = "default-src 'none'; frame-ancestors 'none'";

const COMMON: Readonly<Record<string, string>> = Object.freeze({
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), payment=(), usb=()',
});

const SERVER_PATHS = /^\/+(api|healthz|readyz|metrics|openapi\.json)(\/|$)/i;

/**
 * By path, not by Content-Type: a revalidated index.html comes back as a 304 without one, and
 * the browser keeps the 304's policy for the cached page.
 */
function policyFor(url: string): string {
  const path = url.split('?', 1)[0] ?? '/';
  if (/^\/+docs(\/|$)/i.test(path)) return DOCS_CSP;
  return SERVER_PATHS.test(path) ? API_CSP : WEB_APP_CSP;
}

export function installSecurityHeaders(app: FastifyInstance): void {
  app.addHook('onSend', async (request, reply, payload) => {
    reply.headers(COMMON);
    if (!reply.hasHeader('Content-Security-Policy')) reply.header('Content-Security-Policy', policyFor(request.url));
    return payload;
  });
}
