// How a person with several enrolment faces scores against one probe face: the mean of their two
// most similar faces (their one face's similarity when they have one). Measured on deepface-unit
// (docs/identification.md): it equals the best face everywhere except arcface with two photos per
// person, where it accepted 1 of 9 stranger photos against 2 for the best face and 3 for the mean
// embedding. With it, a margin over the second person cut no further stranger, and a 0.05 margin
// cost facenet 2 of 43 true matches, so none is required.
export function personScore(similarities: Iterable<number>): number | null {
  let first = Number.NEGATIVE_INFINITY;
  let second = Number.NEGATIVE_INFINITY;
  for (const s of similarities) {
    if (s > first) [first, second] = [s, first];
    else if (s > second) second = s;
  }
  if (first === Number.NEGATIVE_INFINITY) return null;
  return second === Number.NEGATIVE_INFINITY ? first : (first + second) / 2;
}
