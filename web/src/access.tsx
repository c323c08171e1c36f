// What the key in use may do (GET me/): its name and role, shown in the header, and `useCan`
// for pages to offer only the actions the server would allow. Until the answer is in, nothing
// that changes data is offered. The server decides in the end (403 ForbiddenError).
import { createContext, useContext } from 'react';

export interface Me {
  name: string;
  role: 'admin' | 'teacher' | 'reader';
  /** A teacher's or reader's groups; null for an admin (every group). */
  groups: number[] | null;
  max_job_items: number | null;
}

export const MeContext = createContext<Me | null>(null);

export const useMe = (): Me | null => useContext(MeContext);

export function useCan(): { write: boolean; admin: boolean } {
  const me = useMe();
  return { write: me !== null && me.role !== 'reader', admin: me?.role === 'admin' };
}
