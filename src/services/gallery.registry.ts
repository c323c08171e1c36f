// The search galleries of this process, one per model (true name), each built from the
// database on first use (or at start), and the one owner of how they stay current (issue 15,
// item 4). A change to enrolment faces is told here as ids once it is in the database; every
// loaded gallery re-reads those faces (or that person's) and takes what the database now says.
// The change bus carries the same ids to the other processes on the database, whose galleries do
// the same. Re-reads run one at a time, in arrival order, each after its gallery has loaded:
// whatever the interleaving of local and remote changes, the last re-read of a face wins, and it
// saw the last committed state.
import type { Logger } from '../logging/logger.js';
import type { EmbeddingRepository, EnrolledEmbedding } from '../repositories/embedding.repository.js';
import { Gallery, type GalleryOptions } from '../search/gallery.js';
import { MAX_IDS_PER_EVENT, type ChangeBus, type ChangeEvent } from './change-bus.js';
import type { EmbeddingPort } from './embedding.types.js';

/** What changed: these face crops (enrolled, un-enrolled, re-embedded, deleted), or anything of this person. */
export interface FacesChange {
  personId?: number;
  faceCropIds?: readonly number[];
}

interface Slot {
  modelName: string;
  modelVersion: string;
  gallery?: Gallery;
  loading: Promise<Gallery>;
}

/** How long close() waits for sends still under way (a bus that is down must not hold up shutdown). */
const CLOSE_SEND_WAIT_MS = 2000;

export interface GalleryStats {
  model: string;
  faces: number;
  persons: number;
  index: 'exact' | 'hnsw';
  bytes: number;
}

export interface GalleryRegistryDeps {
  embeddings: EmbeddingRepository;
  embedder: EmbeddingPort;
  options?: GalleryOptions;
  /** Other processes on the same database (servers, worker nodes, CLI commands); absent: this process only. */
  bus?: ChangeBus;
  log?: Logger;
}

export class GalleryRegistry {
  private readonly slots = new Map<string, Slot>();
  /** The re-reads, one after the other. */
  private rereads: Promise<void> = Promise.resolve();
  /** The bus sends, one after the other. */
  private sends: Promise<void> = Promise.resolve();
  private readonly unsubscribe: () => void;

  constructor(private readonly deps: GalleryRegistryDeps) {
    const bus = deps.bus;
    // Our own events were re-read when we told them (changed()); only the others' are news here.
    this.unsubscribe = bus?.subscribe((e) => void this.fromBus(e, bus.origin)) ?? (() => undefined);
  }

  /** The gallery of a model (name or alias), loaded from the database the first time. */
  async gallery(modelName: string): Promise<Gallery> {
    await this.deps.embedder.ready();
    const model = this.deps.embedder.resolveModel(modelName);
    let slot = this.slots.get(model.name);
    if (!slot || slot.modelVersion !== model.version) {
      const fresh: Slot = { modelName: model.name, modelVersion: model.version, loading: undefined as never };
      fresh.loading = this.load(fresh, model.dimensions);
      this.slots.set(model.name, fresh);
      slot = fresh;
    }
    return slot.gallery ?? slot.loading;
  }

  /** Loads every model's gallery (at server start). */
  async loadAll(): Promise<void> {
    await this.deps.embedder.ready();
    for (const m of this.deps.embedder.models()) await this.gallery(m.name);
  }

  /**
   * Enrolment faces changed in the database (committed). Resolves once this process's galleries
   * have taken the change (the next identify here sees it); the other processes are told on the
   * bus without waiting for it (a bus that is down must not hold up enrolment). Never rejects:
   * the change itself is done, and a gallery that cannot re-read is dropped and loaded again on
   * its next use.
   */
  async changed(change: FacesChange): Promise<void> {
    const faceCropIds = [...new Set(change.faceCropIds ?? [])];
    if (change.personId === undefined && faceCropIds.length === 0) return;
    this.publish(change.personId, faceCropIds);
    await this.reread({ personId: change.personId, faceCropIds });
  }

  stats(): GalleryStats[] {
    const out: GalleryStats[] = [];
    for (const [model, slot] of this.slots) {
      const g = slot.gallery;
      if (!g) continue;
      out.push({
        model,
        faces: g.faceCount(),
        persons: g.personCount(),
        index: g.usesGraph() ? 'hnsw' : 'exact',
        bytes: g.memoryBytes(),
      });
    }
    return out;
  }

