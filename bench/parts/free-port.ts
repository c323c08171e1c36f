// A port for a server a benchmark or a test starts as a child process (tests may use bench/ helpers; bench/ never imports test/).
import net from 'node:net';

/** A free TCP port on 127.0.0.1 (bound to 0, then released for the server to take). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}
