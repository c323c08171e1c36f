// One model's gallery: every enrolment face (face crop id -> person id) with its embedding,
// searchable by person. The store answers exactly in float32; past `hnswMinFaces` faces an HNSW
// graph proposes candidates, which the store rescores, its rows then rounded to float16 (by
// default: half the memory, scores within FLOAT16_SIMILARITY_BOUND). A group-filtered search
// scans only that group's faces. Persons are scored by domain/person-score.ts (the rule and the
// measurements that chose it).
import os from 'node:os';
import { personScore } from '../domain/person-score.js';
import { ExactIndex, type StorePrecision } from './exact-index.js';
import { HNSW_DEFAULTS, HnswIndex, type HnswOptions } from './hnsw-index.js';
import type { SearchHit } from './vector-index.js';

export interface GalleryOptions {
  /** Faces from which on the HNSW graph is used for unfiltered searches. */
  hnswMinFaces?: number;
  hnsw?: HnswOptions;
  /**
   * The store's rows once the graph is built: f16 (default) halves the store, the largest part of
   * a 1M gallery after the graph, at a score error of at most FLOAT16_SIMILARITY_BOUND (4.9e-4).
   */
  graphStore?: StorePrecision;
}

export interface PersonMatch {
  personId: number;
  /** The person's score (personScore over their enrolment faces). */
  similarity: number;
  /** Their enrolment face most similar to the probe. */
  faceCropId: number;
}

export interface GallerySearchOptions {
  topK: number;
  /** Only these persons (a group's members). */
  personIds?: Iterable<number>;
  /** Graph candidates (ef) rescored from the store; default the gallery's hnsw.expansionSearch. */
  expansion?: number;
}

/**
 * Exact search grows linearly (docs/identification.md, 128-D faces: p50 2.5-9.7 ms at 100k faces,
 * 22 ms at 1M on the shared 2 cores), so it stays near 10 ms to about 200k faces with recall 1 and
 * no graph to build; past that the graph (1.2-1.9 ms at 100k, 7.3 ms at 1M, recall@1 1) is worth
 * its build time (29 min for 1M under that load) and its memory.
 */
export const DEFAULT_HNSW_MIN_FACES = 200_000;
/** The store's rows beside a graph (GalleryOptions.graphStore). */
export const DEFAULT_GRAPH_STORE: StorePrecision = 'f16';
/** Faces fetched per wanted person, so that persons with several faces still fill top k. */
const FACES_PER_PERSON = 4;
/** Candidates fetched from the graph per face wanted, at least, rescored from the store. */
const HNSW_OVERFETCH = 4;

export class Gallery {
  readonly store: ExactIndex;
  private graph: HnswIndex | undefined;
  private readonly hnswMinFaces: number;
  /** Inside bulk(): the graph is built once at the end, with every thread, not node by node. */
  private deferGraph = false;

  constructor(
    readonly dimensions: number,
    private readonly opts: GalleryOptions = {},
  ) {
    this.store = new ExactIndex(dimensions);
    this.hnswMinFaces = opts.hnswMinFaces ?? DEFAULT_HNSW_MIN_FACES;
  }

  /** Adds or replaces one enrolment face. */
  add(faceCropId: number, personId: number, embedding: Float32Array): void {
    // The store labels each face with its person; the graph replaces a face it has.
    this.store.add(faceCropId, embedding, personId);
    if (this.deferGraph) return;
    if (this.graph) this.graph.add(faceCropId, embedding);
    else if (this.store.size() >= this.hnswMinFaces) this.buildGraph();
  }

  /** Many changes at once (loading from the database): the graph is (re)built once afterwards. */
  bulk(fill: () => void): void {
    this.beginBulk();
    try {
      fill();
    } finally {
      this.endBulk();
    }
  }

  beginBulk(): void {
    this.deferGraph = true;
  }

  endBulk(): void {
    this.deferGraph = false;
    if (this.store.size() >= this.hnswMinFaces || this.graph) this.buildGraph();
  }

  removeFace(faceCropId: number): boolean {
    if (!this.store.remove(faceCropId)) return false;
    this.graph?.remove(faceCropId);
    return true;
  }

  /** Removes every face of the person; how many there were. */
  removePerson(personId: number): number {
    const faces = this.personFaces(personId);
    for (const f of faces) this.removeFace(f);
    return faces.length;
  }

  /** The person's enrolment faces (face crop ids). */
  personFaces(personId: number): number[] {
    return this.store.keysOf(personId);
  }

  search(query: Float32Array, opts: GallerySearchOptions): PersonMatch[] {
    const wantFaces = Math.max(1, opts.topK) * FACES_PER_PERSON;
    let hits: SearchHit[];
    if (opts.personIds !== undefined) {
      hits = this.store.searchAmong(query, wantFaces, this.facesAmong(opts.personIds));
    } else if (this.graph) {
      const candidates = this.graph.search(query, this.graphCandidates(opts.topK, opts.expansion)).map((h) => h.key);
      hits = this.store.rescore(query, candidates).slice(0, wantFaces);
    } else {
      hits = this.store.search(query, wantFaces);
    }
    return this.scorePersons(query, hits, opts.topK);
  }

  /**
   * Graph hits rescored from the store for a top-k search: usearch's beam is max(ef, k) wide
   * anyway, so taking all of it costs only the rescoring.
   */
  graphCandidates(topK: number, expansion?: number): number {
    const ef = expansion ?? this.opts.hnsw?.expansionSearch ?? HNSW_DEFAULTS.expansionSearch;
    return Math.max(Math.max(1, topK) * FACES_PER_PERSON * HNSW_OVERFETCH, ef);
  }

  faceCount(): number {
    return this.store.size();
  }

  personCount(): number {
    return this.store.labelCount();
  }

  usesGraph(): boolean {
    return this.graph !== undefined;
  }

  memoryBytes(): number {
    return this.store.memoryBytes() + (this.graph?.memoryBytes() ?? 0);
  }

  private *facesAmong(personIds: Iterable<number>): Iterable<number> {
    for (const p of personIds) yield* this.store.keysOf(p);
  }

  /** The persons behind the hits, each scored over all of their faces, best first. */
  private scorePersons(query: Float32Array, hits: SearchHit[], topK: number): PersonMatch[] {
    const persons = new Set<number>();
    for (const h of hits) {
      const personId = this.store.labelOf(h.key);
      if (personId !== undefined) persons.add(personId);
    }
    const matches: PersonMatch[] = [];
    for (const personId of persons) {
      const faces = this.store.rescore(query, this.personFaces(personId));
      matches.push({ personId, similarity: personScore(faces.map((f) => f.similarity))!, faceCropId: faces[0]!.key });
    }
    return matches.sort((a, b) => b.similarity - a.similarity).slice(0, topK);
  }

  private buildGraph(): void {
    if ((this.opts.graphStore ?? DEFAULT_GRAPH_STORE) === 'f16') this.store.toFloat16();
    const graph = new HnswIndex(this.dimensions, { threads: os.availableParallelism(), ...this.opts.hnsw });
    // Straight from the store's rows, a chunk at a time: a copy of them was a second float32 gallery.
    for (const { keys, vectors } of this.store.allRows()) graph.addMany(keys, vectors);
    this.graph = graph;
  }
}
