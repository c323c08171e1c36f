// Files by drag and drop, or by the file picker (the keyboard path): both call onFiles.
import { useRef, useState, type DragEvent } from 'react';

export function DropZone({
  label,
  multiple = true,
  disabled,
  onFiles,
}: {
  label: string;
  multiple?: boolean;
  disabled?: boolean;
  onFiles: (files: File[]) => void;
}) {
  const input = useRef<HTMLInputElement>(null);
  const [over, setOver] = useState(false);
  const images = (list: FileList | null) =>
    Array.from(list ?? []).filter((f) => f.type.startsWith('image/') || !f.type);
  const drop = (e: DragEvent) => {
    e.preventDefault();
    setOver(false);
    if (!disabled) onFiles(images(e.dataTransfer.files));
  };
  return (
    <div
      className={`drop-zone${over ? ' over' : ''}`}
      onDragOver={(e) => {
        e.preventDefault();
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={drop}
    >
      <p>Drop photos here, or</p>
      <label className="button">
        {label}
        <input
          ref={input}
          type="file"
          accept="image/*"
          multiple={multiple}
          disabled={disabled}
          className="visually-hidden"
          onChange={(e) => {
            onFiles(images(e.target.files));
            if (input.current) input.current.value = '';
          }}
        />
      </label>
    </div>
  );
}
