// One attendance session: upload class photos, see every face boxed, fix the roster, assign
// unknown faces, close, download the CSV, read the audit trail.
import { useState } from 'react';
import { get, getBlob, post } from '../api/client';
import type { Group, Session, UploadedPhoto } from '../api/types';
import { ErrorNotice, Link, useAction, useLoad } from '../components/common';
import { useCan } from '../access';
import { AuditTrail } from './session/audit-trail';
import { ReviewFaces } from './session/review-faces';
import { RosterList } from './session/roster-list';
import { SessionPhotos } from './session/session-photos';
import { UnknownFaces } from './session/unknown-faces';

export function SessionPage({ id }: { id: number }) {
  const session = useLoad(() => get<Session>(`sessions/${id}/`), [id]);
  const group = useLoad(
    async () => (session.data ? get<Group>(`groups/${session.data.group_id}/`) : undefined),
    [session.data?.group_id],
  );
  const [uploaded, setUploaded] = useState<UploadedPhoto[]>([]);
  const [auditEpoch, setAuditEpoch] = useState(0);
  const action = useAction();

  const s = session.data;
  const can = useCan();
  const closed = s?.status === 'closed';
  const changed = async () => {
    await session.reload();
    setAuditEpoch((n) => n + 1);
  };

  const close = () =>
    action.run(async () => {
      await post(`sessions/${id}/close/`);
      await changed();
    });
  const downloadCsv = () =>
    action.run(async () => {
      const blob = await getBlob(`sessions/${id}/attendance.csv`);
      const url = URL.createObjectURL(blob);
      const a = document.createElement('a');
      a.href = url;
      a.download = `attendance-session-${id}.csv`;
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    });

  return (
    <section>
      <p>
        <Link to="/sessions">← Sessions</Link>
      </p>
      <ErrorNotice error={session.error} />
      {s && (
        <>
          <div className="session-head">
            <div>
              <h1>{s.name || `Session ${s.id}`}</h1>
              <p className="hint">
                {group.data ? <Link to={`/groups/${group.data.id}`}>{group.data.name}</Link> : `Group #${s.group_id}`}
                {' · '}
                <span className={`badge ${s.status}`}>{s.status}</span>
              </p>
            </div>
            <dl className="summary" aria-label="Summary">
              <div>
                <dt>Present</dt>
                <dd data-testid="present-count">{s.summary.present}</dd>
              </div>
              <div>
                <dt>Absent</dt>
                <dd data-testid="absent-count">{s.summary.absent}</dd>
              </div>
              <div>
                <dt>Unknown</dt>
                <dd data-testid="unknown-count">{s.summary.unknown}</dd>
              </div>
            </dl>
            <div className="actions">
              <button type="button" onClick={() => void downloadCsv()} disabled={action.busy}>
                Download CSV
              </button>
              {!closed && can.write && (
                <button type="button" className="danger" onClick={() => void close()} disabled={action.busy}>
                  Close session
                </button>
              )}
            </div>
          </div>
          <ErrorNotice error={action.error} onDismiss={action.clear} />
          <ReviewFaces session={s} onChanged={changed} />
          <SessionPhotos
            session={s}
            uploaded={uploaded}
            onUploaded={(photo) => {
              setUploaded((list) => [...list, photo]);
              void changed();
            }}
          />
          <div className="columns">
            <RosterList session={s} onChanged={changed} />
            <UnknownFaces session={s} onChanged={changed} />
          </div>
          <AuditTrail sessionId={id} epoch={auditEpoch} />
        </>
      )}
    </section>
  );
}
