// Search-gallery figures per model, read at scrape time: faces, persons, bytes held, and
// which index answers (0 exact, 1 HNSW).
import { Gauge, type Registry } from 'prom-client';
import type { GalleryRegistry } from '../../services/gallery.registry.js';

export function installGalleryMetrics(registry: Registry, galleries: GalleryRegistry): void {
  const registers = [registry];
  const gauge = (name: string, help: string, pick: (s: ReturnType<GalleryRegistry['stats']>[number]) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['model'] as const,
      registers,
      collect() {
        this.reset();
        for (const s of galleries.stats()) this.set({ model: s.model }, pick(s));
      },
    });
  gauge('faceembed_gallery_faces', 'Enrolment faces in the search gallery', (s) => s.faces);
  gauge('faceembed_gallery_persons', 'Persons with at least one enrolment face', (s) => s.persons);
  gauge('faceembed_gallery_memory_bytes', 'Bytes held by the search gallery (vectors, graph, maps)', (s) => s.bytes);
  gauge('faceembed_gallery_hnsw', '1 when the HNSW graph answers unfiltered searches, 0 for exact search', (s) =>
    s.index === 'hnsw' ? 1 : 0,
  );
}
