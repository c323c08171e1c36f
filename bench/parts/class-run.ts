// One class through the HTTP app at one face-size band: a session, a first class photo (every
// present member and stranger; scored as a one-photo session), then a second photo of the same
// people (other photos of them where there are, else the same photo at another place and size;
// scored as the two-photo session). Every upload is timed from POST to its answer.
import path from 'node:path';
import { thresholdForFace, type ThresholdPolicy } from '../../src/domain/face-threshold.js';
import { iou, shuffle } from './class-scene.js';
import { cpuWindow } from './common.js';
import { emptyTally, labelFaces, tallySession, type Tally, type Truth } from './attendance-tally.js';
import { json, postImage, type App } from './in-process-app.js';
import type { ReviewCase } from './review-rules.js';
import { composeRoom, type Room, type RoomSource, type RoomTile } from './room-scene.js';
import type { EnrolledMember } from './roster-enrolment.js';

export interface Band {
  name: string;
  widths: { min: number; max: number };
  quality: number;
}

export interface ClassSetup {
  name: string;
  groupId: number;
  members: EnrolledMember[];
  strangers: { identity: string; photos: RoomSource[] }[];
  identityOf: Map<number, string>;
}

export interface Upload {
  seconds: number;
  faces: number;
  /** CPU seconds this process and its workers spent meanwhile, and other processes' cores in use. */
  cpuSeconds: number;
  otherCores: number;
  /** The networks' own time over upload to answer. */
  efficiency: number;
}

export interface BandRun {
  single: Tally;
  double: Tally;
  /** Every automatic match of the two-photo session, for the review rule. */
  cases: ReviewCase[];
  uploads: Upload[];
  truth: Map<number, Truth>;
}

interface ViewFace {
  face_crop_id: number;
  box: [number, number, number, number];
  person_id: number | null;
  similarity: number | null;
  status: string;
  width_px: number | null;
  sharpness: number | null;
  yaw: number | null;
  roll: number | null;
}

interface SessionBody {
  id: number;
  attendance: { person_id: number; status: string; face_crop_id: number | null }[];
  photos: { faces: ViewFace[] }[];
  unknown_faces: { face_crop_id: number }[];
}

/** `present` members and `strangers` of the class (counts), chosen at random for this session. */
export async function runClassBand(
  app: App,
  setup: ClassSetup,
  band: Band,
  counts: { present: number; strangers: number },
  policy: ThresholdPolicy,
  rand: () => number,
  networkSeconds: () => number,
): Promise<BandRun> {
  const members = shuffle(setup.members, rand).slice(0, counts.present);
  const strangers = shuffle(setup.strangers, rand).slice(0, counts.strangers);
  const present = new Set(members.map((m) => m.identity));
  const roster = new Set(setup.members.map((m) => m.identity));
  const width = () => band.widths.min + rand() * (band.widths.max - band.widths.min);
  const tiles = (shot: number): RoomTile[] =>
    [...members.map((m) => m.classPhotos), ...strangers.map((s) => s.photos)].map((photos) => ({
      source: photos[shot % photos.length]!,
      faceWidth: width(),
    }));

  const session = await json<{ id: number }>(app, 'POST', '/api/attendance/sessions/', { group_id: setup.groupId });
  const truth = new Map<number, Truth>();
  const origin = new Map<number, string>();
  const uploads: Upload[] = [];
  const out: Partial<BandRun> = {};
  for (const shot of [0, 1]) {
    const room = await composeRoom(tiles(shot), band.quality, rand);
    const started = performance.now();
    const cpu = cpuWindow();
    const network0 = networkSeconds();
    const res = await postImage(app, `/api/attendance/sessions/${session.id}/photos/`, room.jpeg);
    const seconds = (performance.now() - started) / 1000;
    const share = cpu();
    if (res.status !== 201) throw new Error(`photo upload: ${res.status} ${JSON.stringify(res.body)}`);
    const faces = (res.body as { faces: { face_crop_id: number; box: number[] }[] }).faces;
    uploads.push({
      seconds,
      faces: faces.length,
      cpuSeconds: share.ownCores * seconds,
      otherCores: share.otherCores,
      efficiency: (networkSeconds() - network0) / seconds,
    });
    for (const [id, t] of labelFaces(faces, room.faces, roster)) truth.set(id, t);
    for (const f of faces) origin.set(f.face_crop_id, sourceOf(f.box, room));

    const view = await json<SessionBody>(app, 'GET', `/api/attendance/sessions/${session.id}/`);
    const tally = emptyTally();
    const allFaces = view.photos.flatMap((p) => p.faces);
    tallySession(
      tally,
      { attendance: view.attendance, faces: allFaces, unknownFaceIds: view.unknown_faces.map((f) => f.face_crop_id) },
      truth,
      setup.identityOf,
      present,
      room.faces.length * (shot + 1),
    );
    logWrongAnswers(`${setup.name}, ${band.name}, photo ${shot + 1}`, allFaces, truth, origin, setup.identityOf);
    if (shot === 0) out.single = tally;
    else {
      out.double = tally;
      out.cases = reviewCases(allFaces, truth, setup.identityOf, policy);
    }
  }
  return { ...(out as Pick<BandRun, 'single' | 'double' | 'cases'>), uploads, truth };
}

