// The benchmark's scoring: which person each detected face of a class photo really is (the
// placed labelled face it overlaps, else a background face), and a session's answers scored
// against that truth: members found, absent members marked present, faces given to a wrong
// member (by kind), matches flagged for review, and faces left unknown (by kind).
import type { Box } from './class-scene.js';
import { iou } from './class-scene.js';

/** A member of the roster, a stranger never enrolled, or an unlabelled face at the edge of a photo. */
export type Truth = { kind: 'member' | 'stranger'; identity: string } | { kind: 'background' };

/** Overlap a detected face needs with a placed face to be that face. */
export const TRUTH_IOU = 0.3;

/** The truth of each detected face (by face crop id), from the faces placed in the photo. */
export function labelFaces(
  detected: readonly { face_crop_id: number; box: readonly number[] }[],
  placed: readonly { identity: string; box: Box }[],
  roster: ReadonlySet<string>,
): Map<number, Truth> {
  const out = new Map<number, Truth>();
  for (const f of detected) {
    let best: { identity: string; o: number } | undefined;
    for (const p of placed) {
      const o = iou(p.box, f.box);
      if (o > (best?.o ?? 0)) best = { identity: p.identity, o };
    }
    out.set(
      f.face_crop_id,
      best && best.o >= TRUTH_IOU
        ? { kind: roster.has(best.identity) ? 'member' : 'stranger', identity: best.identity }
        : { kind: 'background' },
    );
  }
  return out;
}

/** What the service answered for a session: its attendance rows and every face of its photos. */
export interface SessionAnswer {
  attendance: readonly { person_id: number; status: string; face_crop_id: number | null }[];
  faces: readonly { face_crop_id: number; person_id: number | null; status: string }[];
  unknownFaceIds: readonly number[];
}

export interface Tally {
  sessions: number;
  /** Labelled faces placed (members present and strangers, every photo) and those detected. */
  labelledPlaced: number;
  labelledDetected: number;
  backgroundDetected: number;
  /** Roster members placed in the session and those whose row holds one of their faces. */
  present: number;
  found: number;
  absent: number;
  absentMarkedPresent: number;
  /** Faces answered as a member who they are not, by what the face really is. */
  memberAsOther: number;
  strangerAsMember: number;
  backgroundAsMember: number;
  /** Faces answered as a member, and those flagged for review. */
  matches: number;
  flagged: number;
  /** The session's unknown faces, by what they really are. */
  unknownMembers: number;
  /** Of those, faces of members the session matched by one of their own faces elsewhere. */
  unknownMembersSeen: number;
  unknownStrangers: number;
  unknownBackground: number;
}

export const emptyTally = (): Tally => ({
  sessions: 0,
  labelledPlaced: 0,
  labelledDetected: 0,
  backgroundDetected: 0,
  present: 0,
  found: 0,
  absent: 0,
  absentMarkedPresent: 0,
  memberAsOther: 0,
  strangerAsMember: 0,
  backgroundAsMember: 0,
  matches: 0,
  flagged: 0,
  unknownMembers: 0,
  unknownMembersSeen: 0,
  unknownStrangers: 0,
  unknownBackground: 0,
});

/** Faces given to a wrong member, all kinds. */
export const wrongFaces = (t: Tally): number => t.memberAsOther + t.strangerAsMember + t.backgroundAsMember;

/** Adds one session's answer to `t`. `present`: identities of the members placed; `labelledPlaced`: faces placed. */
export function tallySession(
  t: Tally,
  answer: SessionAnswer,
  truth: ReadonlyMap<number, Truth>,
  identityOf: ReadonlyMap<number, string>,
  present: ReadonlySet<string>,
  labelledPlaced: number,
): void {
  t.sessions++;
  t.labelledPlaced += labelledPlaced;
  const seen = new Set<string>();
  for (const f of answer.faces) {
    const real = truth.get(f.face_crop_id) ?? { kind: 'background' };
    if (real.kind === 'member' && f.person_id !== null && real.identity === identityOf.get(f.person_id))
      seen.add(real.identity);
    if (real.kind === 'background') t.backgroundDetected++;
    else t.labelledDetected++;
    if (f.person_id === null) continue;
    t.matches++;
    if (f.status === 'review') t.flagged++;
    if (real.kind === 'member' && real.identity !== identityOf.get(f.person_id)) t.memberAsOther++;
    if (real.kind === 'stranger') t.strangerAsMember++;
    if (real.kind === 'background') t.backgroundAsMember++;
  }
  for (const row of answer.attendance) {
    const who = identityOf.get(row.person_id);
    const here = who !== undefined && present.has(who);
    if (here) t.present++;
    else t.absent++;
    if (row.status !== 'present') continue;
    if (!here) t.absentMarkedPresent++;
    const face = row.face_crop_id === null ? undefined : truth.get(row.face_crop_id);
    if (here && face?.kind === 'member' && face.identity === who) t.found++;
  }
  for (const id of answer.unknownFaceIds) {
    const real = truth.get(id) ?? { kind: 'background' };
    if (real.kind === 'member') {
      t.unknownMembers++;
      if (seen.has(real.identity)) t.unknownMembersSeen++;
    } else if (real.kind === 'stranger') t.unknownStrangers++;
    else t.unknownBackground++;
  }
}

/** Sums tallies field by field. */
export function addTallies(into: Tally, more: Tally): Tally {
  for (const k of Object.keys(into) as (keyof Tally)[]) into[k] += more[k];
  return into;
}
