// The package's own version (package.json), shown in the OpenAPI document.
import { readFileSync } from 'node:fs';

// Compiled to dist/src/config/: the package root is three levels up.
const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };

export const PACKAGE_VERSION: string = pkg.version;
