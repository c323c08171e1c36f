// The one way into a session for the services that read or change it: it must exist (404) and,
// for a change, be open (409); a change runs under the session's lock (the in-process queue and
// the database row lock, in one transaction), so concurrent changes give the result of
// sequential ones. Also the session's model, which every change re-solves with.
import type { ThresholdPolicy } from '../domain/face-threshold.js';
import { ConflictError, NotFoundError } from '../errors.js';
import type { AttendanceStore } from '../repositories/attendance-store.js';
import type { Session } from '../repositories/session.repository.js';
import type { EmbeddingPort, ModelInfo } from './embedding.types.js';
import { KeyedLock } from './keyed-lock.js';

export class SessionGate {
  private readonly lock = new KeyedLock<number>();

  constructor(
    private readonly deps: { store: AttendanceStore; embedder: Pick<EmbeddingPort, 'ready' | 'resolveModel'> },
  ) {}

  async find(id: number): Promise<Session> {
    const session = await this.deps.store.sessions.findById(id);
    if (!session) throw new NotFoundError(`Session ${id} not found`, { session_id: id });
    return session;
  }

  /** Refuses a missing (404) or closed (409) session. */
  async assertOpen(id: number): Promise<Session> {
    const session = await this.find(id);
    if (session.status !== 'open') throw closedError(id);
    return session;
  }

  /** The change under the session's lock, in one transaction; a missing or closed session refuses it. */
  change<T>(id: number, fn: (trx: AttendanceStore, session: Session) => Promise<T>): Promise<T> {
    return this.locked(id, (trx, session) => {
      if (session.status !== 'open') throw closedError(id);
      return fn(trx, session);
    });
  }

  /** Under the session's lock, in one transaction, open or closed; a missing session is NotFoundError. */
  locked<T>(id: number, fn: (trx: AttendanceStore, session: Session) => Promise<T>): Promise<T> {
    return this.lock.run(id, () =>
      this.deps.store.withSession(id, async (trx, session) => {
        if (!session) throw new NotFoundError(`Session ${id} not found`, { session_id: id });
        return fn(trx, session);
      }),
    );
  }

  /** The thresholds a reading of the session flags review by; a model since removed still reads (only the quality floor flags). */
  async readPolicy(session: Session): Promise<ThresholdPolicy> {
    try {
      return await this.model(session);
    } catch {
      return { threshold: Number.NEGATIVE_INFINITY };
    }
  }

  /** The session's model: its version and its thresholds (its own and, per face width, its small-face bands). */
  async model(session: Session): Promise<ModelInfo> {
    await this.deps.embedder.ready();
    return this.deps.embedder.resolveModel(session.modelName);
  }
}

const closedError = (id: number) =>
  new ConflictError(`Session ${id} is closed: it accepts no more changes`, { session_id: id });
