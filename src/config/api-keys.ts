// API keys (docs/api.md "Keys and roles"): FACEEMBED_API_KEYS (`KEY` or `NAME:KEY`, admins) and
// FACEEMBED_API_KEYS_FILE (JSON entries with a role and, for teachers and readers, their groups).
// Only the SHA-256 digest of a key is kept: the file may give the digest alone, so the key
// itself never has to sit on the server's disk.
import { createHash } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

export const ROLES = ['admin', 'teacher', 'reader'] as const;
export type Role = (typeof ROLES)[number];

export interface ApiKey {
  /** The caller's identity in logs and the audit trail. */
  name: string;
  role: Role;
  /** The groups a teacher or reader key reaches; empty for an admin key (it reaches everything). */
  groups: readonly number[];
  /** Lower-case hex SHA-256 of the key. */
  sha256: string;
}

export const sha256Hex = (key: string): string => createHash('sha256').update(key, 'utf8').digest('hex');

const KeyFileEntry = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100 }),
    key: Type.Optional(Type.String({ minLength: 1 })),
    key_sha256: Type.Optional(Type.String({ pattern: '^[0-9a-fA-F]{64}$' })),
    role: Type.Union(ROLES.map((r) => Type.Literal(r))),
    groups: Type.Optional(Type.Array(Type.Integer({ minimum: 1, maximum: 2_147_483_647 }), { uniqueItems: true })),
  },
  { additionalProperties: false },
);
const KeyFile = Type.Array(KeyFileEntry);

/** FACEEMBED_API_KEYS: every key is an admin; a bare key is named after its position (`key-1`). */
export function parseEnvKeys(raw: string, problems: string[]): ApiKey[] {
  const entries = raw
    .split(',')
    .map((k) => k.trim())
    .filter(Boolean);
  return entries.map((entry, i) => {
    const colon = entry.indexOf(':');
    const name = colon < 0 ? `key-${i + 1}` : entry.slice(0, colon).trim();
    const key = colon < 0 ? entry : entry.slice(colon + 1).trim();
    if (!name || !key) problems.push(`FACEEMBED_API_KEYS entry ${i + 1} must be KEY or NAME:KEY`);
    return { name, role: 'admin' as const, groups: [], sha256: sha256Hex(key) };
  });
}

/** The text of FACEEMBED_API_KEYS_FILE; `where` names the file in problems. */
export function parseKeyFile(text: string, where: string, problems: string[]): ApiKey[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    problems.push(`FACEEMBED_API_KEYS_FILE ${where}: not JSON (${(err as Error).message})`);
    return [];
  }
  if (!Value.Check(KeyFile, data)) {
    for (const e of Value.Errors(KeyFile, data))
      problems.push(`FACEEMBED_API_KEYS_FILE ${where}${e.path || '/'}: ${e.message}`);
    return [];
  }
  return data.flatMap((entry: Static<typeof KeyFileEntry>, i) => {
    const at = `FACEEMBED_API_KEYS_FILE ${where} entry ${i + 1} (${entry.name})`;
    const given = (entry.key === undefined ? 0 : 1) + (entry.key_sha256 === undefined ? 0 : 1);
    if (given !== 1) problems.push(`${at}: give exactly one of "key" and "key_sha256"`);
    const groups = entry.groups ?? [];
    if (entry.role === 'admin' && groups.length)
      problems.push(`${at}: an admin key reaches every group; drop "groups"`);
    if (entry.role !== 'admin' && !groups.length)
      problems.push(`${at}: a ${entry.role} key needs "groups" (the group ids it may reach)`);
    if (given !== 1) return [];
    const sha256 = entry.key_sha256?.toLowerCase() ?? sha256Hex(entry.key!);
    return [{ name: entry.name, role: entry.role, groups, sha256 }];
  });
}

/** Names and keys must be unique across both sources. */
export function checkUnique(keys: readonly ApiKey[], problems: string[]): void {
  const twice = (values: string[]) => [...new Set(values.filter((v, i) => values.indexOf(v) !== i))];
  const names = twice(keys.map((k) => k.name));
  if (names.length) problems.push(`FACEEMBED_API_KEYS names must be unique (${names.join(', ')})`);
  if (twice(keys.map((k) => k.sha256)).length) problems.push('FACEEMBED_API_KEYS: the same key is given twice');
}
