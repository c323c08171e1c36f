// Consent to biometric processing, per person (docs/privacy.md): granted, withdrawn
// or unknown, by whom, when, on what basis; every change audited (action `consent`). With
// FACEEMBED_REQUIRE_CONSENT=true a person without `granted` cannot be enrolled (ConflictError)
// and their faces are never matched (the galleries and session matching read only consented
// persons' faces: repositories MatchScope). Withdrawal erases their biometric data at once.
import { ConflictError, NotFoundError } from '../errors.js';
import type { ConsentStatus } from '../repositories/database.js';
import type { Person } from '../repositories/person.repository.js';
import type { PrivacyRepository } from '../repositories/privacy.repository.js';
import type { ErasureReceipt, ErasureService } from './erasure.service.js';
import type { GalleryRegistry } from './gallery.registry.js';

/** Asked before anything is enrolled for a person (PersonService, clusters, session assignment, face crops). */
export interface EnrolmentGate {
  /** ConflictError when the person may not be enrolled: consent withdrawn, or required and not granted. */
  assertMayEnrol(personId: number): Promise<void>;
  /** ConflictError when consent is required: a person created now has none on record. */
  assertMayEnrolNew(): void;
}

export interface ConsentChange {
  status: ConsentStatus;
  /** Who gave or withdrew it (a guardian, the school office); default the caller. */
  by?: string | null;
  /** On what basis: a signed form's reference, a legal ground. */
  basis?: string | null;
}

export interface ConsentServiceDeps {
  privacy: PrivacyRepository;
  erasure: Pick<ErasureService, 'erase'>;
  galleries: Pick<GalleryRegistry, 'changed'>;
  requireConsent: boolean;
}

export class ConsentService implements EnrolmentGate {
  constructor(private readonly deps: ConsentServiceDeps) {}

  get required(): boolean {
    return this.deps.requireConsent;
  }

  async set(
    personId: number,
    change: ConsentChange,
    actor: string,
  ): Promise<{ person: Person; erasure?: ErasureReceipt }> {
    const { privacy, erasure, galleries } = this.deps;
    const before = await privacy.persons.findById(personId);
    if (!before) throw new NotFoundError(`Person ${personId} not found`, { person_id: personId });
    const person = (await privacy.persons.setConsent(personId, {
      status: change.status,
      by: change.by ?? actor,
      basis: change.basis ?? null,
    }))!;
    await privacy.audit.append([
      {
        actor,
        action: 'consent',
        sessionId: null,
        personId,
        personName: person.name,
        faceCropId: null,
        before: { status: before.consent.status, by: before.consent.by, basis: before.consent.basis },
        after: { status: person.consent.status, by: person.consent.by, basis: person.consent.basis },
        note: null,
      },
    ]);
    if (change.status === 'withdrawn') {
      const receipt = await erasure.erase(personId, 'biometric', actor);
      return { person: (await privacy.persons.findById(personId))!, erasure: receipt };
    }
    // Whether their faces may be matched may have changed: the galleries re-read the person.
    if (this.deps.requireConsent) await galleries.changed({ personId });
    return { person };
  }

  async assertMayEnrol(personId: number): Promise<void> {
    const person = await this.deps.privacy.persons.findById(personId);
    // A missing person is the caller's own NotFoundError/ValidationError to give.
    if (!person || person.consent.status === 'granted') return;
    // A withdrawal stands whether consent is required or not: no enrolment until it is granted again.
    if (!this.deps.requireConsent && person.consent.status !== 'withdrawn') return;
    throw new ConflictError(
      `Person ${personId} has no granted consent (status ${person.consent.status}); record it first (PUT persons/${personId}/consent/)`,
      { person_id: personId, consent: person.consent.status },
    );
  }

  assertMayEnrolNew(): void {
    if (!this.deps.requireConsent) return;
    throw new ConflictError(
      'Consent is required before enrolment: create the person, record their consent (PUT persons/{id}/consent/), then enrol',
      { consent: 'unknown' },
    );
  }
}
