// The attendance CSV (docs/api.md "Attendance sessions": its header), RFC 4180 quoting. A cell
// that a spreadsheet would run as a formula (=, +, -, @ first) is prefixed with a quote mark, as
// OWASP advises for exports.
import type { AttendanceRow } from '../../../repositories/attendance.repository.js';

export const CSV_HEADER = 'person_id,external_id,name,status,source,similarity,face_crop_id';

function cell(value: string | number | null): string {
  if (value === null) return '';
  let text = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function attendanceCsv(rows: readonly (AttendanceRow & { externalId: string | null })[]): string {
  const lines = rows.map((r) =>
    [r.personId, r.externalId, r.personName, r.status, r.source, r.similarity, r.faceCropId].map(cell).join(','),
  );
  return [CSV_HEADER, ...lines].join('\r\n') + '\r\n';
}
