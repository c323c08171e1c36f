// The HTTP application: external plugins, then our own (errors, auth, metrics), then routes.
// buildApp does not own its dependencies: whoever opened the database and started the
// embedder closes them (after app.close()).
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { IncomingMessage } from 'node:http';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import multipart from '@fastify/multipart';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { Config } from '../config/config.js';
import { PACKAGE_VERSION } from '../config/version.js';
import type { Database } from '../repositories/database.js';
import type { EmbeddingPort } from '../services/embedding.types.js';
import type { EmbeddingObserver } from '../services/crop-embedding.service.js';
import type { FaceCropService } from '../services/face-crop.service.js';
import type { SessionService } from '../services/session.service.js';
import type { AccessService } from '../services/access.service.js';
import type { ClusterService } from '../services/cluster.service.js';
import type { JobService } from '../services/job.service.js';
import { installJobMetrics } from './plugins/job-metrics.js';
import { jobRoutes } from './routes/jobs/index.js';
import type { GalleryRegistry } from '../services/gallery.registry.js';
import type { GroupService } from '../services/group.service.js';
import type { IdentificationService } from '../services/identification.service.js';
import type { PersonService } from '../services/person.service.js';
import { installAccess } from './plugins/access.js';
import type { ConsentService } from '../services/consent.service.js';
import type { ErasureService } from '../services/erasure.service.js';
import type { RetentionService } from '../services/retention.service.js';
import { retentionRoutes } from './routes/retention/index.js';
import { installAuth } from './plugins/auth.js';
import { installErrorHandler, RequestError } from './plugins/error-handler.js';
import { installGalleryMetrics } from './plugins/gallery-metrics.js';
import { installMetrics } from './plugins/metrics.js';
import { installWebApp, WEB_APP_ROOT } from './plugins/web-app.js';
import { installSecurityHeaders } from './plugins/security-headers.js';
import { installJsonParser } from './json-body.js';
import { pathRedactor } from './redact-paths.js';
import { faceCropRoutes } from './routes/face-crops/index.js';
import { groupRoutes } from './routes/groups/index.js';
import { identifyRoutes } from './routes/identify/index.js';
import { personRoutes } from './routes/persons/index.js';
import { auditRoutes } from './routes/audit/index.js';
import { healthRoutes } from './routes/health/index.js';
import { meRoutes } from './routes/me/index.js';
import { sessionRoutes } from './routes/sessions/index.js';
import { unknownClusterRoutes } from './routes/unknown-clusters/index.js';
import { similarityRoutes } from './routes/similarity/index.js';
import { validatorCompiler } from './validation.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route reads multipart/form-data itself; every other route takes JSON only. */
    multipart?: boolean;
  }
}

/** The services the routes call; built by the composition root (main.ts createServices). */
export interface AppServices {
  faceCrops: FaceCropService;
  persons: PersonService;
  groups: GroupService;
  identification: IdentificationService;
  /** The search galleries (one per model), reported in /metrics. */
  galleries: GalleryRegistry;
  sessions: SessionService;
  clusters: ClusterService;
  /** Key roles and group scopes (every /api route declares what it touches). */
  access: AccessService;
  /** Biometric data: erasure, consent, retention (docs/privacy.md). */
  erasure: ErasureService;
  consent: ConsentService;
  retention: RetentionService;
}

export interface AppDeps {
  config: Config;
  /** Only for /readyz: the routes reach storage through the services. */
  db: Database;
  embedder: EmbeddingPort;
  /** Builds the services, given the app's metrics observer. */
  services: (observer: EmbeddingObserver) => AppServices;
  /** A pino logger; by default one at config.logLevel writing JSON to stdout. */
  logger?: FastifyBaseLogger;
  /** Shown in the OpenAPI document; default the package's version. */
  version?: string;
  /** Long work (jobs/ routes, `"async": true` batches); without it those answer 503. */
  jobs?: JobService;
}

/** JSON request bodies (the largest is a 1000-id batch, ~12 KB). Uploads have their own cap. */
const JSON_BODY_LIMIT = 256 * 1024;

const BODYLESS_METHODS = new Set(['GET', 'HEAD', 'DELETE', 'OPTIONS']);

