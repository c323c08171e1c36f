// The search galleries of this process, one per model (true name), each built from the
// database on first use (or at start) and kept current by the enrolment and deletion paths.
// Changes that arrive while a gallery loads are replayed on it once loaded, so none is lost.
import type { EmbeddingRepository } from '../repositories/embedding.repository.js';
import { Gallery, type GalleryOptions } from '../search/gallery.js';
import type { EmbeddingPort } from './embedding.types.js';

type Change =
  | { kind: 'add'; faceCropId: number; personId: number; embedding: Float32Array }
  | { kind: 'removeFace'; faceCropId: number }
  | { kind: 'removePerson'; personId: number };

interface Slot {
  modelVersion: string;
  gallery?: Gallery;
  loading: Promise<Gallery>;
  pending: Change[];
}

export interface GalleryStats {
  model: string;
  faces: number;
  persons: number;
  index: 'exact' | 'hnsw';
  bytes: number;
}

export class GalleryRegistry {
  private readonly slots = new Map<string, Slot>();

  constructor(
    private readonly deps: { embeddings: EmbeddingRepository; embedder: EmbeddingPort; options?: GalleryOptions },
  ) {}

  /** The gallery of a model (name or alias), loaded from the database the first time. */
  async gallery(modelName: string): Promise<Gallery> {
    await this.deps.embedder.ready();
    const model = this.deps.embedder.resolveModel(modelName);
    let slot = this.slots.get(model.name);
    if (!slot || slot.modelVersion !== model.version) {
      const fresh: Slot = { modelVersion: model.version, pending: [], loading: undefined as never };
      fresh.loading = this.load(model.name, model.version, model.dimensions, fresh);
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

  enrolled(modelName: string, faceCropId: number, personId: number, embedding: Float32Array): void {
    this.apply(this.deps.embedder.resolveModel(modelName).name, { kind: 'add', faceCropId, personId, embedding });
  }

  faceRemoved(faceCropId: number): void {
    for (const name of this.slots.keys()) this.apply(name, { kind: 'removeFace', faceCropId });
  }

  personRemoved(personId: number): void {
    for (const name of this.slots.keys()) this.apply(name, { kind: 'removePerson', personId });
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

  private apply(modelName: string, change: Change): void {
    const slot = this.slots.get(modelName);
    if (!slot) return; // not loaded: the database already holds the change
    if (slot.gallery) applyTo(slot.gallery, change);
    else slot.pending.push(change);
  }

  private async load(modelName: string, version: string, dimensions: number, slot: Slot): Promise<Gallery> {
    try {
      const gallery = new Gallery(dimensions, this.deps.options);
      gallery.beginBulk();
      for await (const page of this.deps.embeddings.listEnrolled(modelName, version)) {
        for (const row of page) gallery.add(row.faceCropId, row.personId, row.embedding);
      }
      for (const change of slot.pending.splice(0)) applyTo(gallery, change);
      gallery.endBulk();
      slot.gallery = gallery;
      return gallery;
    } catch (err) {
      // A failed load is retried by the next caller.
      if (this.slots.get(modelName) === slot) this.slots.delete(modelName);
      throw err;
    }
  }
}

function applyTo(gallery: Gallery, change: Change): void {
  if (change.kind === 'add') gallery.add(change.faceCropId, change.personId, change.embedding);
  else if (change.kind === 'removeFace') gallery.removeFace(change.faceCropId);
  else gallery.removePerson(change.personId);
}
