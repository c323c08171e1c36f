// A class photo with every face boxed: green and named when matched, amber when unknown.
// One SVG in the photo's own pixel space, so boxes stay on their faces at any width. Each box
// is focusable; its tooltip (and accessible name) gives the name and the similarity.
import type { FaceStatus } from '../api/types';

export interface ShownFace {
  faceCropId: number;
  /** [x, y, width, height] in the photo's pixels */
  box: number[];
  status: FaceStatus;
  name: string | null;
  similarity: number | null;
}

export function PhotoFaces({
  src,
  width,
  height,
  faces,
  title,
}: {
  src: string | undefined;
  width: number;
  height: number;
  faces: ShownFace[];
  title: string;
}) {
  // Stroke and label size follow the photo's size so they read the same on any photo.
  const unit = Math.max(width, height) / 400;
  return (
    <figure className="photo">
      <svg viewBox={`0 0 ${width} ${height}`} role="group" aria-label={title} className="photo-svg">
        {src && <image href={src} x={0} y={0} width={width} height={height} />}
        {faces.map((f) => {
          const [x = 0, y = 0, w = 0, h = 0] = f.box;
          const label = f.status === 'unknown' ? 'unknown' : (f.name ?? f.status);
          const sim = f.similarity === null ? '' : ` · similarity ${f.similarity.toFixed(3)}`;
          return (
            <g
              key={f.faceCropId}
              className={`face ${f.status}`}
              tabIndex={0}
              aria-label={`${label}${sim}`}
              data-face-crop-id={f.faceCropId}
            >
              <title>{`${label}${sim}`}</title>
              <rect x={x} y={y} width={w} height={h} strokeWidth={unit * 1.5} fill="transparent" />
              <text x={x} y={Math.max(y - unit * 2, unit * 8)} fontSize={unit * 8} strokeWidth={unit * 0.8}>
                {label}
              </text>
            </g>
          );
        })}
      </svg>
      <figcaption>
        {faces.filter((f) => f.status === 'matched').length} matched,{' '}
        {faces.filter((f) => f.status === 'unknown').length} unknown
      </figcaption>
    </figure>
  );
}