/** A caller's X-Request-ID is kept when it is short and plain; otherwise a fresh UUID. */
function requestId(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && /^[\w.:-]{1,128}$/.test(given) ? given : randomUUID();
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config, db, embedder } = deps;
  const app = Fastify({
    ...(deps.logger ? { loggerInstance: deps.logger } : { logger: { level: config.logLevel } }),
    genReqId: requestId,
    bodyLimit: JSON_BODY_LIMIT,
    routerOptions: { ignoreTrailingSlash: true },
  }) as unknown as FastifyInstance;

  app.setValidatorCompiler(validatorCompiler);
  installErrorHandler(app, {
    exposeTraceback: config.logLevel === 'debug' || config.logLevel === 'trace',
    redact: pathRedactor(config.mediaRoot, [config.modelsDir, path.resolve(WEB_APP_ROOT, '..', '..')]),
  });
  // Only JSON (depth-limited) and (for uploads) multipart are accepted; anything else is 415.
  app.removeContentTypeParser('text/plain');
  installJsonParser(app);
  await app.register(multipart, {
    limits: {
      // One byte over the cap reaches the storage, which answers ImageTooLargeError itself.
      fileSize: config.image.maxBytes + 1,
      files: 1,
      fields: 10,
      fieldSize: 1024,
      parts: 12,
      headerPairs: 100,
    },
  });
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'faceembed',
        description: 'Face embeddings for attendance systems. Reference with examples: docs/api.md in the repository.',
        version: deps.version ?? PACKAGE_VERSION,
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  const metrics = installMetrics(app, embedder);
  installAuth(app, config.http.apiKeys, config.http.authFailures);
  // server.close() only drops connections idle at that moment; a keep-alive connection that
  // answers during close would otherwise hold app.close() for keepAliveTimeout (72 s).
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  installSecurityHeaders(app);
  app.addHook('onSend', async (request, reply) => {
    reply.header('X-Request-ID', request.id);
    if (closing) reply.header('Connection', 'close');
  });
  // DELETE and GET ignore an empty body whatever its Content-Type, as Django REST Framework does:
  // clients that always send `Content-Type: application/json` must not get "Body cannot be empty".
  app.addHook('onRequest', async (request) => {
    const h = request.headers;
    const empty =
      h['transfer-encoding'] === undefined && (h['content-length'] === undefined || h['content-length'] === '0');
    if (empty && BODYLESS_METHODS.has(request.method)) delete h['content-type'];
  });
  app.addHook('preValidation', async (request) => {
    if (request.isMultipart() && !request.routeOptions.config.multipart) {
      throw new RequestError(415, 'Unsupported Content-Type: this endpoint accepts application/json');
    }
  });

  const services = deps.services(metrics.observeEmbedding);
  installAccess(app, services.access, { teacherMaxJobItems: config.jobs.teacherMaxItems });
  const service = services.faceCrops;
  installGalleryMetrics(metrics.registry, services.galleries);
  await app.register(healthRoutes, { db, embedder });
  await app.register(faceCropRoutes, { prefix: '/api/attendance/face-crops', service, jobs: deps.jobs });
  await app.register(jobRoutes, { prefix: '/api/attendance/jobs', jobs: deps.jobs });
  if (deps.jobs) installJobMetrics(metrics.registry, deps.jobs);
  await app.register(similarityRoutes, { prefix: '/api/attendance/similarity', service });
  await app.register(personRoutes, {
    prefix: '/api/attendance/persons',
    persons: services.persons,
    faceCrops: service,
    erasure: services.erasure,
    consent: services.consent,
  });
  await app.register(retentionRoutes, {
    prefix: '/api/attendance/retention',
    retention: services.retention,
    jobs: deps.jobs,
  });
  await app.register(groupRoutes, { prefix: '/api/attendance/groups', groups: services.groups });
  await app.register(unknownClusterRoutes, { prefix: '/api/attendance/groups', clusters: services.clusters });
  await app.register(identifyRoutes, {
    prefix: '/api/attendance/identify',
    identification: services.identification,
    faceCrops: service,
  });
  await app.register(sessionRoutes, {
    prefix: '/api/attendance/sessions',
    sessions: services.sessions,
    jobs: deps.jobs,
  });
  await app.register(auditRoutes, { prefix: '/api/attendance/audit', sessions: services.sessions });
  await app.register(meRoutes, { prefix: '/api/attendance/me', teacherMaxJobItems: config.jobs.teacherMaxItems });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  await installWebApp(app);
  return app;
}
