// Which integrity rule a failed write broke, read from the driver's error code (never the
// message): better-sqlite3 reports SQLITE_CONSTRAINT_*, pg the SQLSTATE.
const codeOf = (err: unknown): string | undefined => {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
};

export const isUniqueViolation = (err: unknown): boolean => {
  const code = codeOf(err);
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === '23505';
};

export const isForeignKeyViolation = (err: unknown): boolean => {
  const code = codeOf(err);
  return code === 'SQLITE_CONSTRAINT_FOREIGNKEY' || code === '23503';
};