/** The source photo a detected face came from (its tile), for reading the wrong answers. */
function sourceOf(box: readonly number[], room: Room): string {
  const all = [...room.faces, ...room.background];
  const best = all.map((f) => ({ f, o: iou(f.box, box) })).sort((a, b) => b.o - a.o)[0];
  return best && best.o > 0 ? path.basename(best.f.file) : 'no tile';
}

/** Faces answered as a member they are not, on stderr (not in the report): which photo, whom, how close. */
function logWrongAnswers(
  where: string,
  faces: readonly ViewFace[],
  truth: ReadonlyMap<number, Truth>,
  origin: ReadonlyMap<number, string>,
  identityOf: ReadonlyMap<number, string>,
): void {
  for (const f of faces) {
    if (f.person_id === null) continue;
    const real = truth.get(f.face_crop_id);
    const as = identityOf.get(f.person_id);
    if (real?.kind === 'member' && real.identity === as) continue;
    const who = real?.kind === 'background' || !real ? 'background face' : `${real.kind} ${real.identity}`;
    process.stderr.write(
      `wrong: ${where}: ${who} (from ${origin.get(f.face_crop_id)}, ${Math.round(f.box[2])} px) answered as ${as} (similarity ${f.similarity?.toFixed(3)}, ${f.status})\n`,
    );
  }
}

/** Every face answered as a member, with what the review rule needs and whether it was right. */
function reviewCases(
  faces: readonly ViewFace[],
  truth: ReadonlyMap<number, Truth>,
  identityOf: ReadonlyMap<number, string>,
  policy: ThresholdPolicy,
): ReviewCase[] {
  return faces
    .filter((f) => f.person_id !== null && f.similarity !== null)
    .map((f) => {
      const real = truth.get(f.face_crop_id);
      return {
        correct: real?.kind === 'member' && real.identity === identityOf.get(f.person_id!),
        similarity: f.similarity!,
        threshold: thresholdForFace(policy, f.box[2]),
        quality: { widthPx: f.width_px, sharpness: f.sharpness, yaw: f.yaw, roll: f.roll },
        flagged: f.status === 'review',
      };
    });
}

/** Faces of the group's unknown-face clusters that are in fact members, and how many members. */
export async function membersInClusters(
  app: App,
  groupId: number,
  truth: ReadonlyMap<number, Truth>,
): Promise<{ faces: number; members: number; clusters: number }> {
  const body = await json<{ clusters: { face_crop_ids: number[] }[] }>(
    app,
    'GET',
    `/api/attendance/groups/${groupId}/unknown-clusters/`,
  );
  const who = new Set<string>();
  let faces = 0;
  for (const c of body.clusters)
    for (const id of c.face_crop_ids) {
      const t = truth.get(id);
      if (t?.kind !== 'member') continue;
      faces++;
      who.add(t.identity);
    }
  return { faces, members: who.size, clusters: body.clusters.length };
}
