// The faces nobody matched in the group's sessions, grouped by person: a strip of faces per
// cluster, the sessions they were seen in, and one click to make them a person (new, or the
// roster member they resemble most). A wrong face is taken out of its cluster.
import { useState } from 'react';
import { get, post } from '../../api/client';
import type { ClusterEnrolment, Person, UnknownCluster } from '../../api/types';
import { AuthImage, cropImagePath } from '../../components/auth-image';
import { ErrorNotice, Link, useAction, useLoad } from '../../components/common';
import { useCan } from '../../access';

/** Faces shown per cluster; the rest are counted. */
const STRIP = 8;

function ClusterCard({
  groupId,
  cluster,
  members,
  onChanged,
}: {
  groupId: number;
  cluster: UnknownCluster;
  members: ReadonlyMap<number, Person>;
  onChanged: () => Promise<void>;
}) {
  const [name, setName] = useState('');
  const action = useAction();
  const can = useCan();
  const base = `groups/${groupId}/unknown-clusters/${cluster.id}`;
  const nearest = cluster.nearest_person && members.get(cluster.nearest_person.person_id);
  const enrol = (body: object) =>
    action.run(async () => {
      await post<ClusterEnrolment>(`${base}/enrol/`, body);
      await onChanged();
    });
  const takeOut = (faceCropId: number) =>
    action.run(async () => {
      await post(`${base}/split/`, { face_crop_ids: [faceCropId] });
      await onChanged();
    });
  return (
    <li className="cluster" data-cluster-id={cluster.id}>
      <ul className="face-strip" aria-label={`Faces of cluster ${cluster.id}`}>
        {cluster.face_crop_ids.slice(0, STRIP).map((faceId) => (
          <li key={faceId}>
            <AuthImage path={cropImagePath(faceId)} alt={`Face ${faceId}`} className="thumb" />
            {can.write && cluster.size > 1 && (
              <button
                type="button"
                className="small"
                disabled={action.busy}
                onClick={() => void takeOut(faceId)}
                aria-label={`Not the same person: take face ${faceId} out`}
              >
                ✕
              </button>
            )}
          </li>
        ))}
        {cluster.size > STRIP && <li className="hint">+{cluster.size - STRIP} more</li>}
      </ul>
      <p className="hint">
        {cluster.size} face{cluster.size === 1 ? '' : 's'}, seen in{' '}
        {cluster.session_ids.map((sid, i) => (
          <span key={sid}>
            {i > 0 && ', '}
            <Link to={`/sessions/${sid}`}>session {sid}</Link>
          </span>
        ))}
      </p>
      {can.write && (
        <div className="actions">
          {nearest && (
            <button type="button" disabled={action.busy} onClick={() => void enrol({ person_id: nearest.id })}>
              This is {nearest.name} ({cluster.nearest_person!.similarity.toFixed(3)})
            </button>
          )}
          <label>
            New person&apos;s name
            <input value={name} onChange={(e) => setName(e.target.value)} placeholder="name" />
          </label>
          <button
            type="button"
            disabled={action.busy || !name.trim()}
            onClick={() => void enrol({ name: name.trim() })}
          >
            Enrol as new person
          </button>
        </div>
      )}
      <ErrorNotice error={action.error} onDismiss={action.clear} />
    </li>
  );
}

export function UnknownClusters({
  groupId,
  members,
  onChanged,
}: {
  groupId: number;
  members: readonly Person[];
  onChanged: () => Promise<unknown>;
}) {
  const clusters = useLoad(() => get<{ clusters: UnknownCluster[] }>(`groups/${groupId}/unknown-clusters/`), [groupId]);
  const byId = new Map(members.map((m) => [m.id, m]));
  const changed = async () => {
    await Promise.all([clusters.reload(), onChanged()]);
  };
  const list = clusters.data?.clusters ?? [];
  return (
    <div>
      <h2>Unknown faces by person ({list.length})</h2>
      <ErrorNotice error={clusters.error} />
      <ul className="clusters" aria-label="Unknown faces by person">
        {list.map((c) => (
          <ClusterCard key={c.id} groupId={groupId} cluster={c} members={byId} onChanged={changed} />
        ))}
        {clusters.data && list.length === 0 && (
          <li className="hint">No unknown faces in this group&apos;s sessions.</li>
        )}
      </ul>
    </div>
  );
}
