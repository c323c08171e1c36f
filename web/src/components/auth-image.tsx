// An image from the API. <img src> cannot send the API key, so the bytes are fetched with it
// and shown from an object URL (revoked when the component goes away).
import { useEffect, useState } from 'react';
import { getBlob } from '../api/client';

export function AuthImage({ path, alt, className }: { path: string; alt: string; className?: string }) {
  const [url, setUrl] = useState<string>();
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    let objectUrl: string | undefined;
    let live = true;
    getBlob(path)
      .then((blob) => {
        if (!live) return;
        objectUrl = URL.createObjectURL(blob);
        setUrl(objectUrl);
      })
      .catch(() => live && setFailed(true));
    return () => {
      live = false;
      if (objectUrl) URL.revokeObjectURL(objectUrl);
    };
  }, [path]);
  if (failed) return <span className={`thumb-missing ${className ?? ''}`}>{alt}: image unavailable</span>;
  return url ? (
    <img src={url} alt={alt} className={className} />
  ) : (
    <span className={`thumb-loading ${className ?? ''}`} />
  );
}

export const cropImagePath = (faceCropId: number) => `face-crops/${faceCropId}/image`;
