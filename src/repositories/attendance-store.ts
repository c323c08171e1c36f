// Everything a session's write touches, bound to one database handle, and the one way to
// change a session: inside a transaction that holds the session's row lock, so that writers on
// other connections or processes (PostgreSQL) wait for each other. In SQLite the one
// connection already runs one transaction at a time.
import { AttendanceRepository } from './attendance.repository.js';
import { AuditRepository } from './audit.repository.js';
import { ClusterRepository } from './cluster.repository.js';
import type { Database } from './database.js';
import { EmbeddingRepository, type MatchScope } from './embedding.repository.js';
import { FaceCropRepository } from './face-crop.repository.js';
import { GroupRepository } from './group.repository.js';
import { MediaOwnerRepository } from './media-owner.repository.js';
import { PersonRepository } from './person.repository.js';
import { SessionMatchRepository } from './session-match.repository.js';
import { SessionRepository, type Session } from './session.repository.js';

export class AttendanceStore {
  readonly sessions: SessionRepository;
  readonly attendance: AttendanceRepository;
  readonly audit: AuditRepository;
  readonly crops: FaceCropRepository;
  readonly embeddings: EmbeddingRepository;
  readonly groups: GroupRepository;
  readonly persons: PersonRepository;
  readonly clusters: ClusterRepository;
  readonly matches: SessionMatchRepository;
  readonly media: MediaOwnerRepository;

  constructor(
    private readonly db: Database,
    private readonly scope: MatchScope = {},
  ) {
    this.sessions = new SessionRepository(db);
    this.attendance = new AttendanceRepository(db, scope);
    this.audit = new AuditRepository(db);
    this.crops = new FaceCropRepository(db);
    this.embeddings = new EmbeddingRepository(db, scope);
    this.groups = new GroupRepository(db);
    this.persons = new PersonRepository(db);
    this.clusters = new ClusterRepository(db);
    this.matches = new SessionMatchRepository(db);
    this.media = new MediaOwnerRepository(db);
  }

  /** Runs `fn` in a transaction: all of its writes or none. */
  transaction<T>(fn: (store: AttendanceStore) => Promise<T>): Promise<T> {
    return this.db.transaction().execute((trx) => fn(new AttendanceStore(trx, this.scope)));
  }

  /**
   * Runs `fn` in a transaction holding the session's lock; all of its writes or none. `fn` is
   * given the session as locked, or undefined when there is none.
   */
  withSession<T>(
    sessionId: number,
    fn: (store: AttendanceStore, session: Session | undefined) => Promise<T>,
  ): Promise<T> {
    return this.db.transaction().execute(async (trx) => {
      const store = new AttendanceStore(trx, this.scope);
      return fn(store, await store.sessions.lock(sessionId));
    });
  }
}
