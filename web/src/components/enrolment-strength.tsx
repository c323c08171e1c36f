// How well a person is enrolled (the API's `enrolment`): a weak enrolment (no photo, one photo,
// or photos below the enrolment gate) is flagged wherever the person is listed.
import type { Person } from '../api/types';

const REASONS: Record<string, string> = {
  no_photos: 'no photo',
  one_photo: 'one photo',
  low_quality: 'low-quality photos',
};

export const weakReasons = (person: Person): string =>
  (person.enrolment?.reasons ?? []).map((r) => REASONS[r] ?? r).join(', ');

export function EnrolmentBadge({ person }: { person: Person }) {
  const e = person.enrolment;
  if (!e) return null;
  return e.strength === 'weak' ? (
    <span className="badge weak" title="Add photos of this person: several good photos make recognition reliable">
      weak: {weakReasons(person)}
    </span>
  ) : (
    <span className="badge ok">ok</span>
  );
}
