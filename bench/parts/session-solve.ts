// A session's automatic decisions recomputed from its stored faces and galleries: under another
// threshold policy (one threshold for every face), and greedy against the optimum assignment.
import { assignmentWeight, greedyAssignment, maxWeightAssignment } from '../../src/domain/assignment.js';
import { thresholdForFace } from '../../src/domain/face-threshold.js';
import type { AttendanceStore } from '../../src/repositories/attendance-store.js';
import type { ModelInfo } from '../../src/services/embedding.types.js';
import { gallerySimilarity, solveSession } from '../../src/services/session-matching.js';

/** The session's faces and its roster's galleries, each face with its threshold under the policy. */
async function sessionInputs(store: AttendanceStore, sessionId: number, model: ModelInfo, banded: boolean) {
  const session = (await store.sessions.findById(sessionId))!;
  const policy = banded ? model : { threshold: model.threshold };
  const faces = (await store.attendance.sessionFaces(sessionId, session.modelName)).map((f) => ({
    ...f,
    threshold: thresholdForFace(policy, f.box?.[2]),
  }));
  const memberIds = await store.groups.memberIds(session.groupId);
  const galleries = new Map<number, Float32Array[]>();
  for (const g of await store.attendance.galleries(memberIds, session.modelName))
    if (g.embedding) galleries.set(g.personId, [...(galleries.get(g.personId) ?? []), g.embedding]);
  return { faces, galleries, memberIds };
}

/** The session solved again from scratch under another threshold policy (what the product would have answered). */
export async function offlineSolve(store: AttendanceStore, sessionId: number, model: ModelInfo, banded: boolean) {
  const { faces, galleries, memberIds } = await sessionInputs(store, sessionId, model, banded);
  const rows = memberIds.map((personId, i) => ({
    id: i + 1,
    sessionId,
    personId,
    personName: '',
    status: 'absent' as const,
    source: 'auto' as const,
    similarity: null,
    faceCropId: null,
    updatedAt: '',
  }));
  const present = new Map(
    solveSession({ faces, galleries, rows, threshold: model.threshold }).map((d) => [d.row.personId, d.next]),
  );
  return memberIds.map((id) => ({
    person_id: id,
    status: present.get(id)?.status ?? 'absent',
    face_crop_id: present.get(id)?.faceCropId ?? null,
  }));
}

/** Would greedy-by-similarity have reached the same total as the Hungarian optimum (shipped policy)? */
export async function greedyEqualsOptimum(
  store: AttendanceStore,
  sessionId: number,
  model: ModelInfo,
): Promise<boolean> {
  const { faces, galleries, memberIds } = await sessionInputs(store, sessionId, model, true);
  const weights = faces.map((f) =>
    memberIds.map((id) => {
      const s = gallerySimilarity(f.embedding!, galleries.get(id));
      return s !== null && s >= f.threshold ? 1 + s : 0;
    }),
  );
  const best = assignmentWeight(weights, maxWeightAssignment(weights));
  return Math.abs(assignmentWeight(weights, greedyAssignment(weights)) - best) < 1e-9;
}
