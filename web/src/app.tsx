// The shell: navigation, the page for the current path, and the API key prompt on 401.
import { useEffect, useState, type ReactNode } from 'react';
import { get, onAuthRequired } from './api/client';
import { MeContext, type Me } from './access';
import { Link } from './components/common';
import { ErrorBoundary } from './components/error-boundary';
import { KeyPrompt } from './components/key-prompt';
import { GroupPage } from './pages/group-page';
import { GroupsPage } from './pages/groups-page';
import { PersonPage } from './pages/person-page';
import { PersonsPage } from './pages/persons-page';
import { SessionPage } from './pages/session-page';
import { SessionsPage } from './pages/sessions-page';
import { match, navigate, usePath } from './router';

function route(path: string, authEpoch: number): ReactNode {
  let p: Record<string, string> | null;
  if ((p = match('/persons/:id', path))) return <PersonPage key={`${p.id}-${authEpoch}`} id={Number(p.id)} />;
  if (match('/persons', path)) return <PersonsPage key={authEpoch} />;
  if ((p = match('/groups/:id', path))) return <GroupPage key={`${p.id}-${authEpoch}`} id={Number(p.id)} />;
  if (match('/groups', path)) return <GroupsPage key={authEpoch} />;
  if ((p = match('/sessions/:id', path))) return <SessionPage key={`${p.id}-${authEpoch}`} id={Number(p.id)} />;
  if (match('/sessions', path)) return <SessionsPage key={authEpoch} />;
  return (
    <section>
      <h1>Page not found</h1>
      <p>
        Nothing lives at <code>{path}</code>. <Link to="/sessions">Go to sessions</Link>.
      </p>
    </section>
  );
}

const NAV = [
  ['/sessions', 'Sessions'],
  ['/groups', 'Groups'],
  ['/persons', 'Persons'],
] as const;

export function App() {
  const path = usePath();
  const [needKey, setNeedKey] = useState(false);
  // Bumped after a key is entered so the current page loads again with it.
  const [authEpoch, setAuthEpoch] = useState(0);
  const [me, setMe] = useState<Me | null>(null);
  useEffect(() => onAuthRequired(() => setNeedKey(true)), []);
  useEffect(() => {
    let live = true;
    setMe(null);
    get<Me>('me/').then(
      (m) => live && setMe(m),
      () => undefined, // 401: the key prompt is up; the next key loads it again
    );
    return () => {
      live = false;
    };
  }, [authEpoch]);
  useEffect(() => {
    if (path === '/') navigate('/sessions');
  }, [path]);

  return (
    <MeContext.Provider value={me}>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <span className="brand">faceembed attendance</span>
        <nav aria-label="Main">
          {NAV.map(([to, label]) => (
            <Link key={to} to={to} className={path.startsWith(to) ? 'active' : undefined}>
              {label}
            </Link>
          ))}
          <a href="/docs">API docs</a>
        </nav>
        {me && (
          <span className="hint key-badge" aria-label="API key in use">
            {me.name} · {me.role === 'reader' ? 'read only' : me.role}
          </span>
        )}
      </header>
      <main id="main">
        <ErrorBoundary resetKey={path}>{path === '/' ? null : route(path, authEpoch)}</ErrorBoundary>
      </main>
      {needKey && (
        <KeyPrompt
          onDone={() => {
            setNeedKey(false);
            setAuthEpoch((n) => n + 1);
          }}
        />
      )}
    </MeContext.Provider>
  );
}