  /** Stops listening, waits for the re-reads under way and (briefly) for the sends (before the bus and database close). */
  async close(): Promise<void> {
    this.unsubscribe();
    await this.rereads;
    let timer: NodeJS.Timeout | undefined;
    const bounded = new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_SEND_WAIT_MS).unref()));
    await Promise.race([this.sends, bounded]);
    clearTimeout(timer);
  }

  private fromBus(event: ChangeEvent, ownOrigin: string): Promise<void> {
    if (event.origin === ownOrigin) return Promise.resolve();
    return this.reread({ personId: event.personId, faceCropIds: event.faceCropIds ?? [] });
  }

  /** The ids in events of bounded size, sent in order; a failed send is logged (the database already holds the change). */
  private publish(personId: number | undefined, faceCropIds: readonly number[]): void {
    const bus = this.deps.bus;
    if (!bus) return;
    const events: Parameters<ChangeBus['publish']>[0][] = [];
    if (personId !== undefined) events.push({ type: 'enrolment-faces-changed', personId });
    for (let i = 0; i < faceCropIds.length; i += MAX_IDS_PER_EVENT)
      events.push({ type: 'enrolment-faces-changed', faceCropIds: faceCropIds.slice(i, i + MAX_IDS_PER_EVENT) });
    this.sends = this.sends.then(async () => {
      for (const event of events) {
        try {
          await bus.publish(event);
        } catch (err) {
          this.deps.log?.warn(
            { err, bus: bus.name, personId, faces: faceCropIds.length },
            'enrolment change not sent to the other processes: their galleries miss it until they reload',
          );
        }
      }
    });
  }

  private reread(change: { personId?: number; faceCropIds: readonly number[] }): Promise<void> {
    const run = this.rereads.then(async () => {
      for (const slot of [...this.slots.values()]) await this.rereadSlot(slot, change);
    });
    this.rereads = run.catch(() => undefined);
    return this.rereads;
  }

  private async rereadSlot(slot: Slot, change: { personId?: number; faceCropIds: readonly number[] }): Promise<void> {
    let gallery: Gallery;
    try {
      gallery = await slot.loading;
    } catch {
      return; // the failed load is retried by the next caller, from the database
    }
    if (this.slots.get(slot.modelName) !== slot) return; // replaced (new model version): loaded afresh
    const { embeddings } = this.deps;
    try {
      if (change.personId !== undefined) {
        const rows = await embeddings.findEnrolled(slot.modelName, slot.modelVersion, { personId: change.personId });
        const kept = new Set(rows.map((r) => r.faceCropId));
        for (const f of gallery.personFaces(change.personId)) if (!kept.has(f)) gallery.removeFace(f);
        addAll(gallery, rows);
      }
      for (let i = 0; i < change.faceCropIds.length; i += MAX_IDS_PER_EVENT) {
        const ids = change.faceCropIds.slice(i, i + MAX_IDS_PER_EVENT);
        const rows = await embeddings.findEnrolled(slot.modelName, slot.modelVersion, { faceCropIds: ids });
        const enrolled = new Set(rows.map((r) => r.faceCropId));
        for (const id of ids) if (!enrolled.has(id)) gallery.removeFace(id);
        addAll(gallery, rows);
      }
    } catch (err) {
      // A gallery that missed a change must not answer: the next use loads it again.
      if (this.slots.get(slot.modelName) === slot) this.slots.delete(slot.modelName);
      this.deps.log?.warn({ err, model: slot.modelName }, 'gallery could not re-read changed faces; reloading it');
    }
  }

  private async load(slot: Slot, dimensions: number): Promise<Gallery> {
    try {
      const gallery = new Gallery(dimensions, this.deps.options);
      gallery.beginBulk();
      for await (const page of this.deps.embeddings.listEnrolled(slot.modelName, slot.modelVersion)) {
        for (const row of page) gallery.add(row.faceCropId, row.personId, row.embedding);
      }
      gallery.endBulk();
      slot.gallery = gallery;
      return gallery;
    } catch (err) {
      // A failed load is retried by the next caller.
      if (this.slots.get(slot.modelName) === slot) this.slots.delete(slot.modelName);
      throw err;
    }
  }
}

function addAll(gallery: Gallery, rows: readonly EnrolledEmbedding[]): void {
  for (const r of rows) gallery.add(r.faceCropId, r.personId, r.embedding);
}
