// The attendance CSV (docs/api.md "Attendance sessions": its header), RFC 4180. Every text cell
// is quoted, and no part of one can start a formula: a spreadsheet in a semicolon locale splits
// `x;=1+1` at the `;` whatever the quotes, and some trim a leading space, so at the start of
// the cell and after every separator (, ; | tab CR LF) the first non-space character, if it is
// one of = + - @ tab CR, gets a quote mark before it (OWASP "CSV injection").
import type { AttendanceRow } from '../../../repositories/attendance.repository.js';

export const CSV_HEADER = 'person_id,external_id,name,status,source,similarity,face_crop_id';

const SEPARATORS = new Set([',', ';', '|', '\t', '\r', '\n']);
const FORMULA_START = new Set(['=', '+', '-', '@', '\t', '\r']);

/** `text` with a `'` before every character that could open a formula in some spreadsheet. */
export function defuseFormulas(text: string): string {
  let out = '';
  let segmentStart = true;
  for (const c of text) {
    if (segmentStart && FORMULA_START.has(c)) out += "'";
    out += c;
    if (SEPARATORS.has(c)) segmentStart = true;
    else if (c !== ' ') segmentStart = false;
  }
  return out;
}

export function csvCell(value: string | number | null): string {
  if (value === null) return '';
  if (typeof value === 'number') return String(value);
  return `"${defuseFormulas(value).replace(/"/g, '""')}"`;
}

export function attendanceCsv(rows: readonly (AttendanceRow & { externalId: string | null })[]): string {
  const lines = rows.map((r) =>
    [r.personId, r.externalId, r.personName, r.status, r.source, r.similarity, r.faceCropId].map(csvCell).join(','),
  );
  return [CSV_HEADER, ...lines].join('\r\n') + '\r\n';
}
