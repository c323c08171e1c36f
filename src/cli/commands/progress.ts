// A one-line progress bar on stderr (redrawn in place on a terminal, one final line otherwise).

export function progressLine(label: string, total: number): { tick(n?: number): void; done(): void } {
  let count = 0;
  const started = Date.now();
  const tty = process.stderr.isTTY;
  const draw = () => {
    const width = 30;
    const filled = total ? Math.round((count / total) * width) : width;
    const rate = count / Math.max(0.001, (Date.now() - started) / 1000);
    process.stderr.write(
      `\r${label} [${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${count}/${total} ${rate.toFixed(1)}/s`,
    );
  };
  return {
    tick(n = 1) {
      count += n;
      if (tty) draw();
    },
    done() {
      draw();
      process.stderr.write('\n');
    },
  };
}
