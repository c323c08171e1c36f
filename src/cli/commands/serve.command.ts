import { Option, type Command } from 'commander';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('Serve the HTTP API')
    .addOption(new Option('--host <host>', 'bind address').env('FACEEMBED_HOST'))
    .addOption(new Option('--port <port>', 'port').env('FACEEMBED_PORT'))
    .action(async (flags: { host?: string; port?: string }) => {
      const { serve } = await import('../../main.js');
      await serve(flags);
    });
}
