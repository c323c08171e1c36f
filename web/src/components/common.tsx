// Small building blocks shared by the pages: links that use the router, the error notice,
// and a loader hook that keeps data, error and a reload function together.
import { useCallback, useEffect, useState, type MouseEvent, type ReactNode } from 'react';
import { ApiError } from '../api/client';
import { navigate } from '../router';

export function Link({ to, children, className }: { to: string; children: ReactNode; className?: string }) {
  const onClick = (e: MouseEvent<HTMLAnchorElement>) => {
    if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
    e.preventDefault();
    navigate(to);
  };
  return (
    <a href={to} onClick={onClick} className={className}>
      {children}
    </a>
  );
}

/** The envelope's type and message; anything else thrown shows its message. */
export function ErrorNotice({ error, onDismiss }: { error: unknown; onDismiss?: () => void }) {
  if (!error) return null;
  const type = error instanceof ApiError ? error.type : 'Error';
  const message = error instanceof Error ? error.message : String(error);
  return (
    <div className="error" role="alert">
      <strong className="error-type">{type}</strong> <span className="error-message">{message}</span>
      {onDismiss && (
        <button type="button" className="link" onClick={onDismiss} aria-label="Dismiss error">
          ×
        </button>
      )}
    </div>
  );
}

export interface Loaded<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => Promise<void>;
  setData: (value: T) => void;
}

export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<unknown>();
  const [loading, setLoading] = useState(true);
  const run = useCallback(load, deps);
  const reload = useCallback(async () => {
    setLoading(true);
    try {
      setData(await run());
      setError(undefined);
    } catch (err) {
      setError(err);
    } finally {
      setLoading(false);
    }
  }, [run]);
  useEffect(() => {
    void reload();
  }, [reload]);
  return { data, error, loading, reload, setData };
}

/** Runs an action, keeping its error for display and a busy flag for the button. */
export function useAction(): {
  busy: boolean;
  error: unknown;
  clear: () => void;
  run: (fn: () => Promise<unknown>) => Promise<boolean>;
} {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const run = useCallback(async (fn: () => Promise<unknown>) => {
    setBusy(true);
    setError(undefined);
    try {
      await fn();
      return true;
    } catch (err) {
      setError(err);
      return false;
    } finally {
      setBusy(false);
    }
  }, []);
  return { busy, error, clear: () => setError(undefined), run };
}

export const percent = (value: number | null | undefined): string =>
  value === null || value === undefined ? '–' : value.toFixed(3);
