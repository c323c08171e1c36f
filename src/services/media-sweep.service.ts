// Files that outlive their rows, found and removed. The sweep (server start, then every
// FACEEMBED_MEDIA_SWEEP_INTERVAL_S) deletes .part files and files in the service's folders that
// no row owns, once older than the grace period: a file written for rows not yet committed (a
// class photo in progress) is young and stays. `faceembed fsck` reports both directions: files
// no row owns, and rows whose file is gone.
import type { MediaOwnerRepository } from '../repositories/media-owner.repository.js';
import type { MediaStorage, StoredFileEntry } from '../repositories/media-storage.js';

export interface SweepResult {
  /** .part files removed. */
  parts: number;
  /** Stored files no row owned, removed. */
  orphans: number;
  /** Unowned files left because they are younger than the grace period. */
  young: number;
}

export interface FsckReport {
  /** Files in the service's folders no row owns (relative to the media root). */
  orphanFiles: string[];
  /** Paths rows name whose file does not exist. */
  missingFiles: string[];
}

export interface MediaSweepDeps {
  storage: MediaStorage;
  owners: MediaOwnerRepository;
}

export class MediaSweepService {
  constructor(private readonly deps: MediaSweepDeps) {}

  /** Removes .part files and unowned files older than `graceMs`. */
  async sweep(graceMs: number, now = Date.now()): Promise<SweepResult> {
    const result: SweepResult = { parts: 0, orphans: 0, young: 0 };
    for (const file of await this.unowned()) {
      if (now - file.mtimeMs < graceMs) {
        result.young++;
        continue;
      }
      await this.deps.storage.removeUpload(file.relPath);
      if (file.part) result.parts++;
      else result.orphans++;
    }
    return result;
  }

  /** Both directions; only files at least `minAgeMs` old count as orphans. */
  async check(minAgeMs = 0, now = Date.now()): Promise<FsckReport> {
    const orphanFiles = (await this.unowned()).filter((f) => now - f.mtimeMs >= minAgeMs).map((f) => f.relPath);
    const missingFiles: string[] = [];
    for (const relPath of await this.deps.owners.rowPaths()) {
      const present = await this.deps.storage.exists(relPath).catch(() => false);
      if (!present) missingFiles.push(relPath);
    }
    return { orphanFiles, missingFiles };
  }

  /** Deletes the orphan files a check found; the paths removed. */
  async removeOrphans(report: FsckReport): Promise<string[]> {
    const removed: string[] = [];
    for (const relPath of report.orphanFiles) if (await this.deps.storage.removeUpload(relPath)) removed.push(relPath);
    return removed;
  }

  /** Service files no row owns (a .part file never is). */
  private async unowned(): Promise<StoredFileEntry[]> {
    const files = await this.deps.storage.listServiceFiles();
    const owned = await this.deps.owners.owned(files.filter((f) => !f.part).map((f) => f.relPath));
    return files.filter((f) => f.part || !owned.has(f.relPath));
  }
}
